import { useState, type FormEvent } from 'react';
import { api, enc } from '../api';
import { ErrorNote, Loading, Page, useAction, useLoad, usePermissions } from '../common';
import { bytes, date } from '../format';
import type { Namespace, Stats } from '../types';

/** Namespaces with their image count and storage; Managers add and remove them. */
export function Namespaces() {
  const perms = usePermissions();
  const loaded = useLoad(async () => {
    const [{ namespaces }, stats] = await Promise.all([api<{ namespaces: Namespace[] }>('GET', '/namespaces'), api<Stats>('GET', '/stats?days=1')]);
    // Distinct blobs' bytes, as the storage quota counts them (only for namespaces read whole).
    const storage = new Map(stats.namespaces.map((n) => [n.name, n.storageBytes]));
    return namespaces.map((n) => ({ ...n, storage: storage.get(n.name) }));
  }, 'namespaces');
  const [name, setName] = useState('');
  const action = useAction();

  const add = async (event: FormEvent) => {
    event.preventDefault();
    if (await action.run(() => api('POST', '/namespaces', { name: name.trim() }))) {
      setName('');
      loaded.reload();
    }
  };
  const remove = async (ns: string) => {
    if (!confirm(`Remove namespace ${ns}? Its images must be deleted first; the API says so if any remain.`)) return;
    if (await action.run(() => api('DELETE', `/namespaces/${enc(ns)}`))) loaded.reload();
  };

  return (
    <Page title="Namespaces">
      {perms.canManage ? (
        <form className="toolbar" onSubmit={add}>
          <label htmlFor="ns-name">New namespace</label>
          <input id="ns-name" required value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. team-a" />
          <button type="submit" className="button primary" disabled={action.busy}>Add namespace</button>
        </form>
      ) : null}
      <ErrorNote message={loaded.error ?? action.error} />
      {loaded.loading && !loaded.data ? <Loading what="namespaces" /> : null}
      {loaded.data && loaded.data.length === 0 ? (
        <div className="empty"><h2>No namespaces yet</h2><p>{perms.canManage ? 'Add one above, or push to a new namespace as an account Manager.' : 'Ask an account Manager to add one.'}</p></div>
      ) : null}
      {loaded.data && loaded.data.length > 0 ? (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">Namespaces of your account</caption>
            <thead><tr><th scope="col">Namespace</th><th scope="col">Images</th><th scope="col">Storage</th><th scope="col">Public pull</th><th scope="col">Created</th>{perms.canManage ? <th scope="col"><span className="visually-hidden">Actions</span></th> : null}</tr></thead>
            <tbody>
              {loaded.data.map((n) => (
                <tr key={n.name} data-testid="namespace-row">
                  <td data-label="Namespace"><strong>{n.name}</strong></td>
                  <td data-label="Images">{n.imageCount}</td>
                  <td data-label="Storage">{bytes(n.storage)}</td>
                  <td data-label="Public pull">{n.publicPull ? 'yes' : 'no'}</td>
                  <td data-label="Created">{date(n.created)}</td>
                  {perms.canManage ? <td data-label="Actions"><button type="button" className="button small danger" onClick={() => remove(n.name)} aria-label={`Remove namespace ${n.name}`}>Remove</button></td> : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </Page>
  );
}
