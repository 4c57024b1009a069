import { useState, type FormEvent } from 'react';
import { Card, ErrorNotice, PageHeader } from '../../../components/ui';
import { useAuth } from '../../../lib/auth-context';
import { useConfirmMfa, useEnrolMfa } from '../api/auth';
import { ApiTokensCard } from './ApiTokensCard';

export function SecurityPage() {
  const { me } = useAuth();
  return (
    <>
      <PageHeader title="Security" />
      <MfaCard enabled={me?.mfaEnabled ?? false} sessionMfa={me?.actor.mfa ?? false} />
      <ApiTokensCard sessionMfa={me?.actor.mfa ?? false} />
    </>
  );
}

function MfaCard({ enabled, sessionMfa }: { enabled: boolean; sessionMfa: boolean }) {
  const enrol = useEnrolMfa();
  const confirm = useConfirmMfa();
  const [code, setCode] = useState('');

  function submit(event: FormEvent) {
    event.preventDefault();
    confirm.mutate(code.trim());
  }

  if (confirm.data) {
    return (
      <Card title="Two-step verification">
        <p className="notice success" role="status">
          Two-step verification is on. Sign out and in again with a code to move money or create API tokens.
        </p>
        <h3>Recovery codes</h3>
        <p>Each works once if you lose your device. They are shown only now: store them somewhere safe.</p>
        <ul className="recovery-codes" aria-label="Recovery codes">
          {confirm.data.recoveryCodes.map((recovery) => (
            <li key={recovery}>
              <code>{recovery}</code>
            </li>
          ))}
        </ul>
      </Card>
    );
  }
  if (enabled) {
    return (
      <Card title="Two-step verification">
        <p>On. {sessionMfa ? 'This session passed it.' : 'This session did not pass it: sign in again with a code to move money.'}</p>
      </Card>
    );
  }
  return (
    <Card title="Two-step verification">
      <p>Off. Moving money between the LLC and you, and creating API tokens, need it.</p>
      {!enrol.data ? (
        <button type="button" className="primary" onClick={() => enrol.mutate()} disabled={enrol.isPending}>
          Set up two-step verification
        </button>
      ) : (
        <form onSubmit={submit} className="stack">
          <p>Scan this code with an authenticator app, then enter the six digits it shows.</p>
          <img src={enrol.data.qrCodeDataUrl} alt="QR code for your authenticator app" width={200} height={200} />
          <details>
            <summary>Can't scan? Enter the key by hand</summary>
            <code aria-label="Setup key" data-testid="mfa-secret">
              {enrol.data.secret}
            </code>
          </details>
          <label>
            Code from the app
            <input inputMode="numeric" pattern="[0-9]{6}" required value={code} onChange={(event) => setCode(event.target.value)} />
          </label>
          <button type="submit" className="primary" disabled={confirm.isPending}>
            Turn on
          </button>
        </form>
      )}
      <ErrorNotice error={enrol.error ?? confirm.error} />
    </Card>
  );
}
