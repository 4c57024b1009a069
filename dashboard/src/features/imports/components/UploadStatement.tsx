import { useState, type FormEvent } from 'react';
import { DataTable } from '../../../components/data-table';
import { Card, ErrorNotice, Money } from '../../../components/ui';
import type { UploadProgress } from '../../../lib/api-client';
import type { Account } from '../../../lib/types';
import { useUploadStatement, type ImportReport } from '../api/imports';

/** Percent of the file sent, as an integer (no float reaches the page). */
export function percentSent(progress: UploadProgress | null): number {
  if (!progress || progress.totalBytes <= 0) return 0;
  return Math.min(100, Math.floor((progress.loadedBytes * 100) / progress.totalBytes));
}

export function UploadStatement({ accounts, currency }: { accounts: Account[]; currency: string }) {
  const [accountId, setAccountId] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<UploadProgress | null>(null);
  // One key per chosen file and account: submitting the same file again replays the first answer.
  const [idempotencyKey, setIdempotencyKey] = useState(() => crypto.randomUUID());
  const uploadStatement = useUploadStatement(accountId);
  const percent = percentSent(progress);

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!file || !accountId) return;
    setProgress({ loadedBytes: 0, totalBytes: file.size });
    uploadStatement.mutate(
      { file, idempotencyKey, onProgress: setProgress },
      // The ledger answered, so every byte arrived (a small file may send no progress event at all).
      { onSuccess: () => setProgress({ loadedBytes: file.size, totalBytes: file.size }) },
    );
  }

  return (
    <Card title="Import a statement">
      <form className="row" aria-label="Import a statement" onSubmit={submit}>
        <label>
          Bank account
          <select
            required
            value={accountId}
            onChange={(event) => {
              setAccountId(event.target.value);
              setIdempotencyKey(crypto.randomUUID());
            }}
          >
            <option value="">Choose</option>
            {accounts.map((account) => (
              <option key={account.id} value={account.id}>
                {account.name}
              </option>
            ))}
          </select>
        </label>
        <label className="grow">
          Statement file
          <input
            type="file"
            accept=".csv,.tsv,.txt,.ofx,.qfx,.qbo,.qif,.xml,.sta,.mt940"
            onChange={(event) => {
              setFile(event.target.files?.[0] ?? null);
              setIdempotencyKey(crypto.randomUUID());
              setProgress(null);
            }}
          />
        </label>
        <button type="submit" disabled={!file || !accountId || uploadStatement.isPending}>
          Import
        </button>
      </form>
      <p className="muted small">OFX, QFX, QBO, QIF, CAMT.053, MT940 or CSV; the format is read from the file itself.</p>
      {progress ? (
        <div className="stack" role="group" aria-label="Upload">
          <progress aria-label="Upload progress" max={100} value={percent} />
          <span aria-live="polite" className="small">
            {uploadStatement.isPending ? (percent < 100 ? `Sending the file: ${percent}%` : 'Sent; the ledger is reading the statement…') : uploadStatement.isSuccess ? 'Imported.' : null}
          </span>
        </div>
      ) : null}
      <ErrorNotice error={uploadStatement.error} />
      {uploadStatement.data ? <ReportView report={uploadStatement.data} accounts={accounts} currency={currency} /> : null}
    </Card>
  );
}

export function ReportView({ report, accounts, currency }: { report: ImportReport; accounts: Account[]; currency: string }) {
  const name = (id: string) => accounts.find((account) => account.id === id)?.name ?? id;
  return (
    <section className="stack" aria-label="Import report">
      <h3>
        Import report: {report.fileName} ({report.format.toUpperCase()}
        {report.csvPreset ? `, ${report.csvPreset}` : ''})
      </h3>
      <ul className="import-summary">
        <li>
          <strong>{report.new}</strong> new lines added
          {report.booked > 0 ? `, ${report.booked} booked by your rules` : ''}
          {report.transfersBooked > 0 ? `, ${report.transfersBooked} booked as transfers between your accounts` : ''}
          {report.matchedToEntries > 0 ? `, ${report.matchedToEntries} matched to entries already in your books` : ''}.
        </li>
        <li>
          <strong>{report.skippedExact}</strong> skipped as duplicates: the account already had a line with the same bank id (FITID), or the same row at the
          same place in an earlier statement.
        </li>
        <li>
          <strong>{report.queuedForReview}</strong> sent to review: they look like a line that arrived from another source (same amount, close date). Decide
          them in the review queue below; nothing is dropped silently.
        </li>
        {report.transferProposals > 0 ? (
          <li>
            <strong>{report.transferProposals}</strong> look like money crossing to your other books: classify them on the Inter-entity page.
          </li>
        ) : null}
      </ul>
      <DataTable
        rows={report.accounts}
        caption="Lines per account"
        empty="The file held no lines."
        rowKey={(part) => `${part.statementAccountId}-${part.accountId}`}
        columns={[
          { header: 'Account', rowHeader: true, cell: (part) => name(part.accountId) },
          { header: 'Lines', amount: true, cell: (part) => part.lines },
          { header: 'Added', amount: true, cell: (part) => part.new },
          { header: 'Duplicates', amount: true, cell: (part) => part.skippedExact },
          { header: 'To review', amount: true, cell: (part) => part.queuedForReview },
          { header: 'Booked', amount: true, cell: (part) => part.booked },
          { header: 'Total', amount: true, cell: (part) => <Money cents={part.totalCents} currency={currency} /> },
        ]}
      />
      {report.warnings.length > 0 ? (
        <ul aria-label="Warnings" className="notice warn">
          {report.warnings.map((warning) => (
            <li key={`${warning.line}-${warning.message}`}>
              Line {warning.line}: {warning.message}
            </li>
          ))}
        </ul>
      ) : null}
      {report.errors.length > 0 ? (
        <ul aria-label="Errors" className="notice error">
          {report.errors.map((error) => (
            <li key={`${error.file}-${error.line}-${error.message}`}>
              {error.file} line {error.line}: {error.message}
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}
