import { createBooks, checkInvariants, type Books } from './support/books';
import { key, startTestLedger, type TestLedger } from './support/harness';

let ledger: TestLedger;
let llc: Books;
let owner: Books;

beforeAll(async () => {
  ledger = await startTestLedger({ ownerMfa: true });
  llc = await createBooks(ledger, { name: 'Studio LLC', accounts: { checking: 'checking', software: 'expense_category', revenue: 'income_category' } });
  owner = await createBooks(ledger, { kind: 'personal', name: 'Dana Owner', accounts: { checking: 'checking', card: 'credit_card', groceries: 'expense_category' } });
});
afterAll(() => ledger.close());

function post(path: string, body: unknown, idempotencyKey = key()) {
  return ledger.http.post(path).set('Idempotency-Key', idempotencyKey).send(body as object);
}

type Side = 'llc' | 'owner';
function books(side: Side): Books {
  return side === 'llc' ? llc : owner;
}

function transfer(from: Side, fromAccount: string, to: Side, toAccount: string, amountCents: number, extra: Record<string, unknown> = {}) {
  return {
    fromEntityId: books(from).entityId,
    fromAccountId: books(from).accounts[fromAccount],
    toEntityId: books(to).entityId,
    toAccountId: books(to).accounts[toAccount],
    amountCents,
    postedOn: '2026-03-10',
    ...extra,
  };
}

async function accountsOf(entityId: string): Promise<Map<string, { kind: string; name: string; counterpartyEntityId: string | null }>> {
  const response = await ledger.http.get(`/entities/${entityId}/accounts`).expect(200);
  return new Map(response.body.items.map((account: { id: string }) => [account.id, account]));
}

/** An entry's postings as [account kind (or test name), amount], so expectations read like the DESIGN table. */
async function described(entry: { entityId: string; postings: { accountId: string; amountCents: number }[] }) {
  const side = entry.entityId === llc.entityId ? llc : owner;
  const names = new Map(Object.entries(side.accounts).map(([name, id]) => [id, name]));
  const accounts = await accountsOf(entry.entityId);
  return entry.postings.map((posting) => {
    const account = accounts.get(posting.accountId);
    if (account?.counterpartyEntityId) {
      const other = entry.entityId === llc.entityId ? owner.entityId : llc.entityId;
      expect(account.counterpartyEntityId).toBe(other);
    }
    return [names.get(posting.accountId) ?? account?.name, posting.amountCents];
  });
}

async function pairing() {
  const response = await ledger.http.get(`/entities/${llc.entityId}/veil/pairing`).expect(200);
  return response.body;
}

async function writeCounts() {
  const invariants = await checkInvariants(ledger.deps.db);
  const transfers = await ledger.http.get(`/entities/${llc.entityId}/transfers`).expect(200);
  return { entries: invariants.entries, transfers: transfers.body.items.length };
}

describe('inter-entity transfers: exact postings in both books', () => {
  let loanId: string;
  let reimbursementId: string;

  it('capital contribution: LLC Dr cash / Cr member contributions; owner Dr investment in LLC / Cr cash', async () => {
    const response = await post('/transfers', transfer('owner', 'checking', 'llc', 'checking', 500_000, { classification: 'capital_contribution' })).expect(201);
    expect(await described(response.body.toEntry)).toEqual([
      ['checking', 500_000],
      ['Member contributions Dana Owner', -500_000],
    ]);
    expect(await described(response.body.fromEntry)).toEqual([
      ['Investment in Studio LLC', 500_000],
      ['checking', -500_000],
    ]);
    expect(response.body.document).toMatchObject({ kind: 'contribution_record', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect((await pairing()).mismatches).toEqual([]);
  });

  it('owner draw: LLC Dr member draws / Cr cash; owner Dr cash / Cr investment in LLC', async () => {
    const response = await post('/transfers', transfer('llc', 'checking', 'owner', 'checking', 120_000, { classification: 'owner_draw' })).expect(201);
    expect(await described(response.body.fromEntry)).toEqual([
      ['Member draws Dana Owner', 120_000],
      ['checking', -120_000],
    ]);
    expect(await described(response.body.toEntry)).toEqual([
      ['checking', 120_000],
      ['Investment in Studio LLC', -120_000],
    ]);
    expect(response.body.warnings).toEqual([]);
  });

  it('loan from the owner: LLC Dr cash / Cr loan payable; owner Dr loan receivable / Cr cash; schedule stored', async () => {
    const response = await post(
      '/transfers',
      transfer('owner', 'checking', 'llc', 'checking', 1_000_000, {
        classification: 'loan',
        loan: { annualRateBasisPoints: 600, termMonths: 12, paymentFrequency: 'monthly' },
      }),
    ).expect(201);
    loanId = response.body.id;
    expect(await described(response.body.fromEntry)).toEqual([
      ['Loan receivable from Studio LLC', 1_000_000],
      ['checking', -1_000_000],
    ]);
    expect(await described(response.body.toEntry)).toEqual([
      ['checking', 1_000_000],
      ['Loan payable to Dana Owner', -1_000_000],
    ]);
    const schedule = response.body.terms.schedule as { principalCents: number; interestCents: number; paymentCents: number }[];
    expect(schedule).toHaveLength(12);
    expect(schedule.reduce((sum, row) => sum + row.principalCents, 0)).toBe(1_000_000);
    // 6% a year on $10,000 over 12 months: a level payment of $860.66, first month's interest $50.00.
    expect(schedule[0]).toMatchObject({ paymentCents: 86_066, interestCents: 5_000, principalCents: 81_066 });
    // 6.00% is above the March 2026 short-term AFR (3.59%): no warning.
    expect(response.body.warnings).toEqual([]);
    expect(response.body.document.kind).toBe('promissory_note');
  });

  it('loan repayment: principal to the loan accounts, interest to expense (borrower) and income (lender)', async () => {
    const response = await post(
      '/transfers',
      transfer('llc', 'checking', 'owner', 'checking', 86_066, { classification: 'loan_repayment', relatedTransferId: loanId }),
    ).expect(201);
    expect(await described(response.body.fromEntry)).toEqual([
      ['Loan payable to Dana Owner', 81_066],
      ['Interest expense to Dana Owner', 5_000],
      ['checking', -86_066],
    ]);
    expect(await described(response.body.toEntry)).toEqual([
      ['checking', 86_066],
      ['Loan receivable from Studio LLC', -81_066],
      ['Interest income from Studio LLC', -5_000],
    ]);
    expect(response.body.terms).toMatchObject({ installmentNumber: 1, outstandingAfterCents: 1_000_000 - 81_066 });
    expect((await pairing()).mismatches).toEqual([]);
  });

  it('reimbursement: LLC Dr expense / Cr due to member; owner Dr due from LLC / Cr card', async () => {
    const response = await post(
      '/transfers',
      transfer('owner', 'card', 'llc', 'software', 4_999, {
        classification: 'reimbursement',
        reimbursement: { businessPurpose: 'Design tool licence', receiptReference: 'https://receipts.example/123', expenseOn: '2026-03-01' },
      }),
    ).expect(201);
    reimbursementId = response.body.id;
    expect(await described(response.body.toEntry)).toEqual([
      ['software', 4_999],
      ['Due to Dana Owner', -4_999],
    ]);
    expect(await described(response.body.fromEntry)).toEqual([
      ['Due from Studio LLC', 4_999],
      ['card', -4_999],
    ]);
    expect(response.body.warnings).toEqual([]);
    expect(response.body.document.kind).toBe('reimbursement_request');
  });

  it('reimbursement payment: LLC Dr due to member / Cr cash; owner Dr cash / Cr due from LLC', async () => {
    const response = await post(
      '/transfers',
      transfer('llc', 'checking', 'owner', 'checking', 4_999, { classification: 'reimbursement_payment', relatedTransferId: reimbursementId }),
    ).expect(201);
    expect(await described(response.body.fromEntry)).toEqual([
      ['Due to Dana Owner', 4_999],
      ['checking', -4_999],
    ]);
    expect(await described(response.body.toEntry)).toEqual([
      ['checking', 4_999],
      ['Due from Studio LLC', -4_999],
    ]);
    const overpaid = await post(
      '/transfers',
      transfer('llc', 'checking', 'owner', 'checking', 1, { classification: 'reimbursement_payment', relatedTransferId: reimbursementId }),
    ).expect(422);
    expect(overpaid.body.error.code).toBe('veil_overpayment');
  });

  it('reversing a transfer reverses both entries, once; a loan with live repayments cannot be reversed', async () => {
    const blocked = await post(`/transfers/${loanId}/reverse`, {}).expect(409);
    expect(blocked.body.error.code).toBe('veil_transfer_has_dependents');

    const contribution = await post('/transfers', transfer('owner', 'checking', 'llc', 'checking', 777, { classification: 'capital_contribution' })).expect(201);
    const reversed = await post(`/transfers/${contribution.body.id}/reverse`, {}).expect(201);
    expect(reversed.body.fromEntry.reversesEntryId).toBe(contribution.body.fromEntryId);
    expect(reversed.body.toEntry.reversesEntryId).toBe(contribution.body.toEntryId);
    expect(reversed.body.fromEntry.postings.map((p: { amountCents: number }) => p.amountCents)).toEqual([-777, 777]);
    expect(reversed.body.reversal).toMatchObject({ fromReversalEntryId: reversed.body.fromEntry.id, toReversalEntryId: reversed.body.toEntry.id });
    const again = await post(`/transfers/${contribution.body.id}/reverse`, {}).expect(409);
    expect(again.body.error.code).toBe('already_reversed');
    expect((await pairing()).mismatches).toEqual([]);
    expect(await checkInvariants(ledger.deps.db)).toMatchObject({ unbalancedEntries: 0, balanceMismatches: 0, entitiesNotZero: 0 });
  });

  it('keeps the two books paired at every moment: no one-sided entry to a mirror account, no one-sided reversal', async () => {
    const contribution = await post('/transfers', transfer('owner', 'checking', 'llc', 'checking', 555, { classification: 'capital_contribution' })).expect(201);
    const before = await writeCounts();
    // Half of a reversal, through the plain journal: refused, pointing at the transfer.
    const half = await post(`/entries/${contribution.body.toEntryId}/reverse`, {}).expect(422);
    expect(half.body.error).toMatchObject({ code: 'veil_use_transfer_reversal', details: { transferId: contribution.body.id } });
    // A plain entry to the LLC's member-contributions account: refused.
    const mirror = contribution.body.toEntry.postings.find((posting: { accountId: string }) => posting.accountId !== llc.accounts.checking);
    const oneSided = await post(`/entities/${llc.entityId}/entries`, {
      postedOn: '2026-03-20',
      description: 'Owner put in more money (undocumented)',
      postings: [
        { accountId: llc.accounts.checking, amountCents: 100 },
        { accountId: mirror.accountId, amountCents: -100 },
      ],
    }).expect(422);
    expect(oneSided.body.error.code).toBe('veil_account_reserved');
    expect(await writeCounts()).toEqual(before);
    expect((await pairing()).mismatches).toEqual([]);
  });

  it('replays the same Idempotency-Key without booking twice', async () => {
    const idempotencyKey = key('contribution');
    const body = transfer('owner', 'checking', 'llc', 'checking', 100, { classification: 'capital_contribution' });
    const first = await post('/transfers', body, idempotencyKey).expect(201);
    const before = await writeCounts();
    const second = await post('/transfers', body, idempotencyKey).expect(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.body.id).toBe(first.body.id);
    expect(await writeCounts()).toEqual(before);
  });
});

describe('warnings and policies', () => {
  it('warns when a loan is below the AFR for its term bucket, as veil advice for a disregarded LLC, and says so in the note', async () => {
    const response = await post(
      '/transfers',
      transfer('owner', 'checking', 'llc', 'checking', 200_000, {
        classification: 'loan',
        postedOn: '2026-03-10',
        loan: { annualRateBasisPoints: 100, termMonths: 60, paymentFrequency: 'quarterly' },
      }),
    ).expect(201);
    expect(response.body.warnings).toEqual([
      expect.objectContaining({
        code: 'loan_below_afr',
        basis: 'veil_formality',
        details: expect.objectContaining({ bucket: 'mid', afrBasisPoints: 393, afrMonth: '2026-03', ruling: 'Rev. Rul. 2026-6' }),
      }),
    ]);
    const document = await ledger.http.get(`/documents/${response.body.document.id}`).expect(200);
    expect(document.body.markdown).toContain('**loan_below_afr** (veil_formality)');
    expect(document.body.markdown).toContain('3.93%');
  });

  it('calls the same warning a tax rule when the LLC elected S-corporation status', async () => {
    const sCorp = await post('/entities', { kind: 'llc', name: 'S Corp LLC', taxProfile: 's_corp' }).expect(201);
    const cash = await post(`/entities/${sCorp.body.id}/accounts`, { name: 'Checking', kind: 'checking' }).expect(201);
    const response = await post('/transfers', {
      ...transfer('owner', 'checking', 'llc', 'checking', 50_000, { classification: 'loan' }),
      toEntityId: sCorp.body.id,
      toAccountId: cash.body.id,
      loan: { annualRateBasisPoints: 0, termMonths: 24, paymentFrequency: 'at_maturity' },
    }).expect(201);
    expect(response.body.warnings.map((warning: { code: string; basis: string }) => [warning.code, warning.basis])).toEqual([
      ['loan_below_afr', 'tax_rule'],
    ]);
  });

  it('warns when a reimbursement is substantiated or paid outside the accountable-plan windows', async () => {
    const late = await post(
      '/transfers',
      transfer('owner', 'card', 'llc', 'software', 2_500, {
        classification: 'reimbursement',
        postedOn: '2026-06-01',
        reimbursement: { businessPurpose: 'Conference ticket', receiptReference: 'receipt-77.pdf', expenseOn: '2026-01-15' },
      }),
    ).expect(201);
    expect(late.body.warnings).toEqual([expect.objectContaining({ code: 'reimbursement_substantiated_late', details: { days: 137, daysMax: 60 } })]);
    const paid = await post(
      '/transfers',
      transfer('llc', 'checking', 'owner', 'checking', 2_500, { classification: 'reimbursement_payment', relatedTransferId: late.body.id, postedOn: '2026-06-02' }),
    ).expect(201);
    expect(paid.body.warnings).toEqual([expect.objectContaining({ code: 'reimbursement_paid_late', details: { days: 138, daysMax: 120 } })]);
  });

  it('warns on a draw beyond cash or equity, and blocks it (writing nothing) when the policy says block', async () => {
    const cash = (await ledger.http.get(`/accounts/${llc.accounts.checking}`).expect(200)).body.balanceCents as number;
    const warned = await post('/transfers', transfer('llc', 'checking', 'owner', 'checking', cash + 1, { classification: 'owner_draw' })).expect(201);
    expect(warned.body.warnings.map((warning: { code: string }) => warning.code)).toContain('draw_overdraws_cash');
    await post(`/transfers/${warned.body.id}/reverse`, {}).expect(201);

    await ledger.http.patch(`/entities/${llc.entityId}/veil-policy`).set('Idempotency-Key', key()).send({ drawPolicy: 'block' }).expect(200);
    const before = await writeCounts();
    const blocked = await post('/transfers', transfer('llc', 'checking', 'owner', 'checking', cash + 1, { classification: 'owner_draw' })).expect(422);
    expect(blocked.body.error.code).toBe('veil_draw_exceeds_policy');
    expect(await writeCounts()).toEqual(before);
    const policy = await ledger.http.get(`/entities/${llc.entityId}/veil-policy`).expect(200);
    expect(policy.body.drawPolicy).toBe('block');
    await post('/transfers', transfer('llc', 'checking', 'owner', 'checking', 1, { classification: 'owner_draw' })).expect(201);
  });
});

describe('bad inputs get a clear 4xx and write nothing', () => {
  const cases: [string, () => Record<string, unknown>, number, string][] = [
    ['an unclassified crossing', () => transfer('owner', 'checking', 'llc', 'checking', 100), 422, 'veil_crossing_unclassified'],
    ['a negative amount', () => transfer('owner', 'checking', 'llc', 'checking', -100, { classification: 'capital_contribution' }), 400, 'invalid_request'],
    ['a zero amount', () => transfer('owner', 'checking', 'llc', 'checking', 0, { classification: 'capital_contribution' }), 400, 'invalid_request'],
    ['fractional cents', () => transfer('owner', 'checking', 'llc', 'checking', 10.5, { classification: 'capital_contribution' }), 400, 'invalid_request'],
    ['an unknown classification', () => transfer('owner', 'checking', 'llc', 'checking', 100, { classification: 'gift' }), 400, 'invalid_request'],
    [
      'a "crossing" inside one entity',
      () => ({ ...transfer('llc', 'checking', 'llc', 'checking', 100, { classification: 'owner_draw' }), toAccountId: llc.accounts.revenue }),
      422,
      'veil_not_a_crossing',
    ],
    [
      'a loan without terms',
      () => transfer('owner', 'checking', 'llc', 'checking', 100, { classification: 'loan' }),
      422,
      'veil_loan_terms_required',
    ],
    [
      'a loan whose term is not whole periods',
      () => transfer('owner', 'checking', 'llc', 'checking', 100, { classification: 'loan', loan: { annualRateBasisPoints: 500, termMonths: 13, paymentFrequency: 'quarterly' } }),
      422,
      'veil_loan_terms_invalid',
    ],
    [
      'an unknown account',
      () => ({ ...transfer('owner', 'checking', 'llc', 'checking', 100, { classification: 'capital_contribution' }), toAccountId: '00000000-0000-4000-8000-000000000000' }),
      404,
      'not_found',
    ],
    [
      'an account of the other entity',
      () => ({ ...transfer('owner', 'checking', 'llc', 'checking', 100, { classification: 'capital_contribution' }), toAccountId: owner.accounts.checking }),
      422,
      'entity_mismatch',
    ],
    [
      'a contribution going the wrong way',
      () => transfer('llc', 'checking', 'owner', 'checking', 100, { classification: 'capital_contribution' }),
      422,
      'veil_direction_invalid',
    ],
    [
      'a draw into a non-cash account',
      () => transfer('llc', 'checking', 'owner', 'card', 100, { classification: 'owner_draw' }),
      422,
      'account_kind_mismatch',
    ],
    [
      'a repayment of no loan',
      () => transfer('llc', 'checking', 'owner', 'checking', 100, { classification: 'loan_repayment' }),
      422,
      'veil_related_transfer_invalid',
    ],
    [
      'an unknown field',
      () => transfer('owner', 'checking', 'llc', 'checking', 100, { classification: 'capital_contribution', extra: 1 }),
      400,
      'invalid_request',
    ],
  ];

  it.each(cases)('refuses %s', async (_label, body, status, code) => {
    const before = await writeCounts();
    const accountsBefore = (await accountsOf(llc.entityId)).size + (await accountsOf(owner.entityId)).size;
    const response = await post('/transfers', body()).expect(status);
    expect(response.body.error).toMatchObject({ code, message: expect.any(String) });
    expect(await writeCounts()).toEqual(before);
    expect((await accountsOf(llc.entityId)).size + (await accountsOf(owner.entityId)).size).toBe(accountsBefore);
  });
});

describe('concurrent crossings', () => {
  it('never overpays a loan when repayments race, and crossings in both directions do not deadlock', async () => {
    const loan = await post(
      '/transfers',
      transfer('owner', 'checking', 'llc', 'checking', 1_000, { classification: 'loan', loan: { annualRateBasisPoints: 0, termMonths: 12, paymentFrequency: 'at_maturity' } }),
    ).expect(201);
    const repayments = await Promise.all(
      Array.from({ length: 4 }, () =>
        post('/transfers', transfer('llc', 'checking', 'owner', 'checking', 400, { classification: 'loan_repayment', relatedTransferId: loan.body.id })),
      ),
    );
    expect(repayments.map((response) => response.status).sort()).toEqual([201, 201, 422, 422]);
    expect(repayments.filter((response) => response.status === 422).every((response) => response.body.error.code === 'veil_overpayment')).toBe(true);

    const both = await Promise.all(
      Array.from({ length: 6 }, (_, index) =>
        index % 2 === 0
          ? post('/transfers', transfer('owner', 'checking', 'llc', 'checking', 100, { classification: 'capital_contribution' }))
          : post('/transfers', transfer('llc', 'checking', 'owner', 'checking', 100, { classification: 'owner_draw' })),
      ),
    );
    expect(both.map((response) => response.status)).toEqual([201, 201, 201, 201, 201, 201]);
    expect((await pairing()).mismatches).toEqual([]);
  });
});
