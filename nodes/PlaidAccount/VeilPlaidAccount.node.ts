import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';
import { getEntities, getPlaidItems } from '../shared/options';
import { idempotencyKey, veilRequest, nodeError } from '../shared/transport';

// Bank connections through the ledger (which holds the Plaid access tokens, encrypted): sync an item, or every item
// of an entity, and output the new bank lines; list items; get balances.

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
					{ name: 'Get Balances', value: 'getBalances', description: 'Get the accounts of an item with their balances', action: 'Get balances of an item' },
					{ name: 'Get Many', value: 'getAll', description: 'List the bank connections of an entity', action: 'Get many items' },
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
				displayOptions: { show: { operation: ['sync', 'getBalances'] } },
				description: 'Empty when syncing: every item of the entity. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
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
				const entityId = encodeURIComponent(this.getNodeParameter('entityId', itemIndex) as string);
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
				const targets = itemId
					? [itemId]
					: (await veilRequest<{ items: Array<{ id: string }> }>(this, 'GET', `/entities/${entityId}/plaid/items`, { itemIndex })).items.map((one) => one.id);
				for (const target of targets) {
					const synced = await veilRequest<{ bankLines?: IDataObject[] } & IDataObject>(this, 'POST', `/plaid/items/${encodeURIComponent(target)}/sync`, {
						body: {},
						idempotencyKey: idempotencyKey(this, itemIndex, `sync:${target}`),
						itemIndex,
					});
					for (const line of synced.bankLines ?? []) results.push({ json: { itemId: target, ...line }, pairedItem: { item: itemIndex } });
				}
			} catch (error) {
				if (!this.continueOnFail()) throw nodeError(this, error, itemIndex);
				results.push({ json: { error: (error as Error).message, code: (error as { code?: string }).code }, pairedItem: { item: itemIndex } });
			}
		}
		return [results];
	}
}
