import { useId, useState } from 'react';
import { api, setCsrfToken, setPastedToken } from '../../lib/api.ts';
import { ErrorBox } from '../../shell/ui.tsx';
import type { Session } from './session.tsx';

/** Sign in with a user name and password (a session cookie) or with a personal access token pasted in. */
export function LoginPage({ onSignedIn }: { onSignedIn(session: Session): void }) {
  const id = useId();
  const [mode, setMode] = useState<'password' | 'token'>('password');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [token, setToken] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  async function submit() {
    setBusy(true);
    setError(undefined);
    try {
      if (mode === 'password') {
        setPastedToken(undefined);
        const session = await api().post<Session>('/api/weir/v1/auth/login', { username, password });
        setCsrfToken(session.csrf_token);
        onSignedIn(session);
      } else {
        setPastedToken(token.trim());
        try {
          onSignedIn(await api().get<Session>('/api/weir/v1/auth/session'));
        } catch (err) {
          setPastedToken(undefined);
          throw err;
        }
      }
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="login">
      <h1>Sign in to Weir</h1>
      <fieldset className="tabs">
        <legend className="sr-only">Sign-in method</legend>
        <button type="button" aria-pressed={mode === 'password'} onClick={() => setMode('password')}>
          User name and password
        </button>
        <button type="button" aria-pressed={mode === 'token'} onClick={() => setMode('token')}>
          Access token
        </button>
      </fieldset>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        {mode === 'password' ? (
          <>
            <label htmlFor={`${id}-user`}>User name</label>
            <input id={`${id}-user`} autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} required />
            <label htmlFor={`${id}-pass`}>Password</label>
            <input id={`${id}-pass`} type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
          </>
        ) : (
          <>
            <label htmlFor={`${id}-token`}>Personal access token</label>
            <input id={`${id}-token`} type="password" autoComplete="off" value={token} onChange={(e) => setToken(e.target.value)} required />
            <p className="hint">The token is kept only in this browser tab. An admin's first token is in weir-data/admin-token.</p>
          </>
        )}
        <ErrorBox error={error} title="Sign-in failed" />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
