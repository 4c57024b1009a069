import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';
import { idempotencyKey, nodeError, veilRequest } from '../shared/transport';

// Tells the ledger how this n8n execution ended. n8n gives a node no "workflow finished" hook and the Error Trigger
// covers failures only, so a workflow that books money ends with this node: its run means every node before it
// succeeded. One request per run of the node, whatever the number of items (they all belong to one execution).

export class VeilExecution implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Veil Execution',
		name: 'veilExecution',
		icon: { light: 'file:veil.svg', dark: 'file:veil.dark.svg' },
		group: ['output'],
		version: 1,
		subtitle: '={{$parameter["operation"]}}',
		description: 'Record in the Veil ledger that this workflow execution succeeded',
		defaults: { name: 'Veil Execution' },
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
				options: [{ name: 'Execution', value: 'execution' }],
				default: 'execution',
			},
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				options: [
					{
						name: 'Report Success',
						value: 'reportSuccess',
						description: 'Record this execution as succeeded (put it last: it runs only when every node before it did)',
						action: 'Report this execution succeeded',
					},
				],
				default: 'reportSuccess',
			},
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const pairedItem = items.map((_, item) => ({ item }));
		const executionId = this.getExecutionId();
		const workflow = this.getWorkflow();
		try {
			const body: IDataObject = { status: 'succeeded' };
			if (workflow.id) body.workflowId = String(workflow.id).slice(0, 100);
			if (workflow.name) body.workflowName = Array.from(workflow.name).slice(0, 200).join('');
			const recorded = await veilRequest(this, 'POST', `/executions/${encodeURIComponent(executionId)}/status`, {
				body,
				idempotencyKey: idempotencyKey(this, 0, 'status'),
			});
			return [[{ json: { ...recorded, recorded: true }, pairedItem }]];
		} catch (error) {
			// An execution that booked nothing (a branch that decided not to) has nothing to report.
			if ((error as { code?: string }).code === 'execution_not_found') {
				return [[{ json: { executionId, recorded: false }, pairedItem }]];
			}
			if (!this.continueOnFail()) throw nodeError(this, error, 0);
			return [[{ json: { error: (error as Error).message, code: (error as { code?: string }).code }, pairedItem }]];
		}
	}
}
