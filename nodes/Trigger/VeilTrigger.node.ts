import { createHmac, timingSafeEqual } from 'node:crypto';
import type {
	IDataObject,
	IHookFunctions,
	INodeType,
	INodeTypeDescription,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';
import { getEntities } from '../shared/options';
import { veilRequest } from '../shared/transport';

// Subscribes to ledger events when the workflow is activated and unsubscribes when it is deactivated; every delivery
// is checked against its `Veil-Signature` (HMAC-SHA256 over "timestamp.body" with the subscription's secret) and
// refused when forged or stale.

const TOLERANCE_SECONDS = 300;

export const EVENT_OPTIONS = [
	{ name: 'Balance Low', value: 'balance.low' },
	{ name: 'Bank Line Added', value: 'bank_line.added' },
	{ name: 'Bill Due', value: 'bill.due' },
	{ name: 'Bill Late', value: 'bill.late' },
	{ name: 'Budget Overspent', value: 'budget.overspent' },
	{ name: 'Budget Ready To Assign Not Zero (Month End)', value: 'budget.ready_to_assign_not_zero' },
	{ name: 'Budget Target Underfunded', value: 'budget.target_underfunded' },
	{ name: 'Contribution Limit Near', value: 'contribution.limit_near' },
	{ name: 'Entry Posted', value: 'entry.posted' },
	{ name: 'Entry Reversed', value: 'entry.reversed' },
	{ name: 'Transfer Created', value: 'transfer.created' },
	{ name: 'Veil Violation', value: 'veil.violation' },
];

interface Subscription {
	subscriptionId?: string;
	secret?: string;
}

/** True when `header` (t=<unix>,v1=<hex>) signs `body` with `secret` and is at most TOLERANCE_SECONDS old. */
export function signatureValid(secret: string, body: string, header: string | undefined, nowSeconds: number): boolean {
	if (!header) return false;
	const parts = new Map(header.split(',').map((part) => part.trim().split('=', 2) as [string, string]));
	const timestamp = Number(parts.get('t'));
	const given = parts.get('v1');
	if (!Number.isInteger(timestamp) || !given || Math.abs(nowSeconds - timestamp) > TOLERANCE_SECONDS) return false;
	const expected = createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest();
	const presented = Buffer.from(given, 'hex');
	return presented.length === expected.length && timingSafeEqual(presented, expected);
}

export class VeilTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Veil Trigger',
		name: 'veilTrigger',
		icon: { light: 'file:veil.svg', dark: 'file:veil.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{$parameter["events"].join(", ")}}',
		description: 'Starts the workflow when the Veil ledger posts an entry, books a transfer, blocks a movement and more',
		defaults: { name: 'Veil Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'veilApi', required: true }],
		webhooks: [{ name: 'default', httpMethod: 'POST', responseMode: 'onReceived', path: 'webhook' }],
		properties: [
			{
				displayName: 'Events',
				name: 'events',
				type: 'multiOptions',
				options: EVENT_OPTIONS,
				default: ['entry.posted'],
				required: true,
				description: 'Which ledger events start the workflow',
			},
			{
				displayName: 'Entity Names or IDs',
				name: 'entityIds',
				type: 'multiOptions',
				typeOptions: { loadOptionsMethod: 'getEntities' },
				default: [],
				description: 'Only events of these entities (empty: every entity the credential reaches). Choose from the list, or specify IDs using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
			},
		],
	};

	methods = { loadOptions: { getEntities } };

	webhookMethods = {
		default: {
			async checkExists(this: IHookFunctions): Promise<boolean> {
				const data = this.getWorkflowStaticData('node') as Subscription;
				if (!data.subscriptionId) return false;
				const { items } = await veilRequest<{ items: Array<{ id: string; url: string }> }>(this, 'GET', '/webhooks');
				const url = this.getNodeWebhookUrl('default');
				const found = items.some((item) => item.id === data.subscriptionId && item.url === url);
				if (!found) {
					delete data.subscriptionId;
					delete data.secret;
				}
				return found;
			},
			async create(this: IHookFunctions): Promise<boolean> {
				const data = this.getWorkflowStaticData('node') as Subscription;
				const entityIds = this.getNodeParameter('entityIds', []) as string[];
				const body: IDataObject = { url: this.getNodeWebhookUrl('default') as string, events: this.getNodeParameter('events') as string[] };
				if (entityIds.length > 0) body.entityIds = entityIds;
				const created = await veilRequest<{ id: string; secret: string }>(this, 'POST', '/webhooks', {
					body,
					// One subscription per activation of this node: a retried activation replays, never doubles.
					idempotencyKey: `n8n-subscribe-${this.getNode().id ?? this.getNode().name}-${Date.now()}`,
				});
				data.subscriptionId = created.id;
				data.secret = created.secret;
				return true;
			},
			async delete(this: IHookFunctions): Promise<boolean> {
				const data = this.getWorkflowStaticData('node') as Subscription;
				if (data.subscriptionId) {
					try {
						await veilRequest(this, 'DELETE', `/webhooks/${encodeURIComponent(data.subscriptionId)}`, {
							idempotencyKey: `n8n-unsubscribe-${data.subscriptionId}`,
						});
					} catch (error) {
						// Already gone on the ledger's side is what deactivation wants.
						if ((error as { code?: string }).code !== 'not_found') return false;
					}
				}
				delete data.subscriptionId;
				delete data.secret;
				return true;
			},
		},
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		const data = this.getWorkflowStaticData('node') as Subscription;
		const request = this.getRequestObject();
		const raw = (request as { rawBody?: Buffer }).rawBody;
		const body = raw ? raw.toString('utf8') : JSON.stringify(this.getBodyData());
		const header = this.getHeaderData()['veil-signature'] as string | undefined;
		if (!data.secret || !signatureValid(data.secret, body, header, Math.floor(Date.now() / 1000))) {
			const response = this.getResponseObject();
			response.status(401).json({ error: { code: 'invalid_signature', message: 'the Veil-Signature is missing, forged or stale' } });
			return { noWebhookResponse: true };
		}
		const event = this.getBodyData() as IDataObject;
		const events = this.getNodeParameter('events') as string[];
		const entityIds = this.getNodeParameter('entityIds', []) as string[];
		// The subscription already filters; this keeps an edited-but-not-reactivated node honest too.
		if (!events.includes(String(event.type)) || (entityIds.length > 0 && !entityIds.includes(String(event.entityId)))) {
			return { webhookResponse: { received: true, ignored: true } };
		}
		return { workflowData: [this.helpers.returnJsonArray([event])] };
	}
}
