import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';
import { accountingDate, getAccounts, getBills, getEntities } from '../shared/options';
import { idempotencyKey, veilRequest, nodeError } from '../shared/transport';

// Pays bill occurrences: one chosen occurrence, or every occurrence of an entity due within N days, from a chosen
// account. Outputs the paid occurrences (each with its entry).

interface Occurrence extends IDataObject {
	billId: string;
	dueOn: string;
	status: string;
}

const OVERDUE_LOOKBACK_DAYS = 366;

function isoDay(offsetDays: number): string {
	return new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

export class VeilPayBill implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Veil Pay Bill',
		name: 'veilPayBill',
		icon: { light: 'file:veil.svg', dark: 'file:veil.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{$parameter["operation"]}}',
		description: 'Pay bill occurrences from a chosen account and book them',
		defaults: { name: 'Veil Pay Bill' },
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
				options: [{ name: 'Bill Occurrence', value: 'occurrence' }],
				default: 'occurrence',
			},
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				options: [
					{ name: 'Get Many', value: 'getAll', description: 'List the occurrences of an entity in a date range', action: 'Get many bill occurrences' },
					{ name: 'Pay', value: 'pay', description: 'Pay one occurrence of a bill', action: 'Pay a bill occurrence' },
					{ name: 'Pay Due', value: 'payDue', description: 'Pay every unpaid occurrence due within N days', action: 'Pay due bill occurrences' },
				],
				default: 'pay',
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
				displayName: 'Bill Name or ID',
				name: 'billId',
				type: 'options',
				typeOptions: { loadOptionsMethod: 'getBills', loadOptionsDependsOn: ['entityId'] },
				default: '',
				required: true,
				displayOptions: { show: { operation: ['pay'] } },
				description: 'Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>',
			},
			{
				displayName: 'Due On',
				name: 'dueOn',
				type: 'dateTime',
				default: '',
				required: true,
				displayOptions: { show: { operation: ['pay'] } },
				description: 'The due date of the occurrence to pay',
			},
			{
				displayName: 'Within Days',
				name: 'withinDays',
				type: 'number',
				typeOptions: { minValue: 0, numberPrecision: 0 },
				default: 7,
				displayOptions: { show: { operation: ['payDue', 'getAll'] } },
				description: 'Occurrences due from today through this many days ahead (overdue ones included when paying)',
			},
			{
				displayName: 'From Account Name or ID',
				name: 'fromAccountId',
				type: 'options',
				typeOptions: { loadOptionsMethod: 'getAccounts', loadOptionsDependsOn: ['entityId'] },
				default: '',
				displayOptions: { show: { operation: ['pay', 'payDue'] } },
				description: 'Pay from this account (default: the bill own account). Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
			},
			{
				displayName: 'Amount (Cents)',
				name: 'amountCents',
				type: 'number',
				typeOptions: { minValue: 0, numberPrecision: 0 },
				default: 0,
				displayOptions: { show: { operation: ['pay'] } },
				description: 'The amount actually paid, for an estimated bill (0: the occurrence amount)',
			},
		],
	};

	methods = { loadOptions: { getEntities, getBills, getAccounts } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const results: INodeExecutionData[] = [];
		for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
			try {
				const operation = this.getNodeParameter('operation', itemIndex) as string;
				const entityId = encodeURIComponent(this.getNodeParameter('entityId', itemIndex) as string);
				const fromAccountId = this.getNodeParameter('fromAccountId', itemIndex, '') as string;
				if (operation === 'pay') {
					const body: IDataObject = {};
					const amountCents = Number(this.getNodeParameter('amountCents', itemIndex, 0));
					if (amountCents > 0) body.amountCents = amountCents;
					if (fromAccountId) body.fromAccountId = fromAccountId;
					const billId = encodeURIComponent(this.getNodeParameter('billId', itemIndex) as string);
					const dueOn = accountingDate(this.getNodeParameter('dueOn', itemIndex)) as string;
					const paid = await veilRequest(this, 'POST', `/bills/${billId}/occurrences/${dueOn}/pay`, { body, idempotencyKey: idempotencyKey(this, itemIndex, 'pay'), itemIndex });
					results.push({ json: paid, pairedItem: { item: itemIndex } });
					continue;
				}
				const withinDays = Number(this.getNodeParameter('withinDays', itemIndex));
				// Pay Due looks a year back for overdue occurrences: the ledger answers at most three years per request.
				const qs: IDataObject = { from: operation === 'payDue' ? isoDay(-OVERDUE_LOOKBACK_DAYS) : isoDay(0), to: isoDay(withinDays) };
				const { occurrences } = await veilRequest<{ occurrences: Occurrence[] }>(this, 'GET', `/entities/${entityId}/bill-occurrences`, { qs, itemIndex });
				if (operation === 'getAll') {
					for (const occurrence of occurrences) results.push({ json: occurrence, pairedItem: { item: itemIndex } });
					continue;
				}
				for (const occurrence of occurrences.filter((one) => one.status !== 'paid' && one.status !== 'skipped')) {
					const body: IDataObject = fromAccountId ? { fromAccountId } : {};
					const paid = await veilRequest(this, 'POST', `/bills/${encodeURIComponent(occurrence.billId)}/occurrences/${occurrence.dueOn}/pay`, {
						body,
						idempotencyKey: idempotencyKey(this, itemIndex, `pay:${occurrence.billId}:${occurrence.dueOn}`),
						itemIndex,
					});
					results.push({ json: paid, pairedItem: { item: itemIndex } });
				}
			} catch (error) {
				if (!this.continueOnFail()) throw nodeError(this, error, itemIndex);
				results.push({ json: { error: (error as Error).message, code: (error as { code?: string }).code }, pairedItem: { item: itemIndex } });
			}
		}
		return [results];
	}
}
