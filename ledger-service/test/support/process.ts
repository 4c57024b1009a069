import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

const SERVICE_ROOT = path.resolve(__dirname, '..', '..');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

export interface ServiceProcess {
  child: ChildProcess;
  baseUrl: string;
  output(): string;
}

/** Starts the real service (src/main.ts) as its own process and waits until /readyz answers 200; on env.PORT when given (a restart on the same address), else on a free port. */
export async function startService(env: Record<string, string>, readyTimeoutMs = 240_000): Promise<ServiceProcess> {
  // A free port can be taken by another test's process between freePort() and our bind: that one's /readyz would
  // answer for ours, whose bind then fails. So a start is confirmed by our process still running a moment after
  // the answer, and one that died is retried on another port (never with env.PORT, which the caller chose).
  for (let attempt = 1; ; attempt += 1) {
    const service = await startOnce(env, readyTimeoutMs);
    const exited = await Promise.race([
      new Promise<boolean>((resolve) => service.child.once('exit', () => resolve(true))),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(service.child.exitCode !== null), 1_000)),
    ]);
    if (!exited) return service;
    if (env.PORT || attempt >= 3) throw new Error(`service exited right after /readyz answered (${service.baseUrl}):\n${service.output()}`);
  }
}

async function startOnce(env: Record<string, string>, readyTimeoutMs: number): Promise<ServiceProcess> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  // `node --import tsx`, not the tsx wrapper: the wrapper runs the service in a child process that a SIGKILL to
  // the wrapper would leave running.
  // VEIL_SERVICE_NODE_ARGS passes flags such as --cpu-prof to the service (NODE_OPTIONS refuses some of them).
  const nodeArgs = (process.env.VEIL_SERVICE_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'src/main.ts'], {
    cwd: SERVICE_ROOT,
    // Cheap password hashing: these processes sign in on every start, and the cost is not what is measured.
    env: { ...process.env, PORT: String(port), LOG_LEVEL: 'warn', VEIL_ARGON2_MEMORY_KIB: '64', VEIL_ARGON2_TIME_COST: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + readyTimeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}:\n${output}`);
    try {
      const response = await fetch(`${baseUrl}/readyz`);
      if (response.status === 200) return { child, baseUrl, output: () => output };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`service not ready after ${readyTimeoutMs} ms:\n${output}`);
}

export async function killHard(service: ServiceProcess): Promise<void> {
  if (service.child.exitCode !== null) return;
  const exited = new Promise((resolve) => service.child.once('exit', resolve));
  service.child.kill('SIGKILL');
  await exited;
}

const SERVICE_PASSWORD = 'Process-Test-Passphrase-7';

/**
 * Registers the instance's first user (the owner) when the instance is new, and signs in: the bearer token a
 * client of a real service process needs. Idempotent across restarts of the same data.
 */
export async function signIn(baseUrl: string, email = 'owner@veil.test'): Promise<string> {
  const body = JSON.stringify({ email, password: SERVICE_PASSWORD });
  const headers = { 'content-type': 'application/json' };
  const registered = await fetch(`${baseUrl}/auth/register`, { method: 'POST', headers, body });
  if (registered.status !== 201 && registered.status !== 403) {
    throw new Error(`register: ${registered.status} ${await registered.text()}`);
  }
  const login = await fetch(`${baseUrl}/auth/login`, { method: 'POST', headers, body });
  if (login.status !== 200) throw new Error(`login: ${login.status} ${await login.text()}`);
  return ((await login.json()) as { accessToken: string }).accessToken;
}
