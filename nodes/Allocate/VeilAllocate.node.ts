import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';
import { getEntities, getEnvelopes, wholeCents } from '../shared/options';
import { idempotencyKey, veilRequest, nodeError } from '../shared/transport';

// Runs the entity's allocation rules on an amount or an income entry: envelopes get their shares, and what is
// left is reported. A dry run shows the assignments without booking them.

export class VeilAllocate implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Veil Allocate',
		name: 'veilAllocate',
		icon: { light: 'file:veil.svg', dark: 'file:veil.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{$parameter["operation"]}}',
		description: 'Split income into envelopes with the entity allocation rules',
		defaults: { name: 'Veil Allocate' },
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
				options: [
					{ name: 'Allocation', value: 'allocation' },
					{ name: 'Envelope', value: 'envelope' },
				],
				default: 'allocation',
			},
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				displayOptions: { show: { resource: ['allocation'] } },
				options: [{ name: 'Run', value: 'run', description: 'Run the allocation rules on an amount or an income entry', action: 'Run an allocation' }],
				default: 'run',
			},
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				displayOptions: { show: { resource: ['envelope'] } },
				options: [{ name: 'Get Many', value: 'getAll', description: 'List the envelopes of an entity', action: 'Get many envelopes' }],
				default: 'getAll',
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
				displayName: 'Month',
				name: 'month',
				type: 'string',
				default: '={{$now.toFormat("yyyy-MM")}}',
				required: true,
				displayOptions: { show: { resource: ['allocation'] } },
				description: 'The budget month, YYYY-MM',
			},
			{
				displayName: 'Source',
				name: 'source',
				type: 'options',
				options: [
					{ name: 'Amount', value: 'amount', description: 'Allocate a given amount' },
					{ name: 'Income Entry', value: 'entry', description: 'Allocate what an income entry brought in' },
				],
				default: 'amount',
				displayOptions: { show: { resource: ['allocation'] } },
			},
			{
				displayName: 'Amount (Cents)',
				name: 'amountCents',
				type: 'number',
				typeOptions: { minValue: 1, numberPrecision: 0 },
				default: 0,
				displayOptions: { show: { resource: ['allocation'], source: ['amount'] } },
				description: 'Whole cents: 250000 is 2,500.00',
			},
			{
				displayName: 'Source Entry ID',
				name: 'sourceEntryId',
				type: 'string',
				default: '',
				displayOptions: { show: { resource: ['allocation'], source: ['entry'] } },
			},
			{
				displayName: 'Rules',
				name: 'ruleSource',
				type: 'options',
				options: [
					{ name: 'Saved Rules', value: 'saved', description: 'The allocation rules saved for the entity' },
					{ name: 'Rules Given Here', value: 'node', description: 'The rules below, in order, instead of the saved ones' },
				],
				default: 'saved',
				displayOptions: { show: { resource: ['allocation'] } },
			},
			{
				displayName: 'Allocation Rules',
				name: 'rules',
				type: 'fixedCollection',
				typeOptions: { multipleValues: true, sortable: true },
				placeholder: 'Add Rule',
				default: {},
				displayOptions: { show: { resource: ['allocation'], ruleSource: ['node'] } },
				description: 'Applied in order; a remainder rule goes last',
				options: [
					{
						displayName: 'Rule',
						name: 'rule',
						values: [
							{
								displayName: 'Kind',
								name: 'kind',
								type: 'options',
								options: [
									{ name: 'Fixed', value: 'fixed', description: 'This many cents' },
									{ name: 'Percent', value: 'percent', description: 'Basis points of the incoming amount, rounded down' },
									{ name: 'Fill to Target', value: 'fill_to_target', description: 'What the envelope target still needs this month' },
									{ name: 'Remainder', value: 'remainder', description: 'Whatever is left (last rule only)' },
								],
								default: 'fixed',
							},
							{
								displayName: 'Envelope Name or ID',
								name: 'envelopeId',
								type: 'options',
								typeOptions: { loadOptionsMethod: 'getEnvelopes', loadOptionsDependsOn: ['entityId'] },
								default: '',
								description: 'Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>',
							},
							{
								displayName: 'Amount (Cents)',
								name: 'amountCents',
								type: 'number',
								typeOptions: { minValue: 1, numberPrecision: 0 },
								default: 0,
								displayOptions: { show: { kind: ['fixed'] } },
								description: 'Fixed rules: whole cents',
							},
							{
								displayName: 'Basis Points',
								name: 'basisPoints',
								type: 'number',
								typeOptions: { minValue: 1, maxValue: 10000, numberPrecision: 0 },
								default: 1000,
								displayOptions: { show: { kind: ['percent'] } },
								description: 'Percent rules: 2550 is 25.50% of the incoming amount',
							},
						],
					},
				],
			},
			{
				displayName: 'Dry Run',
				name: 'dryRun',
				type: 'boolean',
				default: false,
				displayOptions: { show: { resource: ['allocation'] } },
				description: 'Whether to show the assignments without booking them',
			},
		],
	};

	methods = { loadOptions: { getEntities, getEnvelopes } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const results: INodeExecutionData[] = [];
		for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
			try {
				const resource = this.getNodeParameter('resource', itemIndex) as string;
				const entityId = encodeURIComponent(this.getNodeParameter('entityId', itemIndex) as string);
				if (resource === 'envelope') {
					const { envelopes } = await veilRequest<{ envelopes: IDataObject[] }>(this, 'GET', `/entities/${entityId}/envelopes`, { itemIndex });
					for (const envelope of envelopes) results.push({ json: envelope, pairedItem: { item: itemIndex } });
					continue;
				}
				const body: IDataObject = { month: this.getNodeParameter('month', itemIndex) as string, dryRun: this.getNodeParameter('dryRun', itemIndex) as boolean };
				if (this.getNodeParameter('source', itemIndex) === 'entry') {
					body.sourceEntryId = this.getNodeParameter('sourceEntryId', itemIndex) as string;
				} else {
					body.amountCents = wholeCents(this, this.getNodeParameter('amountCents', itemIndex), itemIndex);
				}
				if (this.getNodeParameter('ruleSource', itemIndex, 'saved') === 'node') body.rules = rulesOf(this, itemIndex);
				const allocation = await veilRequest(this, 'POST', `/entities/${entityId}/allocations`, {
					body,
					idempotencyKey: idempotencyKey(this, itemIndex, body.dryRun ? 'allocate-dry' : 'allocate'),
					itemIndex,
				});
				results.push({ json: allocation, pairedItem: { item: itemIndex } });
			} catch (error) {
				if (!this.continueOnFail()) throw nodeError(this, error, itemIndex);
				results.push({ json: { error: (error as Error).message, code: (error as { code?: string }).code }, pairedItem: { item: itemIndex } });
			}
		}
		return [results];
	}
}

interface RuleParameter {
	kind: string;
	envelopeId: string;
	amountCents?: number;
	basisPoints?: number;
}

/** The rules given in the node, as the ledger's AllocationRule: each kind carries only its own field. */
function rulesOf(context: IExecuteFunctions, itemIndex: number): IDataObject[] {
	const given = (context.getNodeParameter('rules', itemIndex, {}) as { rule?: RuleParameter[] }).rule ?? [];
	if (given.length === 0) throw new NodeOperationError(context.getNode(), 'Rules Given Here needs at least one rule', { itemIndex });
	return given.map((rule) => {
		const out: IDataObject = { kind: rule.kind, envelopeId: rule.envelopeId };
		if (rule.kind === 'fixed') out.amountCents = wholeCents(context, rule.amountCents, itemIndex);
		if (rule.kind === 'percent') out.basisPoints = Number(rule.basisPoints);
		return out;
	});
}
