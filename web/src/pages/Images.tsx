import { useMemo, useState } from 'react';
import { api, enc } from '../api';
import { Badge, ErrorNote, Loading, Page, useAction, useLoad, usePermissions } from '../common';
import { bytes, date, shortDigest, statusTone } from '../format';
import { groupImages, loadImageRows, matches, signedStatus, sortImages, type SortKey } from '../images';
import { follow } from '../router';
import type { Image } from '../types';

const PAGE_SIZE = 50;

const COLUMNS: Array<{ key: SortKey; label: string }> = [
  { key: 'name', label: 'Image' },
  { key: 'size', label: 'Size' },
  { key: 'created', label: 'Created' },
  { key: 'lastPulled', label: 'Last pulled' },
  { key: 'securityStatus', label: 'Security' },
  { key: 'signed', label: 'Signed' },
];

export function Images() {
  const perms = usePermissions();
  const loaded = useLoad(async () => groupImages(await loadImageRows()), 'images');
  const [search, setSearch] = useState('');
  const [sort, setSort] = useState<{ key: SortKey; ascending: boolean }>({ key: 'name', ascending: true });
  const [page, setPage] = useState(0);
  const action = useAction();

  const shown = useMemo(() => sortImages((loaded.data ?? []).filter((i) => matches(i, search.trim())), sort.key, sort.ascending), [loaded.data, search, sort]);
  const anyWrite = visibleWrite(shown, perms.canWriteIn);
  const pages = Math.max(1, Math.ceil(shown.length / PAGE_SIZE));
  const current = Math.min(page, pages - 1);
  const visible = shown.slice(current * PAGE_SIZE, (current + 1) * PAGE_SIZE);

  const remove = async (image: Image) => {
    const what = `${image.name}@${shortDigest(image.digest)}${image.tags.length ? ` (${image.tags.join(', ')})` : ''}`;
    if (!confirm(`Move ${what} to the trash? It can be restored from the trash until it expires.`)) return;
    if (await action.run(() => api('DELETE', `/images/${enc(`${image.name}@${image.digest}`)}`))) loaded.reload();
  };

  const sortBy = (key: SortKey) => setSort((s) => ({ key, ascending: s.key === key ? !s.ascending : key === 'name' }));

  return (
    <Page title="Images">
      <div className="toolbar">
        <label htmlFor="image-search" className="visually-hidden">Search images</label>
        <input id="image-search" type="search" placeholder="Search by repository, tag or digest" value={search} onChange={(e) => { setSearch(e.target.value); setPage(0); }} />
        {loaded.data ? <span className="muted" role="status">{shown.length} of {loaded.data.length} images</span> : null}
      </div>
      <ErrorNote message={loaded.error ?? action.error} />
      {loaded.loading && !loaded.data ? <Loading what="images" /> : null}
      {loaded.data && loaded.data.length === 0 ? <EmptyImages /> : null}
      {loaded.data && loaded.data.length > 0 ? (
        <>
          <div className="table-wrap">
            <table className="images">
              <caption className="visually-hidden">Images, one row per digest with all its tags</caption>
              <thead>
                <tr>
                  {COLUMNS.map((c) => (
                    <th key={c.key} scope="col" aria-sort={sort.key === c.key ? (sort.ascending ? 'ascending' : 'descending') : 'none'}>
                      <button type="button" className="sort" onClick={() => sortBy(c.key)}>
                        {c.label}<span aria-hidden="true">{sort.key === c.key ? (sort.ascending ? ' ▲' : ' ▼') : ''}</span>
                      </button>
                    </th>
                  ))}
                  {anyWrite ? <th scope="col"><span className="visually-hidden">Actions</span></th> : null}
                </tr>
              </thead>
              <tbody>
                {visible.map((image) => (
                  <tr key={`${image.name}@${image.digest}`} data-testid="image-row">
                    <td data-label="Image">
                      <a href={`/images/${enc(`${image.name}@${image.digest}`)}`} onClick={follow} className="image-name">{image.name}</a>
                      <div className="tags">
                        {image.tags.length ? image.tags.map((t) => <span key={t} className="tag">{t}</span>) : <span className="muted">untagged</span>}
                      </div>
                      <code className="digest" title={image.digest}>{shortDigest(image.digest)}</code>
                    </td>
                    <td data-label="Size">{bytes(image.size)}</td>
                    <td data-label="Created">{date(image.created)}</td>
                    <td data-label="Last pulled">{date(image.lastPulled)}</td>
                    <td data-label="Security">
                      <a href={`/images/${enc(`${image.name}@${image.digest}`)}?tab=security`} onClick={follow} className="badge-link">
                        <Badge tone={statusTone(image.securityStatus)}>{image.securityStatus}</Badge>
                      </a>
                      {image.highestSeverity ? <span className="small muted" data-testid="highest-severity"> highest {image.highestSeverity}</span> : null}
                    </td>
                    <td data-label="Signed"><SignedBadge image={image} /></td>
                    {anyWrite ? (
                      <td data-label="Actions">
                        {perms.canWriteIn(image.namespace) ? <button type="button" className="button small danger" disabled={action.busy} onClick={() => remove(image)} aria-label={`Delete ${image.name}@${shortDigest(image.digest)}`}>Delete</button> : null}
                      </td>
                    ) : null}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {pages > 1 ? (
            <nav className="pager" aria-label="Pages of images">
              <button type="button" className="button small" disabled={current === 0} onClick={() => setPage(current - 1)}>Previous</button>
              <span>Page {current + 1} of {pages}</span>
              <button type="button" className="button small" disabled={current >= pages - 1} onClick={() => setPage(current + 1)}>Next</button>
            </nav>
          ) : null}
        </>
      ) : null}
    </Page>
  );
}

/** Verified by which trusted keys, unverified, or none; the Signatures tab says which signature and why. */
function SignedBadge({ image }: { image: Image }) {
  const signed = signedStatus(image);
  return (
    <a href={`/images/${enc(`${image.name}@${image.digest}`)}?tab=signatures`} onClick={follow} className="badge-link" data-testid="signed">
      <Badge tone={signed.tone}>{signed.label}</Badge>
    </a>
  );
}

function EmptyImages() {
  const host = location.host;
  return (
    <div className="empty">
      <h2>No images yet</h2>
      <p>Push one with skopeo or docker, into a namespace of your account:</p>
      <pre><code>{`skopeo copy docker://docker.io/library/alpine:latest docker://${host}/<namespace>/alpine:latest\n\ndocker tag alpine:latest ${host}/<namespace>/alpine:latest\ndocker push ${host}/<namespace>/alpine:latest`}</code></pre>
    </div>
  );
}

/** Whether any listed image may be deleted: a Reader's table has no actions column at all. */
function visibleWrite(images: Image[], canWriteIn: (namespace: string) => boolean): boolean {
  return [...new Set(images.map((i) => i.namespace))].some(canWriteIn);
}
