import { useState, type FormEvent } from 'react';
import { signIn, type Session } from '../api';
import { messageOf } from '../common';

/** Username and password, or an API key (sent as the `iamapikey` user, like `wharf login --apikey`). */
export function SignIn({ notice, onSignedIn }: { notice: string | undefined; onSignedIn: (s: Session) => void }) {
  const [mode, setMode] = useState<'password' | 'apikey'>('password');
  const [username, setUsername] = useState('');
  const [secret, setSecret] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onSignedIn(await signIn(mode === 'apikey' ? 'iamapikey' : username.trim(), secret));
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="signin" id="main">
      <form className="card signin-card" onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title"><span className="logo" aria-hidden="true">⚓</span> Sign in to Wharf</h1>
        {notice ? <p className="note info" role="status">{notice}</p> : null}
        <fieldset className="segmented">
          <legend className="visually-hidden">Sign in with</legend>
          <label><input type="radio" name="mode" value="password" checked={mode === 'password'} onChange={() => setMode('password')} /> Use a password</label>
          <label><input type="radio" name="mode" value="apikey" checked={mode === 'apikey'} onChange={() => setMode('apikey')} /> Use an API key</label>
        </fieldset>
        {mode === 'password' ? (
          <>
            <label htmlFor="username">Username</label>
            <input id="username" name="username" autoComplete="username" required value={username} onChange={(e) => setUsername(e.target.value)} />
            <label htmlFor="password">Password</label>
            <input id="password" name="password" type="password" autoComplete="current-password" required value={secret} onChange={(e) => setSecret(e.target.value)} />
          </>
        ) : (
          <>
            <label htmlFor="apikey">API key</label>
            <input id="apikey" name="apikey" type="password" autoComplete="off" required value={secret} onChange={(e) => setSecret(e.target.value)} aria-describedby="apikey-help" />
            <p id="apikey-help" className="help">A key from <code>wharf iam apikey create</code> or the API keys page.</p>
          </>
        )}
        {error ? <p className="note error" role="alert">{error}</p> : null}
        <button className="button primary" type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
    </main>
  );
}
