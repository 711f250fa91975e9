import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { CopyButton, ErrorNote, Loading, Page, useAction, useLoad } from '../common';
import { date } from '../format';
import type { ApiKey } from '../types';

/** Your API keys (and, for Managers, those of the account); a new key is shown once. */
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
    </Page>
  );
}
