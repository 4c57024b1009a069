import fs from 'node:fs';
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

/**
 * Starts the real service (src/main.ts) as its own process and waits until /readyz answers 200 from it; on env.PORT
 * when given (a restart on the same address), else on a free port. A free port can be taken by another test's
 * server between freePort() and our bind: that server would answer /readyz for ours (whose bind then fails) and
 * the test would talk to the wrong ledger (401, or ECONNREFUSED once it closes). So the answer counts only when our
 * process holds the listening socket (Linux: /proc), and a start whose port was taken is retried on another port.
 */
export async function startService(env: Record<string, string>, readyTimeoutMs = 240_000): Promise<ServiceProcess> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startOnce(env, readyTimeoutMs);
    } catch (error) {
      if (!(error instanceof PortTaken) || env.PORT || attempt >= 3) throw error;
    }
  }
}

class PortTaken extends Error {}

/** Whether process `pid` holds a socket listening on TCP `port` (true where /proc cannot tell). */
function listensOn(pid: number, port: number): boolean {
  let inodes: Set<string>;
  try {
    inodes = new Set(
      fs
        .readdirSync(`/proc/${pid}/fd`)
        .map((fd) => {
          try {
            return /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
          } catch {
            return undefined;
          }
        })
        .filter((inode): inode is string => inode !== undefined),
    );
  } catch {
    return true;
  }
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = fs.readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is ADDR:PORT in hex, st 0A is LISTEN, the tenth field the socket's inode.
      if (fields.length > 9 && fields[1]?.endsWith(`:${hexPort}`) && fields[3] === '0A' && inodes.has(fields[9] as string)) return true;
    }
  }
  return false;
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
  // Another process answered /readyz on our port: if ours then dies, the port was taken.
  let foreignAnswer = false;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      if (foreignAnswer || /EADDRINUSE/.test(output)) throw new PortTaken(`port ${port} was taken by another process:\n${output}`);
      throw new Error(`service exited with ${child.exitCode}:\n${output}`);
    }
    try {
      const response = await fetch(`${baseUrl}/readyz`);
      if (response.status === 200) {
        if (listensOn(child.pid as number, port)) return { child, baseUrl, output: () => output };
        foreignAnswer = true;
      }
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
