// What `npm start` sets up in its n8n, each step idempotent so that a second start finds everything and adds nothing:
//   ensurePack        the node pack, rebuilt, packed and reinstalled only when its sources changed (a fingerprint)
//   ensureCredential  one `Veil API` credential pointing at the ledger, with a working API token (tested through
//                     n8n's own credential test; a failing one gets a fresh token)
//   importTemplates   every workflow in workflows-templates/, inactive, its `Veil API` references resolved; a
//                     template whose workflow already exists is left alone (the user may have edited it)
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PACKAGE_NAME, packNodes } from './runtime.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CREDENTIAL_NAME = 'Veil API';
export const CREDENTIAL_TYPE = 'veilApi';
export const TEMPLATES_DIR = path.join(root, 'workflows-templates');

/** A fingerprint of everything `n8n-node build` and `npm pack` read: the manifest, tsconfig and the sources. */
export function packFingerprint() {
  const files = ['package.json', 'tsconfig.json'].filter((file) => fs.existsSync(path.join(root, file)));
  for (const dir of ['nodes', 'credentials']) {
    for (const entry of fs.readdirSync(path.join(root, dir), { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) files.push(path.relative(root, path.join(entry.parentPath ?? entry.path, entry.name)));
    }
  }
  const hash = createHash('sha256');
  for (const file of files.sort()) hash.update(file).update('\0').update(fs.readFileSync(path.join(root, file))).update('\0');
  return hash.digest('hex');
}

/** Installs the pack into the n8n user folder unless the installed one was built from the same sources. */
export async function ensurePack(n8n, { log = () => {} } = {}) {
  const nodesDir = path.join(n8n.folder, '.n8n', 'nodes');
  const stampFile = path.join(nodesDir, '.veil-pack-fingerprint');
  const installedManifest = path.join(nodesDir, 'node_modules', PACKAGE_NAME, 'package.json');
  const fingerprint = packFingerprint();
  const version = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version;
  if (fs.existsSync(installedManifest) && fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === fingerprint) {
    return { changed: false, version };
  }
  log(`building the node pack ${PACKAGE_NAME}@${version} (n8n-node build, npm pack) and installing it into n8n`);
  const tarball = packNodes();
  try {
    await n8n.installPack(tarball);
  } finally {
    fs.rmSync(path.dirname(tarball), { recursive: true, force: true });
  }
  fs.writeFileSync(stampFile, fingerprint);
  return { changed: true, version };
}

/** n8n's credential test of a stored credential, with `data` overriding stored fields (redacted ones keep theirs). */
export async function testCredential(rest, credential, data) {
  const stored = await rest('GET', `/credentials/${credential.id}?includeData=true`);
  const result = await rest('POST', '/credentials/test', {
    credentials: { id: credential.id, name: credential.name, type: credential.type, data: { ...stored.data, ...data } },
  });
  return { ok: result?.status === 'OK', message: result?.message ?? '', storedData: stored.data };
}

/**
 * Makes sure exactly one `Veil API` credential exists (the oldest one if several do) and that n8n's credential test
 * passes against `baseUrl`. `mintToken()` is called only when a token is needed (no credential yet, or the stored
 * token no longer works). Returns { credential, action: 'created' | 'kept' | 'updated', test }.
 */
export async function ensureCredential(rest, { baseUrl, mintToken }) {
  const all = await rest('GET', '/credentials');
  const existing = all
    .filter((credential) => credential.name === CREDENTIAL_NAME && credential.type === CREDENTIAL_TYPE)
    .sort((a, b) => String(a.createdAt).localeCompare(String(b.createdAt)));
  let credential = existing[0];
  if (credential === undefined) {
    credential = await rest('POST', '/credentials', { name: CREDENTIAL_NAME, type: CREDENTIAL_TYPE, data: { baseUrl, apiToken: await mintToken() } });
    return { credential, action: 'created', test: await testCredential(rest, credential, {}) };
  }
  // The stored token against today's ledger address: if it works, keep it (updating the address if it moved).
  const current = await testCredential(rest, credential, { baseUrl });
  if (current.ok) {
    if (current.storedData.baseUrl === baseUrl) return { credential, action: 'kept', test: current };
    await rest('PATCH', `/credentials/${credential.id}`, { name: CREDENTIAL_NAME, type: CREDENTIAL_TYPE, data: { ...current.storedData, baseUrl } });
    return { credential, action: 'updated', test: await testCredential(rest, credential, {}) };
  }
  await rest('PATCH', `/credentials/${credential.id}`, { name: CREDENTIAL_NAME, type: CREDENTIAL_TYPE, data: { baseUrl, apiToken: await mintToken() } });
  return { credential, action: 'updated', test: await testCredential(rest, credential, {}) };
}

/** n8n workflow ids are short strings: a template without one gets a stable id from its file name. */
export function templateWorkflowId(file, workflow) {
  if (typeof workflow.id === 'string' && /^[A-Za-z0-9_-]{1,36}$/.test(workflow.id)) return workflow.id;
  return `veil${createHash('sha256').update(`workflows-templates/${file}`).digest('hex').slice(0, 12)}`;
}

/**
 * Reads every `*.json` workflow of a templates folder (none when it does not exist). A file that is not a workflow
 * (no `nodes` array or no `connections` object) is reported in `skipped`, not imported.
 */
export function readTemplates(dir = TEMPLATES_DIR) {
  const templates = [];
  const skipped = [];
  if (!fs.existsSync(dir)) return { templates, skipped };
  for (const file of fs.readdirSync(dir).filter((name) => name.endsWith('.json')).sort()) {
    let workflow;
    try {
      workflow = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
    } catch (error) {
      skipped.push({ file, reason: `not JSON: ${error.message}` });
      continue;
    }
    if (workflow === null || typeof workflow !== 'object' || !Array.isArray(workflow.nodes) || typeof workflow.connections !== 'object') {
      skipped.push({ file, reason: 'not an n8n workflow (no nodes and connections)' });
      continue;
    }
    templates.push({ file, id: templateWorkflowId(file, workflow), workflow });
  }
  return { templates, skipped };
}

/** The workflow to import: inactive, with every credential reference named `Veil API` pointing at `credentialId`. */
export function prepareTemplate({ id, workflow }, credentialId) {
  const nodes = workflow.nodes.map((node) => {
    if (node === null || typeof node !== 'object' || node.credentials === undefined) return node;
    const credentials = Object.fromEntries(
      Object.entries(node.credentials).map(([type, reference]) => [
        type,
        reference?.name === CREDENTIAL_NAME ? { id: credentialId, name: CREDENTIAL_NAME } : reference,
      ]),
    );
    return { ...node, credentials };
  });
  // n8n's editor asks to set up a template's credentials while `templateCredsSetupCompleted` is false: once every
  // reference has an id (ours, or one the template carried), there is nothing left to set up.
  const allResolved = nodes.every((node) => Object.values(node?.credentials ?? {}).every((reference) => typeof reference?.id === 'string' && reference.id !== ''));
  const meta = workflow.meta?.templateCredsSetupCompleted === false && allResolved ? { ...workflow.meta, templateCredsSetupCompleted: true } : workflow.meta;
  return { ...workflow, id, nodes, active: false, ...(meta === undefined ? {} : { meta }) };
}

/**
 * Imports the templates whose workflow id n8n does not have yet (one CLI run for all of them). Returns
 * { imported: [file], kept: [file], skipped: [{file, reason}] }.
 */
export async function importTemplates(n8n, rest, { credentialId, dir = TEMPLATES_DIR }) {
  const { templates, skipped } = readTemplates(dir);
  const existing = new Set((await rest('GET', '/workflows')).map((workflow) => workflow.id));
  const missing = templates.filter((template) => !existing.has(template.id));
  await n8n.importWorkflows(missing.map((template) => prepareTemplate(template, credentialId)));
  return {
    imported: missing.map((template) => template.file),
    kept: templates.filter((template) => existing.has(template.id)).map((template) => template.file),
    skipped,
  };
}
