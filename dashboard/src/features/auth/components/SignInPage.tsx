import { useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { ErrorNotice } from '../../../components/ui';
import { ApiError } from '../../../lib/api-client';
import { signIn } from '../api/auth';

/** Password first; when the account has MFA the ledger answers mfa_code_required and a code step follows. */
export function SignInPage() {
  const navigate = useNavigate();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [useRecovery, setUseRecovery] = useState(false);
  const [step, setStep] = useState<'password' | 'code'>('password');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const second = step === 'code' ? (useRecovery ? { recoveryCode: code.trim() } : { totpCode: code.trim() }) : {};
      await signIn({ email, password, ...second });
      navigate('/app', { replace: true });
    } catch (caught) {
      if (caught instanceof ApiError && caught.code === 'mfa_code_required') setStep('code');
      else setError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="sign-in">
      <form className="card sign-in-card" onSubmit={submit} aria-labelledby="sign-in-title">
        <p className="brand">Veil</p>
        <h1 id="sign-in-title">{step === 'password' ? 'Sign in' : 'Two-step verification'}</h1>
        {step === 'password' ? (
          <>
            <label>
              Email
              <input type="email" autoComplete="username" required value={email} onChange={(event) => setEmail(event.target.value)} />
            </label>
            <label>
              Password
              <input type="password" autoComplete="current-password" required minLength={12} value={password} onChange={(event) => setPassword(event.target.value)} />
            </label>
          </>
        ) : (
          <>
            <p className="muted">Enter the code from your authenticator app{useRecovery ? ', or one of your recovery codes' : ''}.</p>
            <label>
              {useRecovery ? 'Recovery code' : 'Authentication code'}
              <input
                autoFocus
                required
                autoComplete="one-time-code"
                inputMode={useRecovery ? 'text' : 'numeric'}
                pattern={useRecovery ? undefined : '[0-9]{6}'}
                value={code}
                onChange={(event) => setCode(event.target.value)}
              />
            </label>
            <button type="button" className="link" onClick={() => setUseRecovery(!useRecovery)}>
              {useRecovery ? 'Use the authenticator code' : 'Use a recovery code'}
            </button>
          </>
        )}
        <ErrorNotice error={error} />
        <button type="submit" className="primary" disabled={busy}>
          {step === 'password' ? 'Sign in' : 'Verify'}
        </button>
      </form>
    </main>
  );
}
