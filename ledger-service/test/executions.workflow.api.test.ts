import { createBooks, type Books } from './support/books';
import { key, startTestLedger, type TestLedger } from './support/harness';

// n8n executions with their workflow (X-N8N-Workflow-Id / -Name from the Veil nodes) and their status: running
// from the first write, succeeded or failed as n8n reports it, rolled_back (final) after a rollback.

let ledger: TestLedger;
let books: Books;

jest.setTimeout(600_000);

beforeAll(async () => {
  ledger = await startTestLedger();
  books = await createBooks(ledger, { name: 'Workflow LLC', accounts: { checking: 'checking', revenue: 'income_category' } });
});
afterAll(() => ledger.close());

function sale(executionId: string, workflow: { id?: string; name?: string }, amountCents = 1_000) {
  const request = ledger.http.post(`/entities/${books.entityId}/entries`).set('Idempotency-Key', key()).set('X-N8N-Execution-Id', executionId);
  if (workflow.id !== undefined) request.set('X-N8N-Workflow-Id', workflow.id);
  if (workflow.name !== undefined) request.set('X-N8N-Workflow-Name', workflow.name);
  return request
    .send({
      postedOn: '2026-05-02',
      description: `Sale in ${executionId}`,
      postings: [
        { accountId: books.accounts.checking, amountCents },
        { accountId: books.accounts.revenue, amountCents: -amountCents },
      ],
    })
    .expect(201);
}

async function listed(query = ''): Promise<Record<string, { workflowId: string | null; workflowName: string | null; status: string; failedAt: string | null; errorMessage: string | null; entryCount: number }>> {
  const response = await ledger.http.get(`/executions${query}`).expect(200);
  return Object.fromEntries(response.body.items.map((item: { executionId: string }) => [item.executionId, item]));
}

describe('executions with their workflow and status', () => {
  it('records the workflow id and (percent-encoded) name the nodes send, and lists by workflow', async () => {
    await sale('w-1', { id: 'wfPayroll', name: encodeURIComponent('Paie ☕ mensuelle') });
    await sale('w-1', { id: 'wfPayroll', name: encodeURIComponent('Paie ☕ mensuelle') });
    await sale('w-2', { id: 'wfInvoices', name: 'Invoices' });
    await sale('w-3', { name: '%E0%A4%A' }); // malformed encoding: the name is dropped, the write is not
    await sale('w-4', {});
    const all = await listed();
    expect(all['w-1']).toMatchObject({ workflowId: 'wfPayroll', workflowName: 'Paie ☕ mensuelle', status: 'running', failedAt: null, entryCount: 2 });
    expect(all['w-2']).toMatchObject({ workflowId: 'wfInvoices', workflowName: 'Invoices', status: 'running' });
    expect(all['w-3']).toMatchObject({ workflowId: null, workflowName: null, status: 'running' });
    expect(all['w-4']).toMatchObject({ workflowId: null, workflowName: null });
    expect(Object.keys(await listed('?workflowId=wfPayroll'))).toEqual(['w-1']);
    expect(Object.keys(await listed(`?workflowId=wfInvoices&entityId=${books.entityId}`))).toEqual(['w-2']);
    expect(await listed('?workflowId=nothing')).toEqual({});
    expect((await ledger.http.get(`/executions?workflowId=${'x'.repeat(101)}`).expect(400)).body.error.code).toBe('invalid_request');
    const detail = await ledger.http.get('/executions/w-1').expect(200);
    expect(detail.body).toMatchObject({ executionId: 'w-1', workflowId: 'wfPayroll', status: 'running', rolledBack: false });
  });

  it('takes succeeded and failed reports from n8n, and rejects bad ones', async () => {
    const report = (executionId: string, body: object) => ledger.http.post(`/executions/${executionId}/status`).set('Idempotency-Key', key()).send(body);
    expect((await report('w-2', { status: 'succeeded' }).expect(200)).body).toMatchObject({ executionId: 'w-2', status: 'succeeded', workflowId: 'wfInvoices', failedAt: null });
    const failed = await report('w-4', { status: 'failed', errorMessage: 'Node "Pay" timed out', workflowId: 'wfLate', workflowName: 'Late' }).expect(200);
    expect(failed.body).toMatchObject({ status: 'failed', errorMessage: 'Node "Pay" timed out', workflowId: 'wfLate', workflowName: 'Late' });
    expect(failed.body.failedAt).toEqual(expect.any(String));
    expect((await report('w-4', { status: 'rolled_back' }).expect(400)).body.error.code).toBe('invalid_request');
    expect((await report('w-4', { status: 'failed', extra: 1 }).expect(400)).body.error.code).toBe('invalid_request');
    expect((await report('w-4', { status: 'failed', errorMessage: 'x'.repeat(1001) }).expect(400)).body.error.code).toBe('invalid_request');
    const all = await listed();
    expect(all['w-2']?.status).toBe('succeeded');
    expect(all['w-4']).toMatchObject({ status: 'failed', workflowId: 'wfLate' });
  });

  it('a rollback from the Error Trigger records the failure and ends rolled_back, which no report changes', async () => {
    const rollback = await ledger.http
      .post('/executions/w-1/rollback')
      .set('Idempotency-Key', key())
      .set('X-N8N-Execution-Id', 'error-handler-1')
      .send({ failed: true, errorMessage: 'Allocate failed: no rules', workflowId: 'wfPayroll' })
      .expect(200);
    expect(rollback.body.reversed).toHaveLength(2);
    const all = await listed();
    expect(all['w-1']).toMatchObject({ status: 'rolled_back', errorMessage: 'Allocate failed: no rules', workflowName: 'Paie ☕ mensuelle' });
    expect(all['w-1']?.failedAt).toEqual(expect.any(String));
    // The error workflow's own execution wrote the reversals: it is listed too, as running.
    expect(all['error-handler-1']).toMatchObject({ status: 'running', entryCount: 0 });
    const late = await ledger.http.post('/executions/w-1/status').set('Idempotency-Key', key()).send({ status: 'succeeded' }).expect(409);
    expect(late.body.error.code).toBe('execution_rolled_back');
    // A rollback without a body (from the dashboard) still works and leaves the failure as recorded.
    await ledger.http.post('/executions/w-2/rollback').set('Idempotency-Key', key()).expect(200);
    expect((await listed())['w-2']).toMatchObject({ status: 'rolled_back', failedAt: null });
  });
});
