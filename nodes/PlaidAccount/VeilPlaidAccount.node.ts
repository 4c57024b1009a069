import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';
import { getEntities, getPlaidItems } from '../shared/options';
import { idempotencyKey, veilRequest, nodeError } from '../shared/transport';

// Bank connections through the ledger (which holds the Plaid access tokens, encrypted): sync an item, or every item
// of an entity, and output the new bank lines; list items; get balances; refresh card and loan terms (which become
// bills) and holdings and investment transactions; create a Link token (to link a bank, or to repair an item in
// update mode).
//
// A sync asks the ledger for one Plaid page per request (`pagesMax=1`: at most 500 changes, so the reply's bank
// lines are never cut at the ledger's 1,000-line limit) and asks again while the ledger says `hasMore`, up to
// SYNC_ROUNDS_MAX requests per item; the ledger keeps the cursor, so the next run continues where this one stopped.

/** Ledger sync requests per item in one run (each at most one Plaid page of 500 changes). */
const SYNC_ROUNDS_MAX = 200;

export class VeilPlaidAccount implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Veil Plaid Account',
		name: 'veilPlaidAccount',
		icon: { light: 'file:veil.svg', dark: 'file:veil.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{$parameter["operation"]}}',
		description: 'Sync bank connections and read balances through the Veil ledger',
		defaults: { name: 'Veil Plaid Account' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'veilApi', required: true }],
		properties: [
			{
				displayName: 'Resource',
				name: 'resource',
				type: 'options',
				noDataExpression: true,
				options: [{ name: 'Item', value: 'item' }],
				default: 'item',
			},
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				options: [
					{ name: 'Create Link Token', value: 'createLinkToken', description: 'Create a Plaid Link token to link a bank login, or to repair an item (update mode)', action: 'Create a link token' },
					{ name: 'Get Balances', value: 'getBalances', description: 'Get the accounts of an item with their balances', action: 'Get balances of an item' },
					{ name: 'Get Many', value: 'getAll', description: 'List the bank connections of an entity', action: 'Get many items' },
					{ name: 'Refresh Investments', value: 'refreshInvestments', description: 'Fetch holdings and investment transactions into the brokerage and retirement accounts', action: 'Refresh investments of an item' },
					{ name: 'Refresh Liabilities', value: 'refreshLiabilities', description: 'Fetch card and loan terms; each card, mortgage and student loan becomes a bill', action: 'Refresh liabilities of an item' },
					{ name: 'Sync', value: 'sync', description: 'Fetch new transactions and output the new bank lines', action: 'Sync an item' },
				],
				default: 'sync',
			},
			{
				displayName: 'Entity Name or ID',
				name: 'entityId',
				type: 'options',
				typeOptions: { loadOptionsMethod: 'getEntities' },
				default: '',
				required: true,
				description: 'Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>',
			},
			{
				displayName: 'Item Name or ID',
				name: 'itemId',
				type: 'options',
				typeOptions: { loadOptionsMethod: 'getPlaidItems', loadOptionsDependsOn: ['entityId'] },
				default: '',
				displayOptions: { show: { operation: ['sync', 'getBalances', 'refreshLiabilities', 'refreshInvestments', 'createLinkToken'] } },
				description: 'Empty when syncing or refreshing: every item of the entity. Empty when creating a Link token: a new link; an item: update mode, to repair it. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
			},
		],
	};

	methods = { loadOptions: { getEntities, getPlaidItems } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const results: INodeExecutionData[] = [];
		for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
			try {
				const operation = this.getNodeParameter('operation', itemIndex) as string;
				const rawEntityId = this.getNodeParameter('entityId', itemIndex) as string;
				const entityId = encodeURIComponent(rawEntityId);
				const itemId = this.getNodeParameter('itemId', itemIndex, '') as string;
				if (operation === 'getAll') {
					const { items: plaidItems } = await veilRequest<{ items: IDataObject[] }>(this, 'GET', `/entities/${entityId}/plaid/items`, { itemIndex });
					for (const plaidItem of plaidItems) results.push({ json: plaidItem, pairedItem: { item: itemIndex } });
					continue;
				}
				if (operation === 'getBalances') {
					if (!itemId) throw new NodeOperationError(this.getNode(), 'Get Balances needs an item: choose one in Item Name or ID', { itemIndex });
					const balances = await veilRequest(this, 'GET', `/plaid/items/${encodeURIComponent(itemId)}/accounts`, { itemIndex });
					results.push({ json: balances, pairedItem: { item: itemIndex } });
					continue;
				}
				if (operation === 'createLinkToken') {
					const token = itemId
						? await veilRequest(this, 'POST', `/plaid/items/${encodeURIComponent(itemId)}/update-link-token`, { body: {}, itemIndex })
						: await veilRequest(this, 'POST', '/plaid/link-token', { body: { entityId: this.getNodeParameter('entityId', itemIndex) as string }, itemIndex });
					results.push({ json: { ...token, mode: itemId ? 'update' : 'create', ...(itemId ? { itemId } : {}) }, pairedItem: { item: itemIndex } });
					continue;
				}
				const targets = itemId
					? [itemId]
					: (await veilRequest<{ items: Array<{ id: string }> }>(this, 'GET', `/entities/${entityId}/plaid/items`, { itemIndex })).items.map((one) => one.id);
				if (operation === 'refreshLiabilities' || operation === 'refreshInvestments') {
					const path = operation === 'refreshLiabilities' ? 'refresh-liabilities' : 'refresh-investments';
					for (const target of targets) {
						// A refresh is an upsert keyed by Plaid's ids: repeating it changes nothing, so a retry is safe.
						const refreshed = await veilRequest<IDataObject>(this, 'POST', `/plaid/items/${encodeURIComponent(target)}/${path}`, {
							body: {},
							idempotencyKey: idempotencyKey(this, itemIndex, `${path}:${target}`),
							itemIndex,
						});
						results.push({ json: refreshed, pairedItem: { item: itemIndex } });
					}
					continue;
				}
				for (const target of targets) {
					for (let round = 0; round < SYNC_ROUNDS_MAX; round++) {
						const synced = await veilRequest<{ bankLines?: IDataObject[]; hasMore?: boolean; bankLinesTruncated?: boolean } & IDataObject>(
							this,
							'POST',
							`/plaid/items/${encodeURIComponent(target)}/sync`,
							{ body: {}, qs: { pagesMax: 1 }, idempotencyKey: idempotencyKey(this, itemIndex, `sync:${target}:${round}`), itemIndex },
						);
						for (const line of synced.bankLines ?? []) results.push({ json: { itemId: target, ...line }, pairedItem: { item: itemIndex } });
						if (synced.bankLinesTruncated === true) {
							// Lines stored but not in the reply would never reach this workflow: say so rather than drop them.
							throw new NodeOperationError(this.getNode(), `The ledger stored more bank lines for item ${target} than its reply carries; find them with GET /accounts/{id}/bank-lines`, { itemIndex });
						}
						if (synced.hasMore !== true) break;
					}
				}
			} catch (error) {
				if (!this.continueOnFail()) throw nodeError(this, error, itemIndex);
				results.push({ json: { error: (error as Error).message, code: (error as { code?: string }).code }, pairedItem: { item: itemIndex } });
			}
		}
		return [results];
	}
}
