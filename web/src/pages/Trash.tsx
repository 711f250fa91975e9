import { api } from '../api';
import { ErrorNote, Loading, Page, useAction, useLoad, usePermissions } from '../common';
import { bytes, date, shortDigest } from '../format';
import type { TrashItem } from '../types';

/** Deleted images until they expire: restore brings an image back with its tags. */
export function Trash() {
  const perms = usePermissions();
  const loaded = useLoad(() => api<{ items: TrashItem[] }>('GET', '/trash'), 'trash');
  const action = useAction();
  const restore = async (item: TrashItem) => {
    if (await action.run(() => api('POST', '/trash/restore', { image: `${item.name}@${item.digest}` }))) loaded.reload();
  };
  const items = loaded.data?.items;
  return (
    <Page title="Trash">
      <ErrorNote message={loaded.error ?? action.error} />
      {loaded.loading && !items ? <Loading what="the trash" /> : null}
      {items && items.length === 0 ? <div className="empty"><h2>The trash is empty</h2><p>Deleted images stay here until they expire, and can be restored with their tags.</p></div> : null}
      {items && items.length > 0 ? (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">Deleted images</caption>
            <thead><tr><th scope="col">Image</th><th scope="col">Size</th><th scope="col">Deleted</th><th scope="col">Expires</th>{items.some((i) => perms.canWriteIn(namespaceOf(i.name))) ? <th scope="col"><span className="visually-hidden">Actions</span></th> : null}</tr></thead>
            <tbody>
              {items.map((item) => (
                <tr key={`${item.name}@${item.digest}`} data-testid="trash-row">
                  <td data-label="Image">
                    <strong>{item.name}</strong>
                    <div className="tags">{item.tags.map((t) => <span key={t} className="tag">{t}</span>)}</div>
                    <code className="digest">{shortDigest(item.digest)}</code>
                  </td>
                  <td data-label="Size">{bytes(item.size)}</td>
                  <td data-label="Deleted">{date(item.deleted)} by {item.deletedBy}</td>
                  <td data-label="Expires">{date(item.expires)}</td>
                  {items.some((i) => perms.canWriteIn(namespaceOf(i.name))) ? <td data-label="Actions">{perms.canWriteIn(namespaceOf(item.name)) ? <button type="button" className="button small" disabled={action.busy} onClick={() => restore(item)} aria-label={`Restore ${item.name}@${shortDigest(item.digest)}`}>Restore</button> : null}</td> : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </Page>
  );
}

function namespaceOf(name: string): string {
  return name.slice(0, name.indexOf('/'));
}
