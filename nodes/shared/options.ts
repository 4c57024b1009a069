import type { IDataObject, IExecuteFunctions, ILoadOptionsFunctions, INodePropertyOptions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import { veilRequest } from './transport';

// Drop-down lists filled from the ledger, shared by every node: entities, accounts of a chosen entity, envelopes,
// bills and Plaid items. Each answers only what the credential may read.

interface Named extends IDataObject {
	id: string;
	name?: string;
}

function byName(items: INodePropertyOptions[]): INodePropertyOptions[] {
	return items.sort((a, b) => a.name.localeCompare(b.name));
}

export async function getEntities(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	const { items } = await veilRequest<{ items: Array<Named & { kind: string }> }>(this, 'GET', '/entities');
	return byName(items.map((entity) => ({ name: `${entity.name} (${entity.kind})`, value: entity.id })));
}

async function accountsOf(context: ILoadOptionsFunctions, parameter: string): Promise<INodePropertyOptions[]> {
	const entityId = context.getCurrentNodeParameter(parameter) as string | undefined;
	if (!entityId) return [];
	const { items } = await veilRequest<{ items: Array<Named & { kind: string; balanceCents: number; currency: string }> }>(
		context,
		'GET',
		`/entities/${encodeURIComponent(entityId)}/accounts`,
	);
	return byName(
		items.map((account) => ({
			name: `${account.name} (${account.kind})`,
			value: account.id,
			description: `Balance ${(account.balanceCents / 100).toFixed(2)} ${account.currency}`,
		})),
	);
}

export async function getAccounts(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	return accountsOf(this, 'entityId');
}

export async function getFromAccounts(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	return accountsOf(this, 'fromEntityId');
}

export async function getToAccounts(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	return accountsOf(this, 'toEntityId');
}

export async function getEnvelopes(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	const entityId = this.getCurrentNodeParameter('entityId') as string | undefined;
	if (!entityId) return [];
	const { envelopes } = await veilRequest<{ envelopes: Named[] }>(this, 'GET', `/entities/${encodeURIComponent(entityId)}/envelopes`);
	return byName(envelopes.map((envelope) => ({ name: envelope.name ?? envelope.id, value: envelope.id })));
}

export async function getBills(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	const entityId = this.getCurrentNodeParameter('entityId') as string | undefined;
	if (!entityId) return [];
	const body = await veilRequest<{ bills?: Named[]; items?: Named[] }>(this, 'GET', `/entities/${encodeURIComponent(entityId)}/bills`);
	const bills = body.bills ?? body.items ?? [];
	return byName(bills.map((bill) => ({ name: bill.name ?? bill.id, value: bill.id })));
}

export async function getPlaidItems(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	const entityId = this.getCurrentNodeParameter('entityId') as string | undefined;
	if (!entityId) return [];
	const { items } = await veilRequest<{ items: Array<Named & { institutionName?: string; status?: string }> }>(
		this,
		'GET',
		`/entities/${encodeURIComponent(entityId)}/plaid/items`,
	);
	return byName(items.map((item) => ({ name: `${item.institutionName ?? item.id} (${item.status ?? 'unknown'})`, value: item.id })));
}

/** 'YYYY-MM-DD' of a date parameter (n8n date pickers give an ISO date-time, expressions may give a date). */
export function accountingDate(value: unknown): string | undefined {
	if (value === undefined || value === null || value === '') return undefined;
	const text = String(value);
	const match = /^\d{4}-\d{2}-\d{2}/.exec(text);
	return match ? match[0] : text;
}

/** 'YYYY-MM-DD' of today (UTC) moved by `offsetDays`: the ledger's accounting dates are UTC days. */
export function isoDay(offsetDays = 0): string {
	return new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

/** An amount parameter as integer cents: a positive whole number, or a NodeOperationError naming the item. */
export function wholeCents(context: IExecuteFunctions, value: unknown, itemIndex: number): number {
	const cents = Number(value);
	if (!Number.isInteger(cents) || cents <= 0) {
		throw new NodeOperationError(context.getNode(), `Amount must be a positive whole number of cents, got ${String(value)}`, { itemIndex });
	}
	return cents;
}
