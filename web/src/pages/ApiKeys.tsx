import { useState, type FormEvent } from 'react';
import { api, endSession } from '../api';
import { CopyButton, ErrorNote, Loading, Page, useAction, useLoad, usePermissions } from '../common';
import { date } from '../format';
import type { ApiKey } from '../types';

/** Your API keys (and, for Managers, those of the account); a new key is shown once. Your password is changed here too. */
export function ApiKeys() {
  const loaded = useLoad(() => api<{ apiKeys: ApiKey[] }>('GET', '/iam/api-keys'), 'keys');
  const [description, setDescription] = useState('');
  const [created, setCreated] = useState<{ apiKey: string; prefix: string } | undefined>();
  const action = useAction();

  const create = async (event: FormEvent) => {
    event.preventDefault();
    await action.run(async () => {
      const key = await api<{ apiKey: string; prefix: string }>('POST', '/iam/api-keys', { description });
      setCreated(key);
      setDescription('');
      loaded.reload();
    });
  };
  const revoke = async (key: ApiKey) => {
    if (!confirm(`Revoke API key ${key.prefix}? Whatever uses it stops working.`)) return;
    if (await action.run(() => api('DELETE', `/iam/api-keys/${key.id}`))) loaded.reload();
  };

  return (
    <Page title="API keys">
      <form className="toolbar" onSubmit={create}>
        <label htmlFor="key-description">Description</label>
        <input id="key-description" value={description} onChange={(e) => setDescription(e.target.value)} placeholder="e.g. CI pipeline" />
        <button type="submit" className="button primary" disabled={action.busy}>Create API key</button>
      </form>
      {created ? (
        <div className="note success" role="status" data-testid="new-api-key">
          <p><strong>Your new API key.</strong> Copy it now: it is not shown again.</p>
          <p><code className="break" id="new-key">{created.apiKey}</code> <CopyButton text={created.apiKey} what="the new API key" /></p>
          <p className="small">Sign in with it: <code>wharf login --apikey …</code>, or <code>docker login -u iamapikey</code>.</p>
          <button type="button" className="button small" onClick={() => setCreated(undefined)}>Done</button>
        </div>
      ) : null}
      <ErrorNote message={loaded.error ?? action.error} />
      {loaded.loading && !loaded.data ? <Loading what="API keys" /> : null}
      {loaded.data?.apiKeys.length === 0 ? <p className="muted">No API keys yet.</p> : null}
      {loaded.data && loaded.data.apiKeys.length > 0 ? (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">API keys</caption>
            <thead><tr><th scope="col">Key</th><th scope="col">Owner</th><th scope="col">Description</th><th scope="col">Created</th><th scope="col"><span className="visually-hidden">Actions</span></th></tr></thead>
            <tbody>
              {loaded.data.apiKeys.map((k) => (
                <tr key={k.id} data-testid="api-key-row">
                  <td data-label="Key"><code>{k.prefix}…</code></td>
                  <td data-label="Owner">{k.owner}</td>
                  <td data-label="Description">{k.description || <span className="muted">—</span>}</td>
                  <td data-label="Created">{date(k.created)}</td>
                  <td data-label="Actions"><button type="button" className="button small danger" onClick={() => revoke(k)} aria-label={`Revoke API key ${k.prefix}`}>Revoke</button></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <OwnPassword />
    </Page>
  );
}

/** A user signed in with their password changes it, giving the current one; the change ends every session of theirs, this one too. */
function OwnPassword() {
  const { me } = usePermissions();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const action = useAction();
  if (me.kind !== 'user') return null;
  const send = async (event: FormEvent) => {
    event.preventDefault();
    if (next !== again) {
      await action.run(() => Promise.reject(new Error('The new password and its repetition differ.')));
      return;
    }
    if (await action.run(() => api('PUT', `/iam/users/${me.id}/password`, { password: next, currentPassword: current }))) {
      endSession('Your password was changed: sign in with the new one.');
    }
  };
  return (
    <section className="card" aria-labelledby="own-password">
      <h2 id="own-password">Your password</h2>
      {me.viaApiKey ? <p className="muted">Signed in with an API key: sign in with your password to change it.</p> : (
        <form onSubmit={send} className="form-stack">
          <label>Current password{' '}<input type="password" required autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} /></label>
          <label>New password{' '}<input type="password" required autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} /></label>
          <label>New password again{' '}<input type="password" required autoComplete="new-password" value={again} onChange={(e) => setAgain(e.target.value)} /></label>
          <p><button type="submit" className="button primary" disabled={action.busy}>Change password</button></p>
          <ErrorNote message={action.error} />
        </form>
      )}
    </section>
  );
}
