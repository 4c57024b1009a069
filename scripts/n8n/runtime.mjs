// Driving a real n8n 2.41.1 without a browser: reusable by the tests and by workflow templates.
//
//   const n8n = await createN8n();                 // fresh user folder, pinned n8n + Node 24 from the cache
//   await n8n.installPack(await packNodes());      // the `npm pack`ed node pack, as a community package
//   await n8n.importCredentials([{ id, name, type: 'veilApi', data: { baseUrl, apiToken } }]);
//   await n8n.importWorkflow(workflowJson);        // workflowJson.id is what `execute` takes
//   const run = await n8n.execute(workflowJson.id); // `n8n execute --id --rawOutput`, parsed: { ok, data, output }
//   const server = await n8n.start();              // `n8n start` on free ports, ready when /healthz/readiness is 200
//   const api = await server.apiKey();             // owner set up, public API key created
//   await server.activate(id); await server.waitForWebhook(url);
//   await server.executions(id);                   // /api/v1/executions?includeData=true
//   await server.stop(); n8n.cleanup();
//
// Queue mode (docker-compose.yml's topology): createN8n({ env: { DB_TYPE: 'postgresdb', …, EXECUTIONS_MODE: 'queue',
// QUEUE_BULL_* } }), `n8n.mountPack()` (the pack where compose mounts it), `start()` for the main process and
// `startWorker({ healthPort, brokerPort })` for `n8n worker`: see test/n8n/queue.test.mjs.
//
// Facts this relies on are in ../shared/N8N-NOTES.md (headless env vars, the task broker port, CLI import/execute,
// activation through the public API).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { ensureN8n, n8nDir } from './install.mjs';
import { freePort } from './ledger.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const PACKAGE_NAME = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).name;
/** The node type names real users get for a community package: `<package>.<node name>`. */
export const nodeType = (name) => `${PACKAGE_NAME}.${name}`;

/** Builds the pack (n8n-node build) and `npm pack`s it into a temp folder; returns the tarball's path. */
export function packNodes({ build = true } = {}) {
  if (build) {
    const built = spawnSync(path.join(root, 'node_modules', '.bin', 'n8n-node'), ['build'], { cwd: root, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
    if (built.status !== 0) throw new Error(`n8n-node build failed:\n${built.stdout}\n${built.stderr}`);
  }
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-pack-'));
  const packed = spawnSync('npm', ['pack', '--pack-destination', out, '--loglevel=error', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
  if (packed.status !== 0) throw new Error(`npm pack failed:\n${packed.stderr}`);
  const file = fs.readdirSync(out).find((name) => name.endsWith('.tgz'));
  return path.join(out, file);
}

// ---- workflow templates (workflows-templates/) ----

export const TEMPLATES_DIR = path.join(root, 'workflows-templates');
/** What a user chooses after importing a template: every `__NAME__` string in a template is one of these. */
export const TEMPLATE_PLACEHOLDERS = [
  'LLC_ENTITY', 'LLC_CHECKING', 'LLC_TAX_RESERVE', 'LLC_EXPENSE',
  'PERSONAL_ENTITY', 'PERSONAL_CHECKING', 'PERSONAL_SAVINGS', 'PERSONAL_CARD', 'INVESTMENT_ACCOUNT',
  'VEIL_URL', 'NOTIFY_URL',
];

export function templateFiles() {
  return fs.readdirSync(TEMPLATES_DIR).filter((name) => name.endsWith('.json')).sort();
}

export function readTemplate(file) {
  return JSON.parse(fs.readFileSync(path.join(TEMPLATES_DIR, file), 'utf8'));
}

/**
 * A template as the user would have it after choosing: every `__NAME__` replaced (values are JSON-escaped), and an
 * id for `n8n import:workflow` / `execute --id`. Throws when the template uses a placeholder it was not given.
 */
export function instantiateTemplate(file, choices, id) {
  const text = fs.readFileSync(path.join(TEMPLATES_DIR, file), 'utf8').replace(/__([A-Z_]+?)__/g, (match, name) => {
    if (!(name in choices)) throw new Error(`${file} needs a value for ${match}`);
    return JSON.stringify(String(choices[name])).slice(1, -1);
  });
  return { ...JSON.parse(text), id, active: false };
}

/**
 * The node types a workflow may use: n8n's own (n8n-nodes-base, from its published nodes.json, with their
 * versions) and the pack's (from the built dist/, as n8n loads them). `packNodes()` builds dist first.
 */
export function knownNodeTypes() {
  const known = new Map();
  const base = JSON.parse(fs.readFileSync(path.join(n8nDir(), 'node_modules', 'n8n-nodes-base', 'dist', 'types', 'nodes.json'), 'utf8'));
  for (const description of base) {
    const versions = [description.version].flat();
    const type = `n8n-nodes-base.${description.name}`;
    known.set(type, [...(known.get(type) ?? []), ...versions]);
  }
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const requireFromRoot = createRequire(path.join(root, 'package.json'));
  for (const file of manifest.n8n.nodes) {
    const loaded = requireFromRoot(path.join(root, file));
    for (const NodeClass of Object.values(loaded)) {
      const description = typeof NodeClass === 'function' ? new NodeClass().description : undefined;
      if (description?.name === undefined) continue;
      known.set(nodeType(description.name), [description.version].flat());
    }
  }
  return known;
}

export function lastJson(stdout) {
  // n8n mixes log lines into stdout: the JSON starts at the first line that starts with `{`.
  const lines = stdout.split('\n');
  const start = lines.findIndex((line) => line.startsWith('{'));
  if (start < 0) return undefined;
  try {
    return JSON.parse(lines.slice(start).join('\n'));
  } catch {
    // A log line can land inside the pretty-printed JSON on a loaded machine (seen: the run data of a successful
    // execution unparseable). Every line of that JSON starts with indentation or a bracket: drop the others.
    const jsonLines = lines.slice(start).filter((line, index) => index === 0 || /^(\s|[\]}])/.test(line));
    try {
      return JSON.parse(jsonLines.join('\n'));
    } catch {
      return undefined;
    }
  }
}

/**
 * `userFolder`: n8n's N8N_USER_FOLDER (a fresh temp folder by default). `encryptionKey`: the tests' fixed key by
 * default; `null` leaves it to n8n, which generates one into `<userFolder>/.n8n/config` on its first start (or takes
 * N8N_ENCRYPTION_KEY from the environment). `env`: extra environment for every n8n process of this user folder,
 * applied last (e.g. DB_TYPE=postgresdb and EXECUTIONS_MODE=queue with QUEUE_BULL_*, so the CLI imports, `start`
 * and `startWorker` share one database and one queue).
 */
export async function createN8n({ userFolder, encryptionKey, env: sharedEnv = {} } = {}) {
  const paths = await ensureN8n();
  const folder = userFolder ?? fs.mkdtempSync(path.join(os.tmpdir(), 'veil-n8n-'));
  fs.mkdirSync(folder, { recursive: true });
  const baseEnv = {
    ...process.env,
    PATH: `${paths.nodeBinDir}:${process.env.PATH}`,
    N8N_USER_FOLDER: folder,
    N8N_DIAGNOSTICS_ENABLED: 'false',
    N8N_PERSONALIZATION_ENABLED: 'false',
    N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
    N8N_LISTEN_ADDRESS: '127.0.0.1',
    N8N_ENCRYPTION_KEY: encryptionKey === null ? process.env.N8N_ENCRYPTION_KEY : (encryptionKey ?? 'veil-test-encryption-key-0123456789'),
    N8N_SECURE_COOKIE: 'false',
    N8N_LOG_LEVEL: 'warn',
    N8N_COMMUNITY_PACKAGES_ENABLED: 'true',
    DB_SQLITE_POOL_SIZE: '1',
    N8N_UNVERIFIED_PACKAGES_ENABLED: 'true',
    // On a loaded machine the JS task runner can take longer than the default 30 s to connect.
    N8N_RUNNERS_GRANT_TOKEN_TTL: '300',
    ...sharedEnv,
  };
  if (baseEnv.N8N_ENCRYPTION_KEY === undefined) delete baseEnv.N8N_ENCRYPTION_KEY;

  async function cli(args, extraEnv = {}) {
    // A CLI run beside a running server needs its own task-broker port.
    const env = { ...baseEnv, N8N_RUNNERS_BROKER_PORT: String(await freePort()), N8N_PORT: String(await freePort()), ...extraEnv };
    return new Promise((resolve) => {
      const child = spawn(paths.node, [paths.n8n, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.stderr.on('data', (chunk) => (stderr += chunk));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  function writeTemp(name, value) {
    const file = path.join(folder, name);
    fs.writeFileSync(file, JSON.stringify(value));
    return file;
  }

  return {
    folder,
    cli,
    /** Installs a packed node pack as a community package (what n8n's own installer does, minus the registry). */
    async installPack(tarball) {
      const nodesDir = path.join(folder, '.n8n', 'nodes');
      fs.mkdirSync(nodesDir, { recursive: true });
      if (!fs.existsSync(path.join(nodesDir, 'package.json'))) fs.writeFileSync(path.join(nodesDir, 'package.json'), JSON.stringify({ name: 'installed-nodes', private: true, dependencies: {} }));
      const result = spawnSync('npm', ['install', tarball, '--ignore-scripts', '--legacy-peer-deps', '--no-audit', '--no-fund', '--loglevel=error', '--omit=peer'], { cwd: nodesDir, encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`installing the pack failed:\n${result.stderr}`);
    },
    /**
     * Puts the built pack (./dist and package.json, built first unless `build` is false) where docker-compose.yml
     * mounts it: `.n8n/nodes/node_modules/<name>`, with no npm install and no nodes/package.json. n8n scans that
     * folder for community packages at start.
     */
    mountPack({ build = true } = {}) {
      if (build) {
        const built = spawnSync(path.join(root, 'node_modules', '.bin', 'n8n-node'), ['build'], { cwd: root, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
        if (built.status !== 0) throw new Error(`n8n-node build failed:\n${built.stdout}\n${built.stderr}`);
      }
      const target = path.join(folder, '.n8n', 'nodes', 'node_modules', PACKAGE_NAME);
      fs.mkdirSync(target, { recursive: true });
      fs.cpSync(path.join(root, 'dist'), path.join(target, 'dist'), { recursive: true });
      fs.copyFileSync(path.join(root, 'package.json'), path.join(target, 'package.json'));
    },
    /** `credentials`: n8n's export format ([{ id, name, type, data }]); plain `data` is encrypted on import. */
    async importCredentials(credentials) {
      const result = await cli(['import:credentials', `--input=${writeTemp('credentials.json', credentials)}`]);
      if (result.code !== 0) throw new Error(`import:credentials failed:\n${result.stdout}\n${result.stderr}`);
    },
    async importWorkflow(workflow) {
      const result = await cli(['import:workflow', `--input=${writeTemp(`workflow-${workflow.id}.json`, workflow)}`]);
      if (result.code !== 0) throw new Error(`import:workflow failed:\n${result.stdout}\n${result.stderr}`);
    },
    /**
     * Imports several workflows with one `n8n import:workflow` (a run costs seconds): each keeps its `id`, so
     * importing one again replaces it rather than adding a copy. Works beside a running server.
     */
    async importWorkflows(workflows) {
      if (workflows.length === 0) return;
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-n8n-import-'));
      try {
        const file = path.join(dir, 'workflows.json');
        fs.writeFileSync(file, JSON.stringify(workflows));
        const result = await cli(['import:workflow', `--input=${file}`]);
        if (result.code !== 0) throw new Error(`import:workflow failed:\n${result.stdout}\n${result.stderr}`);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
    /** Runs an imported workflow once; `data` is n8n's run data (`--rawOutput`), `ok` false when a node failed. */
    async execute(workflowId) {
      // The CLI prints the run through n8n's logger: at `warn` it would print nothing.
      const result = await cli(['execute', `--id=${workflowId}`, '--rawOutput'], { N8N_LOG_LEVEL: 'info' });
      return { ok: result.code === 0, data: lastJson(result.stdout), output: `${result.stdout}\n${result.stderr}` };
    },
    /**
     * Starts `n8n start` and resolves when /healthz/readiness answers 200. On free ports unless `port` (the editor
     * and API) and `brokerPort` (the task broker) are given; `env` is extra environment for this process.
     * `onOutput(chunk)` sees n8n's output as it comes; `onSpawn(child)` gets the process at once (so a caller can
     * stop it while it is still starting); `detached` puts n8n and its task runners in a process group of their own.
     */
    async start({ port: fixedPort, brokerPort, env: extraEnv = {}, onOutput, onSpawn, detached = false } = {}) {
      const port = fixedPort === undefined ? await freePort() : Number(fixedPort);
      const env = {
        ...baseEnv,
        N8N_PORT: String(port),
        N8N_RUNNERS_BROKER_PORT: String(brokerPort ?? (await freePort())),
        WEBHOOK_URL: `http://127.0.0.1:${port}/`,
        ...extraEnv,
      };
      const child = spawn(paths.node, [paths.n8n, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'], detached });
      onSpawn?.(child);
      let output = '';
      const keep = (chunk) => {
        // A long-running n8n keeps only its recent output for `output()`.
        output = (output + chunk).slice(-200_000);
        onOutput?.(chunk);
      };
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      const baseUrl = `http://127.0.0.1:${port}`;
      // ~11 s on a quiet machine; a shared 2-core machine under load has needed more than 2 minutes.
      const deadline = Date.now() + 300_000;
      for (;;) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`n8n exited with ${child.exitCode ?? child.signalCode}:\n${output}`);
        try {
          if ((await fetch(`${baseUrl}/healthz/readiness`)).status === 200) break;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline) {
          child.kill('SIGKILL');
          throw new Error(`n8n not ready after 300 s:\n${output}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      let apiKey;
      const api = async (method, urlPath, body) => {
        const response = await fetch(`${baseUrl}/api/v1${urlPath}`, {
          method,
          headers: { 'X-N8N-API-KEY': apiKey, accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) },
          body: body ? JSON.stringify(body) : undefined,
        });
        const text = await response.text();
        if (!response.ok) throw new Error(`${method} /api/v1${urlPath}: ${response.status} ${text}`);
        return text ? JSON.parse(text) : undefined;
      };
      return {
        baseUrl,
        port,
        child,
        output: () => output,
        /**
         * A cookie session on n8n's internal REST API as its owner: sets the owner up on a fresh n8n (`created`
         * true), else signs in. `rest(method, path, body)` answers the `data` of n8n's JSON and throws on any error.
         */
        async ownerSession({ email, password, firstName = 'Veil', lastName = 'Owner' }) {
          const settings = await fetch(`${baseUrl}/rest/settings`).then((response) => response.json());
          const created = settings.data?.userManagement?.showSetupOnFirstLoad === true;
          const response = await fetch(`${baseUrl}/rest/${created ? 'owner/setup' : 'login'}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(created ? { email, firstName, lastName, password } : { emailOrLdapLoginId: email, password }),
          });
          if (!response.ok) throw new Error(`n8n ${created ? 'owner setup' : 'sign-in'} as ${email}: ${response.status} ${await response.text()}`);
          const cookie = (response.headers.getSetCookie?.() ?? [response.headers.get('set-cookie') ?? '']).map((value) => value.split(';')[0]).join('; ');
          const rest = async (method, urlPath, body) => {
            const answer = await fetch(`${baseUrl}/rest${urlPath}`, {
              method,
              headers: { cookie, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
              body: body === undefined ? undefined : JSON.stringify(body),
            });
            const text = await answer.text();
            if (!answer.ok) throw new Error(`${method} /rest${urlPath}: ${answer.status} ${text}`);
            return text ? JSON.parse(text).data : undefined;
          };
          return { created, rest };
        },
        /** Sets up the owner (cookie session) and creates a public API key with every scope. */
        async apiKey() {
          const setup = await fetch(`${baseUrl}/rest/owner/setup`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ email: 'owner@n8n.test', firstName: 'Veil', lastName: 'Owner', password: 'N8n-Owner-Passw0rd!' }),
          });
          if (!setup.ok) throw new Error(`owner setup: ${setup.status} ${await setup.text()}`);
          const cookie = (setup.headers.getSetCookie?.() ?? [setup.headers.get('set-cookie') ?? '']).map((value) => value.split(';')[0]).join('; ');
          const rest = async (method, urlPath, body) => {
            const response = await fetch(`${baseUrl}/rest${urlPath}`, {
              method,
              headers: { cookie, 'content-type': 'application/json' },
              body: body ? JSON.stringify(body) : undefined,
            });
            if (!response.ok) throw new Error(`${method} /rest${urlPath}: ${response.status} ${await response.text()}`);
            return (await response.json()).data;
          };
          const scopes = await rest('GET', '/api-keys/scopes');
          const created = await rest('POST', '/api-keys', { label: 'veil-tests', scopes, expiresAt: null });
          apiKey = created.rawApiKey;
          return apiKey;
        },
        api,
        /** Activation through the public API (imported `active: true` workflows are not registered). */
        async activate(workflowId) {
          await api('POST', `/workflows/${workflowId}/deactivate`).catch(() => undefined);
          return api('POST', `/workflows/${workflowId}/activate`);
        },
        async deactivate(workflowId) {
          return api('POST', `/workflows/${workflowId}/deactivate`);
        },
        /** Polls until a production webhook stops answering 404 (it is registered). */
        async waitForWebhook(url, timeoutMs = 30_000) {
          const deadline = Date.now() + timeoutMs;
          for (;;) {
            const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
            await response.text();
            if (response.status !== 404) return response.status;
            if (Date.now() > deadline) throw new Error(`webhook ${url} still 404 after ${timeoutMs} ms`);
            await new Promise((resolve) => setTimeout(resolve, 200));
          }
        },
        async executions(workflowId) {
          return (await api('GET', `/executions?workflowId=${workflowId}&includeData=true`)).data;
        },
        async stop() {
          if (child.exitCode !== null) return;
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.kill('SIGTERM');
          await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
          if (child.exitCode === null) child.kill('SIGKILL');
        },
      };
    },
    /**
     * Starts `n8n worker` (queue mode: the `env` given to createN8n must set EXECUTIONS_MODE=queue, a PostgreSQL
     * database and QUEUE_BULL_*). Its health server (QUEUE_HEALTH_CHECK_*) listens on `healthPort`, its task broker
     * on `brokerPort` (both must differ from the main process's). Resolves when /healthz/readiness answers 200,
     * i.e. the worker reaches its database and Redis. Returns { healthUrl, output(), stop() }.
     */
    async startWorker({ healthPort, brokerPort, concurrency = 5, env: extraEnv = {} } = {}) {
      const port = healthPort ?? (await freePort());
      const env = {
        ...baseEnv,
        QUEUE_HEALTH_CHECK_ACTIVE: 'true',
        QUEUE_HEALTH_CHECK_PORT: String(port),
        N8N_WORKER_SERVER_ADDRESS: '127.0.0.1',
        N8N_RUNNERS_BROKER_PORT: String(brokerPort ?? (await freePort())),
        ...extraEnv,
      };
      const child = spawn(paths.node, [paths.n8n, 'worker', `--concurrency=${concurrency}`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (chunk) => (output += chunk));
      child.stderr.on('data', (chunk) => (output += chunk));
      const healthUrl = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 300_000;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`n8n worker exited with ${child.exitCode}:\n${output}`);
        try {
          if ((await fetch(`${healthUrl}/healthz/readiness`)).status === 200) break;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline) {
          child.kill('SIGKILL');
          throw new Error(`n8n worker not ready after 300 s:\n${output}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      return {
        healthUrl,
        output: () => output,
        async stop() {
          if (child.exitCode !== null) return;
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.kill('SIGTERM');
          await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 30_000))]);
          if (child.exitCode === null) child.kill('SIGKILL');
        },
      };
    },
    cleanup() {
      fs.rmSync(folder, { recursive: true, force: true });
    },
  };
}
