import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';
import { accountingDate, getAccounts, getEntities } from '../shared/options';
import { idempotencyKey, veilRequest, nodeError } from '../shared/transport';

// Entity Guard judges a proposed movement or an imported bank line: allow, document (allowed once documented) or
// block. Each item leaves on the output of its verdict, with the reasons; nothing is written to the books, unless
// "Auto-Apply Suggested Fix" is on: then a booked entry the verdict has a fix for (the ledger's veil-health fixes:
// an LLC paying a personal expense becomes an owner draw; a personal account paying an LLC expense becomes a
// reimbursement owed) is reversed and rebooked as that documented crossing, and the item leaves on Allow.

/** The verdict's reason codes the ledger has a fix for (POST /veil-health/fixes), and the fix each gets. */
const FIX_OF_REASON: Readonly<Record<string, 'reclassify_as_draw' | 'create_reimbursement'>> = {
	commingling_personal_expense: 'reclassify_as_draw',
	reimbursement_owed: 'create_reimbursement',
};

const OUTPUTS = ['allow', 'document', 'block'] as const;
const MOVEMENT = { show: { operation: ['evaluateMovement'] } };
const BANK_LINE = { show: { operation: ['evaluateBankLine'] } };

export class VeilEntityGuard implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Veil Entity Guard',
		name: 'veilEntityGuard',
		icon: { light: 'file:veil.svg', dark: 'file:veil.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{$parameter["operation"]}}',
		description: 'Judge a money movement or bank line against the corporate veil: allow, document or block',
		defaults: { name: 'Veil Entity Guard' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main, NodeConnectionTypes.Main],
		outputNames: ['Allow', 'Document', 'Block'],
		credentials: [{ name: 'veilApi', required: true }],
		properties: [
			{
				displayName: 'Resource',
				name: 'resource',
				type: 'options',
				noDataExpression: true,
				options: [{ name: 'Verdict', value: 'verdict' }],
				default: 'verdict',
			},
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				options: [
					{ name: 'Evaluate Bank Line', value: 'evaluateBankLine', description: 'Judge an imported bank line (negative amount: money out)', action: 'Evaluate a bank line' },
					{ name: 'Evaluate Movement', value: 'evaluateMovement', description: 'Judge a proposed movement before it is made', action: 'Evaluate a movement' },
				],
				default: 'evaluateMovement',
			},
			{
				displayName: 'Entity Name or ID',
				name: 'entityId',
				type: 'options',
				typeOptions: { loadOptionsMethod: 'getEntities' },
				default: '',
				description: 'Only fills the account list below. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
			},
			{
				displayName: 'Source Account Name or ID',
				name: 'sourceAccountId',
				type: 'options',
				typeOptions: { loadOptionsMethod: 'getAccounts', loadOptionsDependsOn: ['entityId'] },
				default: '',
				required: true,
				displayOptions: MOVEMENT,
				description: 'The account the money would leave. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
			},
			{
				displayName: 'Target Account ID',
				name: 'targetAccountId',
				type: 'string',
				default: '',
				displayOptions: MOVEMENT,
				description: 'The account it would reach, in any entity; empty when it goes to a merchant or other outside party',
			},
			{
				displayName: 'Account Name or ID',
				name: 'accountId',
				type: 'options',
				typeOptions: { loadOptionsMethod: 'getAccounts', loadOptionsDependsOn: ['entityId'] },
				default: '',
				required: true,
				displayOptions: BANK_LINE,
				description: 'The bank account the line belongs to. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
			},
			{
				displayName: 'Amount (Cents)',
				name: 'amountCents',
				type: 'number',
				typeOptions: { numberPrecision: 0 },
				default: 0,
				required: true,
				description: 'Whole cents. A movement is positive; a bank line is negative for money out.',
			},
			{
				displayName: 'Details',
				name: 'details',
				type: 'collection',
				placeholder: 'Add Detail',
				default: {},
				options: [
					{ displayName: 'Category', name: 'category', type: 'string', default: '' },
					{
						displayName: 'Classification',
						name: 'classification',
						type: 'options',
						options: [
							{ name: 'Capital Contribution', value: 'capital_contribution' },
							{ name: 'Loan', value: 'loan' },
							{ name: 'Loan Repayment', value: 'loan_repayment' },
							{ name: 'Owner Draw', value: 'owner_draw' },
							{ name: 'Reimbursement', value: 'reimbursement' },
							{ name: 'Reimbursement Payment', value: 'reimbursement_payment' },
						],
						default: 'owner_draw',
						description: 'Movements only: what the crossing would be booked as',
					},
					{ displayName: 'Memo', name: 'memo', type: 'string', default: '' },
					{ displayName: 'Payee', name: 'payee', type: 'string', default: '' },
					{ displayName: 'Posted On', name: 'postedOn', type: 'dateTime', default: '' },
				],
			},
			{
				displayName: 'Auto-Apply Suggested Fix',
				name: 'autoFix',
				type: 'boolean',
				default: false,
				description:
					'Whether to apply the fix the ledger suggests to the booked entry: an LLC account paying a personal expense is rebooked as an owner draw, a personal account paying an LLC expense as a reimbursement owed (needs the move-money scope)',
			},
			{
				displayName: 'Fix',
				name: 'fix',
				type: 'collection',
				placeholder: 'Add Field',
				default: {},
				displayOptions: { show: { autoFix: [true] } },
				options: [
					{
						displayName: 'Entry ID',
						name: 'entryId',
						type: 'string',
						default: '={{ $json.entryId }}',
						description: 'The booked entry to fix (a synced bank line carries it as entryId)',
					},
					{
						displayName: 'Owner Account ID',
						name: 'personalAccountId',
						type: 'string',
						default: '',
						description: "Owner draw fix: the owner's account the draw lands on",
					},
					{
						displayName: 'LLC Expense Account ID',
						name: 'llcExpenseAccountId',
						type: 'string',
						default: '',
						description: "Reimbursement fix: the LLC's expense account",
					},
					{
						displayName: 'Receipt Reference',
						name: 'receiptReference',
						type: 'string',
						default: '',
						description: 'Reimbursement fix: a file name or URL of the receipt',
					},
				],
			},
		],
	};

	methods = { loadOptions: { getEntities, getAccounts } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const outputs: INodeExecutionData[][] = [[], [], []];
		for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
			try {
				const operation = this.getNodeParameter('operation', itemIndex) as string;
				const amountCents = Number(this.getNodeParameter('amountCents', itemIndex));
				if (!Number.isInteger(amountCents) || amountCents === 0) {
					throw new NodeOperationError(this.getNode(), `Amount must be a non-zero whole number of cents, got ${String(amountCents)}`, { itemIndex });
				}
				const details = this.getNodeParameter('details', itemIndex, {}) as IDataObject;
				const described: IDataObject = {};
				for (const field of ['payee', 'category', 'memo']) {
					if (typeof details[field] === 'string' && (details[field] as string).length > 0) described[field] = details[field];
				}
				const postedOn = accountingDate(details.postedOn);
				if (postedOn !== undefined) described.postedOn = postedOn;
				let body: IDataObject;
				if (operation === 'evaluateBankLine') {
					body = { bankLine: { accountId: this.getNodeParameter('accountId', itemIndex) as string, amountCents, ...described } };
				} else {
					const movement: IDataObject = { sourceAccountId: this.getNodeParameter('sourceAccountId', itemIndex) as string, amountCents, ...described };
					const target = this.getNodeParameter('targetAccountId', itemIndex, '') as string;
					if (target) movement.targetAccountId = target;
					if (typeof details.classification === 'string') movement.classification = details.classification;
					body = { movement };
				}
				const verdict = await veilRequest<IDataObject & { decision: (typeof OUTPUTS)[number]; reasons?: Array<{ code: string }> }>(this, 'POST', '/guard/evaluate', { body, itemIndex });
				let output = OUTPUTS.indexOf(verdict.decision);
				const guard: IDataObject = { ...verdict };
				if (verdict.decision !== 'allow' && this.getNodeParameter('autoFix', itemIndex, false) === true) {
					const applied = await applyFix(this, itemIndex, verdict.reasons ?? []);
					guard.fix = applied;
					if (applied.applied === true) output = 0;
				}
				outputs[output < 0 ? 2 : output]?.push({ json: { ...items[itemIndex]?.json, guard }, pairedItem: { item: itemIndex } });
			} catch (error) {
				if (!this.continueOnFail()) throw nodeError(this, error, itemIndex);
				// A failed evaluation never lets an item through: it leaves on the block output, with the error.
				outputs[2]?.push({ json: { ...items[itemIndex]?.json, error: (error as Error).message, code: (error as { code?: string }).code }, pairedItem: { item: itemIndex } });
			}
		}
		return outputs;
	}
}

/**
 * Applies the ledger's fix for the first fixable reason, when the fields it needs are given; otherwise says why not.
 * Keyed by (execution, node, item): a retried execution replays the fix instead of rebooking.
 */
async function applyFix(context: IExecuteFunctions, itemIndex: number, reasons: Array<{ code: string }>): Promise<IDataObject> {
	const kind = reasons.map((reason) => FIX_OF_REASON[reason.code]).find((fix) => fix !== undefined);
	if (kind === undefined) return { applied: false, reason: 'no fix applies to these reasons' };
	const fields = context.getNodeParameter('fix', itemIndex, {}) as IDataObject;
	const text = (name: string): string => (typeof fields[name] === 'string' ? (fields[name] as string).trim() : '');
	const entryId = text('entryId');
	if (entryId === '') return { applied: false, fix: kind, reason: 'no booked entry to fix (Entry ID is empty)' };
	let body: IDataObject;
	if (kind === 'reclassify_as_draw') {
		if (text('personalAccountId') === '') return { applied: false, fix: kind, reason: 'Owner Account ID is needed to rebook it as an owner draw' };
		body = { fix: kind, entryId, personalAccountId: text('personalAccountId') };
	} else {
		if (text('llcExpenseAccountId') === '' || text('receiptReference') === '') {
			return { applied: false, fix: kind, reason: 'LLC Expense Account ID and Receipt Reference are needed to rebook it as a reimbursement' };
		}
		body = { fix: kind, entryId, llcExpenseAccountId: text('llcExpenseAccountId'), receiptReference: text('receiptReference') };
	}
	const result = await veilRequest(context, 'POST', '/veil-health/fixes', { body, idempotencyKey: idempotencyKey(context, itemIndex, `fix:${entryId}`), itemIndex });
	return { applied: true, fix: kind, result };
}
