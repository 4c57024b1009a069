import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';
import { accountingDate, getAccounts, getEntities, getFromAccounts, getToAccounts, isoDay, wholeCents } from '../shared/options';
import { BATCH_ENTRIES_MAX, chunks, idempotencyKey, veilRequest, nodeError } from '../shared/transport';

const CROSSING = { show: { resource: ['transfer'], operation: ['create'] } };
const MOVE = { show: { resource: ['move'], operation: ['create'] } };

function crossingWhen(classification: string[]) {
	return { show: { resource: ['transfer'], operation: ['create'], classification } };
}

const properties: INodeProperties[] = [
	{
		displayName: 'Resource',
		name: 'resource',
		type: 'options',
		noDataExpression: true,
		options: [
			{ name: 'Inter-Entity Transfer', value: 'transfer', description: 'Money crossing between the LLC and its owner' },
			{ name: 'Same-Entity Move', value: 'move', description: 'Money moving between two accounts of one entity' },
		],
		default: 'transfer',
	},
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['transfer'] } },
		options: [
			{ name: 'Create', value: 'create', description: 'Book a classified, documented crossing in both books', action: 'Create an inter entity transfer' },
			{ name: 'Get', value: 'get', description: 'Get a transfer with both entries', action: 'Get an inter entity transfer' },
			{ name: 'Reverse', value: 'reverse', description: 'Reverse both entries of a transfer at once', action: 'Reverse an inter entity transfer' },
		],
		default: 'create',
	},
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['move'] } },
		options: [
			{ name: 'Create', value: 'create', description: 'Book an entry between two accounts of one entity', action: 'Create a same entity move' },
		],
		default: 'create',
	},
	// Same-entity move.
	{
		displayName: 'Entity Name or ID',
		name: 'entityId',
		type: 'options',
		typeOptions: { loadOptionsMethod: 'getEntities' },
		default: '',
		required: true,
		displayOptions: MOVE,
		description: 'Whose books. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
	},
	{
		displayName: 'From Account Name or ID',
		name: 'moveFromAccountId',
		type: 'options',
		typeOptions: { loadOptionsMethod: 'getAccounts', loadOptionsDependsOn: ['entityId'] },
		default: '',
		required: true,
		displayOptions: MOVE,
		description: 'The account the money leaves. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
	},
	{
		displayName: 'To Account Name or ID',
		name: 'moveToAccountId',
		type: 'options',
		typeOptions: { loadOptionsMethod: 'getAccounts', loadOptionsDependsOn: ['entityId'] },
		default: '',
		required: true,
		displayOptions: MOVE,
		description: 'The account the money reaches. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
	},
	{
		displayName: 'Description',
		name: 'description',
		type: 'string',
		default: 'Transfer',
		required: true,
		displayOptions: MOVE,
		description: 'The journal entry description',
	},
	// Inter-entity transfer.
	{
		displayName: 'Transfer ID',
		name: 'transferId',
		type: 'string',
		default: '',
		required: true,
		displayOptions: { show: { resource: ['transfer'], operation: ['get', 'reverse'] } },
	},
	{
		displayName: 'From Entity Name or ID',
		name: 'fromEntityId',
		type: 'options',
		typeOptions: { loadOptionsMethod: 'getEntities' },
		default: '',
		required: true,
		displayOptions: CROSSING,
		description: 'The entity the money leaves. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
	},
	{
		displayName: 'From Account Name or ID',
		name: 'fromAccountId',
		type: 'options',
		typeOptions: { loadOptionsMethod: 'getFromAccounts', loadOptionsDependsOn: ['fromEntityId'] },
		default: '',
		required: true,
		displayOptions: CROSSING,
		description: 'Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>',
	},
	{
		displayName: 'To Entity Name or ID',
		name: 'toEntityId',
		type: 'options',
		typeOptions: { loadOptionsMethod: 'getEntities' },
		default: '',
		required: true,
		displayOptions: CROSSING,
		description: 'The entity the money reaches. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
	},
	{
		displayName: 'To Account Name or ID',
		name: 'toAccountId',
		type: 'options',
		typeOptions: { loadOptionsMethod: 'getToAccounts', loadOptionsDependsOn: ['toEntityId'] },
		default: '',
		required: true,
		displayOptions: CROSSING,
		description: 'Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>',
	},
	{
		displayName: 'Classification',
		name: 'classification',
		type: 'options',
		options: [
			{ name: 'Capital Contribution', value: 'capital_contribution', description: 'The owner puts money into the LLC' },
			{ name: 'Loan', value: 'loan', description: 'A documented loan with terms (rate at or above the AFR)' },
			{ name: 'Loan Repayment', value: 'loan_repayment', description: 'An installment on an earlier loan' },
			{ name: 'Owner Draw', value: 'owner_draw', description: 'The LLC pays its owner' },
			{ name: 'Reimbursement', value: 'reimbursement', description: 'The owner paid an LLC expense and is owed it back' },
			{ name: 'Reimbursement Payment', value: 'reimbursement_payment', description: 'The LLC pays back a reimbursement' },
		],
		default: 'owner_draw',
		displayOptions: CROSSING,
	},
	{
		displayName: 'Annual Rate (Basis Points)',
		name: 'annualRateBasisPoints',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 450,
		displayOptions: crossingWhen(['loan']),
		description: '450 means 4.50% a year',
	},
	{
		displayName: 'Term (Months)',
		name: 'termMonths',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 12,
		displayOptions: crossingWhen(['loan']),
	},
	{
		displayName: 'Payment Frequency',
		name: 'paymentFrequency',
		type: 'options',
		options: [
			{ name: 'Monthly', value: 'monthly' },
			{ name: 'Quarterly', value: 'quarterly' },
			{ name: 'Annually', value: 'annually' },
			{ name: 'At Maturity', value: 'at_maturity' },
		],
		default: 'monthly',
		displayOptions: crossingWhen(['loan']),
	},
	{
		displayName: 'Related Transfer ID',
		name: 'relatedTransferId',
		type: 'string',
		default: '',
		required: true,
		displayOptions: crossingWhen(['loan_repayment', 'reimbursement_payment']),
		description: 'The loan being repaid, or the reimbursement being paid',
	},
	{
		displayName: 'Business Purpose',
		name: 'businessPurpose',
		type: 'string',
		default: '',
		required: true,
		displayOptions: crossingWhen(['reimbursement']),
	},
	{
		displayName: 'Receipt Reference',
		name: 'receiptReference',
		type: 'string',
		default: '',
		required: true,
		displayOptions: crossingWhen(['reimbursement']),
		description: 'A file name or URL of the receipt',
	},
	{
		displayName: 'Expense Date',
		name: 'expenseOn',
		type: 'dateTime',
		default: '',
		required: true,
		displayOptions: crossingWhen(['reimbursement']),
	},
	// Both.
	{
		displayName: 'Amount (Cents)',
		name: 'amountCents',
		type: 'number',
		typeOptions: { minValue: 1, numberPrecision: 0 },
		default: 0,
		required: true,
		displayOptions: { show: { operation: ['create'] } },
		description: 'Whole cents: 12500 is 125.00',
	},
	{
		displayName: 'Posted On',
		name: 'postedOn',
		type: 'dateTime',
		default: '',
		displayOptions: { show: { operation: ['create'] } },
		description: 'The accounting date (default: today)',
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: { show: { operation: ['create'] } },
		options: [
			{
				displayName: 'Dry Run',
				name: 'dryRun',
				type: 'boolean',
				default: false,
				description: 'Whether to only ask Entity Guard for a verdict, booking nothing',
			},
			{
				displayName: 'Idempotency Key',
				name: 'idempotencyKey',
				type: 'string',
				default: '',
				description:
					'Overrides the key derived from the execution, node and item, e.g. a bank transaction ID, so a new execution for the same event does not book again',
			},
			{
				displayName: 'Interest (Cents)',
				name: 'interestCents',
				type: 'number',
				typeOptions: { minValue: 0, numberPrecision: 0 },
				default: 0,
				description: 'Loan repayments only: overrides the interest the schedule gives',
			},
			{
				displayName: 'Memo',
				name: 'memo',
				type: 'string',
				default: '',
			},
			{
				displayName: 'Move Real Money (Plaid Transfer)',
				name: 'moveRealMoney',
				type: 'boolean',
				default: false,
				description:
					'Whether to also move the money at the bank through Plaid Transfer: each Plaid-linked checking or savings account is debited or credited, and the entry stays pending until Plaid settles it (reversed if Plaid fails or returns it). The entity must enable Plaid Transfer; needs the move-money scope.',
			},
		],
	},
];

interface MoveDraft {
	itemIndex: number;
	entityId: string;
	moveRealMoney: boolean;
	entry: IDataObject;
}

interface MoneyMovement {
	via: string;
	status: string;
	transfers: Array<IDataObject & { entryId: string; status: string }>;
}

export class VeilTransfer implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Veil Transfer',
		name: 'veilTransfer',
		icon: { light: 'file:veil.svg', dark: 'file:veil.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{$parameter["resource"] + ": " + $parameter["operation"]}}',
		description: 'Move money between accounts of one entity, or across the veil between an LLC and its owner',
		defaults: { name: 'Veil Transfer' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'veilApi', required: true }],
		properties,
	};

	methods = { loadOptions: { getEntities, getAccounts, getFromAccounts, getToAccounts } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const results: INodeExecutionData[] = [];
		const moves: MoveDraft[] = [];
		for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
			try {
				const resource = this.getNodeParameter('resource', itemIndex) as string;
				const operation = this.getNodeParameter('operation', itemIndex) as string;
				if (resource === 'move') {
					moves.push(moveDraft(this, itemIndex));
					continue;
				}
				const json = await transfer(this, operation, itemIndex);
				results.push({ json, pairedItem: { item: itemIndex } });
			} catch (error) {
				if (!this.continueOnFail()) throw nodeError(this, error, itemIndex);
				results.push({ json: { error: (error as Error).message, code: (error as { code?: string }).code }, pairedItem: { item: itemIndex } });
			}
		}
		if (moves.length > 0) results.push(...(await bookMoves(this, moves)));
		// Keep n8n's item order: one output per input item, in input order.
		results.sort((a, b) => itemOf(a) - itemOf(b));
		return [results];
	}
}

function itemOf(data: INodeExecutionData): number {
	const paired = data.pairedItem;
	return typeof paired === 'object' && paired !== null && !Array.isArray(paired) ? paired.item : 0;
}

function options(context: IExecuteFunctions, itemIndex: number): IDataObject {
	return context.getNodeParameter('options', itemIndex, {}) as IDataObject;
}

function keyFor(context: IExecuteFunctions, itemIndex: number, part: string): string {
	const given = options(context, itemIndex).idempotencyKey;
	return typeof given === 'string' && given.length > 0 ? given : idempotencyKey(context, itemIndex, part);
}

async function transfer(context: IExecuteFunctions, operation: string, itemIndex: number): Promise<IDataObject> {
	if (operation === 'get') {
		const transferId = context.getNodeParameter('transferId', itemIndex) as string;
		return veilRequest(context, 'GET', `/transfers/${encodeURIComponent(transferId)}`, { itemIndex });
	}
	if (operation === 'reverse') {
		const transferId = context.getNodeParameter('transferId', itemIndex) as string;
		return veilRequest(context, 'POST', `/transfers/${encodeURIComponent(transferId)}/reverse`, {
			body: {},
			idempotencyKey: idempotencyKey(context, itemIndex, 'reverse'),
			itemIndex,
		});
	}
	const classification = context.getNodeParameter('classification', itemIndex) as string;
	const extra = options(context, itemIndex);
	const body: IDataObject = {
		classification,
		fromEntityId: context.getNodeParameter('fromEntityId', itemIndex) as string,
		fromAccountId: context.getNodeParameter('fromAccountId', itemIndex) as string,
		toEntityId: context.getNodeParameter('toEntityId', itemIndex) as string,
		toAccountId: context.getNodeParameter('toAccountId', itemIndex) as string,
		amountCents: wholeCents(context, context.getNodeParameter('amountCents', itemIndex), itemIndex),
		postedOn: accountingDate(context.getNodeParameter('postedOn', itemIndex, '')) ?? isoDay(),
	};
	if (typeof extra.memo === 'string' && extra.memo.length > 0) body.memo = extra.memo;
	if (classification === 'loan') {
		body.loan = {
			annualRateBasisPoints: context.getNodeParameter('annualRateBasisPoints', itemIndex) as number,
			termMonths: context.getNodeParameter('termMonths', itemIndex) as number,
			paymentFrequency: context.getNodeParameter('paymentFrequency', itemIndex) as string,
		};
	}
	if (classification === 'loan_repayment' || classification === 'reimbursement_payment') {
		body.relatedTransferId = context.getNodeParameter('relatedTransferId', itemIndex) as string;
	}
	if (classification === 'loan_repayment' && typeof extra.interestCents === 'number' && extra.interestCents > 0) {
		body.interestCents = extra.interestCents;
	}
	if (classification === 'reimbursement') {
		body.reimbursement = {
			businessPurpose: context.getNodeParameter('businessPurpose', itemIndex) as string,
			receiptReference: context.getNodeParameter('receiptReference', itemIndex) as string,
			expenseOn: accountingDate(context.getNodeParameter('expenseOn', itemIndex)),
		};
	}
	if (extra.dryRun === true) {
		const movement: IDataObject = {
			sourceAccountId: body.fromAccountId,
			targetAccountId: body.toAccountId,
			amountCents: body.amountCents,
			classification,
			postedOn: body.postedOn,
		};
		if (body.memo !== undefined) movement.memo = body.memo;
		if (classification === 'loan') {
			const loan = body.loan as IDataObject;
			movement.loan = { annualRateBasisPoints: loan.annualRateBasisPoints, termMonths: loan.termMonths };
		}
		const verdict = await veilRequest(context, 'POST', '/guard/evaluate', { body: { movement }, itemIndex });
		return { dryRun: true, request: body, verdict };
	}
	if (extra.moveRealMoney === true) body.moveMoney = 'plaid_transfer';
	return veilRequest(context, 'POST', '/transfers', { body, idempotencyKey: keyFor(context, itemIndex, 'transfer'), itemIndex });
}

function moveDraft(context: IExecuteFunctions, itemIndex: number): MoveDraft {
	const from = context.getNodeParameter('moveFromAccountId', itemIndex) as string;
	const to = context.getNodeParameter('moveToAccountId', itemIndex) as string;
	const amountCents = wholeCents(context, context.getNodeParameter('amountCents', itemIndex), itemIndex);
	const extra = options(context, itemIndex);
	const memo = typeof extra.memo === 'string' && extra.memo.length > 0 ? extra.memo : undefined;
	return {
		itemIndex,
		entityId: context.getNodeParameter('entityId', itemIndex) as string,
		moveRealMoney: extra.moveRealMoney === true,
		entry: {
			postedOn: accountingDate(context.getNodeParameter('postedOn', itemIndex, '')) ?? isoDay(),
			description: context.getNodeParameter('description', itemIndex) as string,
			source: 'workflow',
			idempotencyKey: keyFor(context, itemIndex, 'move'),
			postings: [
				{ accountId: from, amountCents: -amountCents, ...(memo ? { memo } : {}) },
				{ accountId: to, amountCents, ...(memo ? { memo } : {}) },
			],
		},
	};
}

/** All moves of one entity go in one batched request per 1,000 (all or nothing, each entry keyed by its item). */
async function bookMoves(context: IExecuteFunctions, moves: MoveDraft[]): Promise<INodeExecutionData[]> {
	const results: INodeExecutionData[] = [];
	// One request per entity and per choice of moving real money (the ledger takes that choice per batch).
	const groups = new Map<string, MoveDraft[]>();
	for (const move of moves) {
		const group = `${move.entityId}\u0000${move.moveRealMoney}`;
		groups.set(group, [...(groups.get(group) ?? []), move]);
	}
	for (const drafts of groups.values()) {
		const { entityId, moveRealMoney } = drafts[0] as MoveDraft;
		for (const batch of chunks(drafts, BATCH_ENTRIES_MAX)) {
			// The request key is derived from the entries' own keys: the same items give the same request.
			const requestKey = idempotencyKey(context, batch[0]?.itemIndex ?? 0, `batch:${batch.map((draft) => draft.entry.idempotencyKey).join(',')}`);
			try {
				const booked = await veilRequest<{ entries: IDataObject[]; moneyMovement?: MoneyMovement }>(context, 'POST', `/entities/${encodeURIComponent(entityId)}/entries/batch`, {
					body: { entries: batch.map((draft) => draft.entry), ...(moveRealMoney ? { moveMoney: 'plaid_transfer' } : {}) },
					idempotencyKey: requestKey,
					itemIndex: batch[0]?.itemIndex,
				});
				booked.entries.forEach((entry, index) => {
					const json: IDataObject = { ...entry };
					// Each item carries the Plaid transfers of its own entry (an entry replayed by its key moved nothing new).
					if (booked.moneyMovement) {
						const transfers = booked.moneyMovement.transfers.filter((transfer) => transfer.entryId === entry.id);
						if (transfers.length > 0) json.moneyMovement = { via: booked.moneyMovement.via, status: movementStatus(transfers), transfers };
					}
					results.push({ json, pairedItem: { item: (batch[index] as MoveDraft).itemIndex } });
				});
			} catch (error) {
				if (!context.continueOnFail()) throw nodeError(context, error, batch[0]?.itemIndex);
				// A rejected batch wrote nothing: each item gets its own error when the ledger named one, else the batch's.
				const response = (error as { errorResponse?: { details?: { errors?: Array<{ index: number; code: string; message: string }> } } }).errorResponse;
				const perEntry = new Map((response?.details?.errors ?? []).map((entryError) => [entryError.index, entryError]));
				batch.forEach((draft, index) => {
					const own = perEntry.get(index);
					results.push({
						json: own ? { error: `[${own.code}] ${own.message}`, code: own.code } : { error: (error as Error).message, code: (error as { code?: string }).code },
						pairedItem: { item: draft.itemIndex },
					});
				});
			}
		}
	}
	return results;
}

/** As the ledger reports it: failed once a leg failed or was returned, settled when all settled, else pending. */
function movementStatus(transfers: ReadonlyArray<{ status: string }>): string {
	if (transfers.some((transfer) => ['failed', 'cancelled', 'returned'].includes(transfer.status))) return 'failed';
	return transfers.every((transfer) => transfer.status === 'settled' || transfer.status === 'funds_available') ? 'settled' : 'pending';
}
