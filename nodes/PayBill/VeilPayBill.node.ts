import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';
import { accountingDate, getAccounts, getBills, getEntities, isoDay } from '../shared/options';
import { idempotencyKey, veilRequest, nodeError } from '../shared/transport';

// Pays bill occurrences: one chosen occurrence, or every occurrence of an entity due within N days, from a chosen
// account. Outputs the paid occurrences (each with its entry).

interface Occurrence extends IDataObject {
	billId: string;
	dueOn: string;
	status: string;
}

// The ledger lists at most 3 × 366 days of occurrences per request (BILL_RANGE_DAYS_MAX): Pay Due looks back a
// year for overdue occurrences and ahead at most a year, which stays inside that window.
const OVERDUE_LOOKBACK_DAYS = 366;
const WITHIN_DAYS_MAX = 366;

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
				typeOptions: { minValue: 0, maxValue: WITHIN_DAYS_MAX, numberPrecision: 0 },
				default: 7,
				displayOptions: { show: { operation: ['payDue', 'getAll'] } },
				description: 'Occurrences due from today through this many days ahead (when paying, those overdue by up to a year as well)',
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
			{
				displayName: 'Move Real Money (Plaid Transfer)',
				name: 'moveRealMoney',
				type: 'boolean',
				default: false,
				displayOptions: { show: { operation: ['pay', 'payDue'] } },
				description:
					'Whether to also pay at the bank through Plaid Transfer: the Plaid-linked checking or savings account paid from is debited, and the payment stays pending until Plaid settles it (reversed if Plaid fails or returns it). The entity must enable Plaid Transfer; needs the move-money scope.',
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
				const moveMoney: IDataObject = this.getNodeParameter('moveRealMoney', itemIndex, false) === true ? { moveMoney: 'plaid_transfer' } : {};
				if (operation === 'pay') {
					const body: IDataObject = { ...moveMoney };
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
				if (!Number.isInteger(withinDays) || withinDays < 0 || withinDays > WITHIN_DAYS_MAX) {
					throw new NodeOperationError(this.getNode(), `Within Days must be a whole number from 0 to ${WITHIN_DAYS_MAX}, got ${String(withinDays)}`, { itemIndex });
				}
				const qs: IDataObject = { from: isoDay(operation === 'payDue' ? -OVERDUE_LOOKBACK_DAYS : 0), to: isoDay(withinDays) };
				const { occurrences } = await veilRequest<{ occurrences: Occurrence[] }>(this, 'GET', `/entities/${entityId}/bill-occurrences`, { qs, itemIndex });
				if (operation === 'getAll') {
					for (const occurrence of occurrences) results.push({ json: occurrence, pairedItem: { item: itemIndex } });
					continue;
				}
				for (const occurrence of occurrences.filter((one) => one.status !== 'paid' && one.status !== 'skipped')) {
					const body: IDataObject = fromAccountId ? { fromAccountId, ...moveMoney } : { ...moveMoney };
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
