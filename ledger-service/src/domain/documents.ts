import type { Installment } from './amortization';
import type { Classification, VeilWarning } from './veil';
import { formatCents, formatBasisPoints } from './money';

// Every crossing produces a document, rendered here as Markdown from the transfer's facts alone, so the same
// transfer always renders the same bytes (and the same SHA-256).

export const DOCUMENT_KINDS = [
  'contribution_record',
  'draw_record',
  'promissory_note',
  'payment_record',
  'reimbursement_request',
  'reimbursement_payment_record',
] as const;
export type DocumentKind = (typeof DOCUMENT_KINDS)[number];

export const DOCUMENT_KIND_OF: Record<Classification, DocumentKind> = {
  capital_contribution: 'contribution_record',
  owner_draw: 'draw_record',
  loan: 'promissory_note',
  loan_repayment: 'payment_record',
  reimbursement: 'reimbursement_request',
  reimbursement_payment: 'reimbursement_payment_record',
};

const TITLE: Record<DocumentKind, string> = {
  contribution_record: 'Record of capital contribution',
  draw_record: 'Record of owner draw / distribution',
  promissory_note: 'Promissory note',
  payment_record: 'Loan payment record',
  reimbursement_request: 'Reimbursement request (accountable plan)',
  reimbursement_payment_record: 'Reimbursement payment record',
};

export interface DocumentFacts {
  transferId: string;
  classification: Classification;
  postedOn: string;
  amountCents: number;
  currency: string;
  memo: string | null;
  from: { entityId: string; name: string; kind: string };
  to: { entityId: string; name: string; kind: string };
  warnings: readonly VeilWarning[];
  loan?: {
    annualRateBasisPoints: number;
    startOn: string;
    termMonths: number;
    paymentFrequency: string;
    schedule: readonly Installment[];
  };
  repayment?: { loanTransferId: string; principalCents: number; interestCents: number; outstandingAfterCents: number };
  reimbursement?: { businessPurpose: string; receiptReference: string; expenseOn: string; substantiatedOn: string };
  reimbursementPayment?: { reimbursementTransferId: string; outstandingAfterCents: number };
}

function money(cents: number, currency: string): string {
  return `${currency} ${formatCents(cents)}`;
}


/** Markdown special characters in user text are escaped so a memo cannot restructure the document. */
function text(value: string): string {
  return value.replace(/([\\`*_[\]#|<>])/g, '\\$1').replace(/\s+/g, ' ');
}

export function documentTitle(facts: DocumentFacts): string {
  return `${TITLE[DOCUMENT_KIND_OF[facts.classification]]} — ${facts.postedOn} — ${money(facts.amountCents, facts.currency)}`;
}

export function renderDocumentMarkdown(facts: DocumentFacts): string {
  const kind = DOCUMENT_KIND_OF[facts.classification];
  const lines: string[] = [
    `# ${TITLE[kind]}`,
    '',
    `| | |`,
    `|---|---|`,
    `| Date | ${facts.postedOn} |`,
    `| Amount | ${money(facts.amountCents, facts.currency)} |`,
    `| From | ${text(facts.from.name)} (${facts.from.kind}, ${facts.from.entityId}) |`,
    `| To | ${text(facts.to.name)} (${facts.to.kind}, ${facts.to.entityId}) |`,
    `| Classification | ${facts.classification} |`,
    `| Transfer | ${facts.transferId} |`,
  ];
  if (facts.memo) lines.push(`| Memo | ${text(facts.memo)} |`);
  lines.push('');
  switch (facts.classification) {
    case 'capital_contribution':
      lines.push(
        `${text(facts.from.name)}, the member, contributes ${money(facts.amountCents, facts.currency)} to ` +
          `${text(facts.to.name)} as capital. The contribution is recorded as member equity in the LLC's books and as ` +
          `an investment in the LLC in the member's books. It is not a loan and carries no right to repayment.`,
      );
      break;
    case 'owner_draw':
      lines.push(
        `${text(facts.from.name)} distributes ${money(facts.amountCents, facts.currency)} to its member ` +
          `${text(facts.to.name)}. The draw reduces member equity in the LLC's books and the member's investment in the LLC.`,
      );
      break;
    case 'loan': {
      const loan = facts.loan;
      lines.push(
        `FOR VALUE RECEIVED, ${text(facts.to.name)} ("Borrower") promises to pay ${text(facts.from.name)} ("Lender") ` +
          `the principal sum of ${money(facts.amountCents, facts.currency)}` +
          (loan
            ? `, with interest at ${formatBasisPoints(loan.annualRateBasisPoints)} a year from ${loan.startOn}, over ` +
              `${loan.termMonths} months, payable ${loan.paymentFrequency.replace('_', ' ')} as scheduled below.`
            : '.'),
      );
      if (loan) {
        lines.push('', '## Amortization schedule', '', '| # | Due | Payment | Principal | Interest | Balance |', '|---:|---|---:|---:|---:|---:|');
        for (const row of loan.schedule) {
          lines.push(
            `| ${row.number} | ${row.dueOn} | ${formatCents(row.paymentCents)} | ${formatCents(row.principalCents)} | ` +
              `${formatCents(row.interestCents)} | ${formatCents(row.balanceAfterCents)} |`,
          );
        }
        const totalInterest = loan.schedule.reduce((sum, row) => sum + row.interestCents, 0);
        lines.push('', `Total interest: ${money(totalInterest, facts.currency)}.`);
      }
      lines.push('', 'Signed for the Borrower: ______________________   Signed for the Lender: ______________________');
      break;
    }
    case 'loan_repayment': {
      const repayment = facts.repayment;
      if (repayment) {
        lines.push(
          `Payment on the loan of transfer ${repayment.loanTransferId}: principal ${money(repayment.principalCents, facts.currency)}, ` +
            `interest ${money(repayment.interestCents, facts.currency)}. Principal outstanding after this payment: ` +
            `${money(repayment.outstandingAfterCents, facts.currency)}.`,
        );
      }
      break;
    }
    case 'reimbursement': {
      const details = facts.reimbursement;
      if (details) {
        lines.push(
          `${text(facts.from.name)} paid an expense of ${text(facts.to.name)} personally and asks to be reimbursed ` +
            `under the LLC's accountable plan.`,
          '',
          `| | |`,
          `|---|---|`,
          `| Business purpose | ${text(details.businessPurpose)} |`,
          `| Receipt | ${text(details.receiptReference)} |`,
          `| Expense date | ${details.expenseOn} |`,
          `| Substantiated on | ${details.substantiatedOn} |`,
        );
      }
      break;
    }
    case 'reimbursement_payment': {
      const payment = facts.reimbursementPayment;
      if (payment) {
        lines.push(
          `${text(facts.from.name)} reimburses its member under the request of transfer ${payment.reimbursementTransferId}. ` +
            `Still owed after this payment: ${money(payment.outstandingAfterCents, facts.currency)}.`,
        );
      }
      break;
    }
  }
  if (facts.warnings.length > 0) {
    lines.push('', '## Warnings', '');
    for (const warning of facts.warnings) lines.push(`- **${warning.code}** (${warning.basis}): ${text(warning.message)}`);
  }
  lines.push('');
  return lines.join('\n');
}
