// Runs the pack's nodes in-process with n8n-core's WorkflowExecute (n8n 2.41.1, from the versioned cache, under
// Node 24): n8n's NodeTestHarness is not published, so this builds a Workflow with a small node-type registry, a
// credentials helper that applies the Veil API credential's own `authenticate`, and real HTTP to a real ledger.
// See ../shared/N8N-NOTES.md "Executing nodes in-process".
import fs from 'node:fs';
import Module, { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { n8nDir } from '../../../scripts/n8n/install.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
process.env.N8N_USER_FOLDER ??= fs.mkdtempSync(path.join(os.tmpdir(), 'veil-n8n-core-'));

// What n8n does for an installed community package: `require('n8n-workflow')` gets n8n's own copy.
const fromN8n = createRequire(path.join(n8nDir(), 'node_modules', 'n8n', 'package.json'));
const workflowPath = fromN8n.resolve('n8n-workflow');
const originalResolve = Module._resolveFilename;
Module._resolveFilename = function resolve(request, ...rest) {
  if (request === 'n8n-workflow') return workflowPath;
  return originalResolve.call(this, request, ...rest);
};
const workflowLib = fromN8n('n8n-workflow');
const core = fromN8n('n8n-core');
const { Workflow, NodeConnectionTypes, ICredentialsHelper } = workflowLib;
const { WorkflowExecute, ExecutionLifecycleHooks, LoadOptionsContext } = core;

const requirePack = createRequire(path.join(root, 'package.json'));
const pack = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).n8n;

/** Every node and credential the built pack declares, by name. */
export function loadPack() {
  // Each file exports its class under the file's own name (VeilTransfer.node.js → VeilTransfer), as n8n expects.
  const classOf = (file) => requirePack(path.join(root, file))[path.basename(file).split('.')[0]];
  const nodes = {};
  for (const file of pack.nodes) {
    const instance = new (classOf(file))();
    nodes[instance.description.name] = instance;
  }
  const credentials = {};
  for (const file of pack.credentials) {
    const instance = new (classOf(file))();
    credentials[instance.name] = instance;
  }
  return { nodes, credentials, workflowLib };
}

/** A test-only source node: outputs the items given in its `items` parameter (a JSON array). */
class Items {
  description = {
    displayName: 'Items',
    name: 'items',
    group: ['input'],
    version: 1,
    description: 'test items',
    defaults: { name: 'Items' },
    inputs: [],
    outputs: [NodeConnectionTypes.Main],
    properties: [{ displayName: 'Items', name: 'items', type: 'json', default: '[]' }],
  };
  async execute() {
    const items = JSON.parse(this.getNodeParameter('items', 0));
    return [items.map((json) => ({ json }))];
  }
}

/** Applies a credential type's generic `authenticate` (`={{$credentials.x}}` placeholders) to a request. */
function applyGeneric(definition, credentials, request) {
  const resolve = (value) =>
    typeof value === 'string' && value.startsWith('=')
      ? value.slice(1).replace(/\{\{\s*\$credentials\.(\w+)\s*\}\}/g, (_match, name) => String(credentials[name] ?? ''))
      : value;
  const out = { ...request, headers: { ...(request.headers ?? {}) } };
  for (const [name, value] of Object.entries(definition.authenticate?.properties?.headers ?? {})) out.headers[name] = resolve(value);
  return out;
}

class CredentialsHelper extends ICredentialsHelper {
  constructor(definitions, values) {
    super();
    this.definitions = definitions;
    this.values = values;
  }
  getParentTypes() {
    return [];
  }
  isCredentialUsableByNode() {
    return true;
  }
  async authenticate(credentials, typeName, request) {
    return applyGeneric(this.definitions[typeName], credentials, request);
  }
  async preAuthentication() {
    return undefined;
  }
  async runPreAuthentication() {
    return undefined;
  }
  async getCredentials() {
    throw new Error('not used');
  }
  async getDecrypted(_additionalData, nodeCredentials, type) {
    const value = this.values[type];
    if (!value) throw new Error(`no ${type} credential for ${nodeCredentials.name}`);
    return value;
  }
  async updateCredentials() {}
  async updateCredentialsOauthTokenData() {}
  getCredentialsProperties(type) {
    return this.definitions[type]?.properties ?? [];
  }
}

function nodeTypesOf(nodes) {
  const all = { ...nodes, items: new Items() };
  return {
    getByName: (name) => all[name.split('.').pop()],
    getByNameAndVersion: (name) => all[name.split('.').pop()],
    getKnownTypes: () => ({}),
  };
}

/**
 * Runs `items` through one Veil node. `node`: { type: 'veilTransfer', parameters, name?, continueOnFail?, retryOnFail? }.
 * `executionId` is the n8n execution id the node sees (the same id twice is a retried execution).
 * Returns { error, outputs: INodeExecutionData[][] of the node, run }.
 */
export async function runNode({ nodes, credentials }, { items, node, credential, executionId = `exec-${Date.now()}` }) {
  const nodeName = node.name ?? 'Veil';
  const workflowData = {
    id: 'wf-inprocess',
    name: 'in-process',
    active: false,
    nodes: [
      { id: 'items', name: 'Items', type: 'items', typeVersion: 1, position: [0, 0], parameters: { items: JSON.stringify(items) } },
      {
        id: 'veil',
        name: nodeName,
        type: `n8n-nodes-veil.${node.type}`,
        typeVersion: 1,
        position: [200, 0],
        parameters: node.parameters,
        credentials: { veilApi: { id: 'cred-1', name: 'Veil' } },
        ...(node.continueOnFail ? { onError: 'continueRegularOutput' } : {}),
      },
    ],
    connections: { Items: { main: [[{ node: nodeName, type: 'main', index: 0 }]] } },
    settings: { executionOrder: 'v1' },
  };
  const workflow = new Workflow({ ...workflowData, nodeTypes: nodeTypesOf(nodes), staticData: {} });
  const hooks = new ExecutionLifecycleHooks('manual', executionId, workflowData);
  const additionalData = {
    credentialsHelper: new CredentialsHelper(credentials, { veilApi: credential }),
    hooks,
    executionId,
    currentNodeExecutionIndex: 0,
    restApiUrl: 'http://127.0.0.1/rest',
    instanceBaseUrl: 'http://127.0.0.1/',
    webhookBaseUrl: 'http://127.0.0.1/webhook',
    webhookWaitingBaseUrl: 'http://127.0.0.1/webhook-waiting',
    webhookTestBaseUrl: 'http://127.0.0.1/webhook-test',
    formBaseUrl: 'http://127.0.0.1/form',
    formWaitingBaseUrl: 'http://127.0.0.1/form-waiting',
    formTestBaseUrl: 'http://127.0.0.1/form-test',
    mcpBaseUrl: 'http://127.0.0.1/mcp',
    mcpTestBaseUrl: 'http://127.0.0.1/mcp-test',
    variables: {},
    executeWorkflow: async () => {
      throw new Error('not used');
    },
    getRunExecutionData: async () => undefined,
    getRuntimeCredential: async () => undefined,
    logAiEvent: () => {},
    startRunnerTask: async () => {
      throw new Error('not used');
    },
  };
  const execute = new WorkflowExecute(additionalData, 'manual');
  const run = await execute.run({ workflow, startNode: workflow.getNode('Items'), destinationNode: { nodeName, mode: 'inclusive' } });
  const nodeRuns = run.data.resultData.runData[nodeName] ?? [];
  const last = nodeRuns[nodeRuns.length - 1];
  return { error: run.data.resultData.error ?? last?.error, outputs: last?.data?.main ?? [], run };
}

/**
 * Calls a node's `loadOptions` method (the drop-downs the editor fills) the way n8n's editor does: through n8n-core's
 * LoadOptionsContext, with `parameters` as the node's current parameters and the Veil credential applied for real.
 * Returns the options ([{ name, value, description? }]).
 */
export async function loadOptions({ nodes, credentials }, { type, method, parameters = {}, credential }) {
  const node = {
    id: 'veil',
    name: 'Veil',
    type: `n8n-nodes-veil.${type}`,
    typeVersion: 1,
    position: [0, 0],
    parameters,
    credentials: { veilApi: { id: 'cred-1', name: 'Veil' } },
  };
  const workflow = new Workflow({ id: 'wf-options', name: 'options', active: false, nodes: [node], connections: {}, nodeTypes: nodeTypesOf(nodes), staticData: {}, settings: {} });
  const additionalData = {
    credentialsHelper: new CredentialsHelper(credentials, { veilApi: credential }),
    currentNodeParameters: parameters,
    restApiUrl: 'http://127.0.0.1/rest',
    instanceBaseUrl: 'http://127.0.0.1/',
    webhookBaseUrl: 'http://127.0.0.1/webhook',
    webhookWaitingBaseUrl: 'http://127.0.0.1/webhook-waiting',
    webhookTestBaseUrl: 'http://127.0.0.1/webhook-test',
    formWaitingBaseUrl: 'http://127.0.0.1/form-waiting',
    variables: {},
  };
  const context = new LoadOptionsContext(workflow, workflow.getNode('Veil'), additionalData, `parameters.${method}`);
  const implementation = nodes[type].methods.loadOptions[method];
  if (!implementation) throw new Error(`${type} has no loadOptions method ${method}`);
  return implementation.call(context);
}
