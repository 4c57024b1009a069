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

export async function createN8n({ userFolder } = {}) {
  const paths = await ensureN8n();
  const folder = userFolder ?? fs.mkdtempSync(path.join(os.tmpdir(), 'veil-n8n-'));
  const baseEnv = {
    ...process.env,
    PATH: `${paths.nodeBinDir}:${process.env.PATH}`,
    N8N_USER_FOLDER: folder,
    N8N_DIAGNOSTICS_ENABLED: 'false',
    N8N_PERSONALIZATION_ENABLED: 'false',
    N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
    N8N_LISTEN_ADDRESS: '127.0.0.1',
    N8N_ENCRYPTION_KEY: 'veil-test-encryption-key-0123456789',
    N8N_SECURE_COOKIE: 'false',
    N8N_LOG_LEVEL: 'warn',
    N8N_COMMUNITY_PACKAGES_ENABLED: 'true',
    DB_SQLITE_POOL_SIZE: '1',
    N8N_UNVERIFIED_PACKAGES_ENABLED: 'true',
    // On a loaded machine the JS task runner can take longer than the default 30 s to connect.
    N8N_RUNNERS_GRANT_TOKEN_TTL: '300',
  };

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
    /** `credentials`: n8n's export format ([{ id, name, type, data }]); plain `data` is encrypted on import. */
    async importCredentials(credentials) {
      const result = await cli(['import:credentials', `--input=${writeTemp('credentials.json', credentials)}`]);
      if (result.code !== 0) throw new Error(`import:credentials failed:\n${result.stdout}\n${result.stderr}`);
    },
    async importWorkflow(workflow) {
      const result = await cli(['import:workflow', `--input=${writeTemp(`workflow-${workflow.id}.json`, workflow)}`]);
      if (result.code !== 0) throw new Error(`import:workflow failed:\n${result.stdout}\n${result.stderr}`);
    },
    /** Runs an imported workflow once; `data` is n8n's run data (`--rawOutput`), `ok` false when a node failed. */
    async execute(workflowId) {
      // The CLI prints the run through n8n's logger: at `warn` it would print nothing.
      const result = await cli(['execute', `--id=${workflowId}`, '--rawOutput'], { N8N_LOG_LEVEL: 'info' });
      return { ok: result.code === 0, data: lastJson(result.stdout), output: `${result.stdout}\n${result.stderr}` };
    },
    /** Starts `n8n start` on free ports; resolves when ready. */
    async start() {
      const port = await freePort();
      const env = { ...baseEnv, N8N_PORT: String(port), N8N_RUNNERS_BROKER_PORT: String(await freePort()), WEBHOOK_URL: `http://127.0.0.1:${port}/` };
      const child = spawn(paths.node, [paths.n8n, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (chunk) => (output += chunk));
      child.stderr.on('data', (chunk) => (output += chunk));
      const baseUrl = `http://127.0.0.1:${port}`;
      // ~11 s on a quiet machine; a shared 2-core machine under load has needed more than 2 minutes.
      const deadline = Date.now() + 300_000;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`n8n exited with ${child.exitCode}:\n${output}`);
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
        output: () => output,
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
    cleanup() {
      fs.rmSync(folder, { recursive: true, force: true });
    },
  };
}
