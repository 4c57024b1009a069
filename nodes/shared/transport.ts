import { createHash } from 'node:crypto';
import type {
	IDataObject,
	IExecuteFunctions,
	IHookFunctions,
	IHttpRequestMethods,
	IHttpRequestOptions,
	ILoadOptionsFunctions,
	IWebhookFunctions,
	JsonObject,
} from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

// The one way every Veil node talks to the ledger: authenticated with the Veil API credential, ledger error bodies
// ({error:{code,message,details}}) turned into NodeApiError carrying the code, and every write sent with the n8n
// execution id and an Idempotency-Key derived from (execution, node, item) so a retried execution never books twice.

export type VeilContext = IExecuteFunctions | ILoadOptionsFunctions | IHookFunctions | IWebhookFunctions;

export const CREDENTIAL = 'veilApi';
/** The ledger's batch endpoint takes at most this many entries per request. */
export const BATCH_ENTRIES_MAX = 1000;

export interface LedgerErrorBody {
	error?: { code?: string; message?: string; details?: unknown };
}

export class VeilError extends NodeApiError {}

function trimSlash(url: string): string {
	return url.replace(/\/+$/, '');
}

export async function baseUrlOf(context: VeilContext): Promise<string> {
	const credentials = await context.getCredentials(CREDENTIAL);
	return trimSlash(String(credentials.baseUrl));
}

export interface RequestOptions {
	body?: IDataObject | IDataObject[];
	qs?: IDataObject;
	/** Required for writes: the Idempotency-Key the ledger replays instead of repeating. */
	idempotencyKey?: string;
	itemIndex?: number;
}

/** Sends one request to the ledger and returns its JSON body; any non-2xx answer throws a NodeApiError. */
export async function veilRequest<T = IDataObject>(
	context: VeilContext,
	method: IHttpRequestMethods,
	path: string,
	options: RequestOptions = {},
): Promise<T> {
	const headers: IDataObject = { Accept: 'application/json' };
	if ('getExecutionId' in context) {
		const executionId = context.getExecutionId();
		if (executionId) {
			headers['X-N8N-Execution-Id'] = executionId;
			// The ledger records which workflow the execution belongs to; a header carries Latin-1 only, hence the encoding.
			const workflow = 'getWorkflow' in context ? context.getWorkflow() : undefined;
			if (workflow?.id) headers['X-N8N-Workflow-Id'] = String(workflow.id).slice(0, 100);
			if (workflow?.name) headers['X-N8N-Workflow-Name'] = encodeURIComponent(Array.from(workflow.name).slice(0, 200).join(''));
		}
	}
	if (options.idempotencyKey !== undefined) headers['Idempotency-Key'] = options.idempotencyKey;
	const request: IHttpRequestOptions = {
		method,
		url: `${await baseUrlOf(context)}${path}`,
		headers,
		json: true,
		returnFullResponse: true,
		ignoreHttpStatusErrors: true,
	};
	if (options.body !== undefined) request.body = options.body;
	if (options.qs !== undefined) request.qs = options.qs;
	let response: { statusCode: number; body: unknown };
	try {
		response = (await context.helpers.httpRequestWithAuthentication.call(context, CREDENTIAL, request)) as {
			statusCode: number;
			body: unknown;
		};
	} catch (error) {
		throw new NodeApiError(context.getNode(), error as JsonObject, {
			message: `The Veil ledger could not be reached: ${(error as Error).message}`,
			itemIndex: options.itemIndex,
		});
	}
	if (response.statusCode >= 200 && response.statusCode < 300) return response.body as T;
	throw ledgerError(context, response.statusCode, response.body, options.itemIndex);
}

/** A ledger error body as a NodeApiError: the message starts with the ledger's machine-readable code. */
export function ledgerError(context: VeilContext, statusCode: number, body: unknown, itemIndex?: number): NodeApiError {
	const parsed = (typeof body === 'object' && body !== null ? body : {}) as LedgerErrorBody;
	const code = parsed.error?.code ?? `http_${statusCode}`;
	const message = parsed.error?.message ?? `the ledger answered HTTP ${statusCode}`;
	const details = parsed.error?.details;
	const error = new NodeApiError(context.getNode(), { code, message, details: (details ?? null) as JsonObject, httpCode: statusCode }, {
		message: `[${code}] ${message}`,
		description: details === undefined ? undefined : JSON.stringify(details),
		httpCode: String(statusCode),
		itemIndex,
	});
	// NodeApiError keeps the response as `errorResponse`; the code is also kept where callers look first.
	(error as NodeApiError & { code?: string }).code = code;
	error.context.ledgerCode = code;
	return error;
}

/**
 * The Idempotency-Key of one write: the same execution, node and item always give the same key, so when n8n retries
 * an execution (or the node retries on failure) the ledger replays the first answer instead of booking again.
 * `part` separates several writes made for one item (e.g. "batch" vs "single").
 */
export function idempotencyKey(context: IExecuteFunctions, itemIndex: number, part = ''): string {
	const node = context.getNode();
	const executionId = context.getExecutionId() ?? 'no-execution';
	const digest = createHash('sha256')
		.update(`${executionId}\u0000${node.name}\u0000${itemIndex}\u0000${part}`)
		.digest('hex')
		.slice(0, 40);
	return `n8n-${digest}`;
}

/** Splits `items` into chunks of at most `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
	const out: T[][] = [];
	for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size));
	return out;
}

/** The error a node throws: n8n's own errors pass through; anything else becomes a NodeOperationError. */
export function nodeError(context: IExecuteFunctions, error: unknown, itemIndex?: number): NodeApiError | NodeOperationError {
	if (error instanceof NodeApiError || error instanceof NodeOperationError) return error;
	return new NodeOperationError(context.getNode(), error as Error, { itemIndex });
}
