import { api, enc } from '../api';
import { Badge, CopyButton, ErrorNote, Loading, Page, useLoad } from '../common';
import { bytes, date, shortDigest, statusTone } from '../format';
import { follow } from '../router';
import type { ImageDetail } from '../types';
import { Security } from './Security';
import { Signatures } from './Signatures';

const TABS = [
  { id: 'overview', label: 'Overview' },
  { id: 'layers', label: 'Layers' },
  { id: 'config', label: 'Config' },
  { id: 'history', label: 'History' },
  { id: 'referrers', label: 'Referrers' },
  { id: 'security', label: 'Security' },
  { id: 'signatures', label: 'Signatures & policy' },
];

/** One image (`ns/repo@sha256:…` or `ns/repo:tag`): how to pull it, what it is made of, what the Vulnerability Advisor found. */
export function ImagePage({ reference, tab }: { reference: string; tab: string }) {
  const loaded = useLoad(() => api<ImageDetail>('GET', `/images/${enc(reference)}`), reference);
  const image = loaded.data;
  const base = `/images/${enc(reference)}`;
  return (
    <Page title={image ? image.name : reference.split(/[@:]/)[0] ?? reference}>
      <p><a href="/images" onClick={follow}>← All images</a></p>
      <ErrorNote message={loaded.error} />
      {loaded.loading && !image ? <Loading what="the image" /> : null}
      {image ? (
        <>
          <div className="tags" aria-label="Tags">
            {image.tags.length ? image.tags.map((t) => <span key={t} className="tag">{t}</span>) : <span className="muted">untagged</span>}
          </div>
          <nav className="tabs" aria-label="Image sections">
            {TABS.map((t) => (
              <a key={t.id} href={t.id === 'overview' ? base : `${base}?tab=${t.id}`} onClick={follow} aria-current={tab === t.id ? 'page' : undefined}>{t.label}</a>
            ))}
          </nav>
          {tab === 'overview' ? <Overview image={image} /> : null}
          {tab === 'layers' ? <Layers image={image} /> : null}
          {tab === 'config' ? <Config image={image} /> : null}
          {tab === 'history' ? <History image={image} /> : null}
          {tab === 'referrers' ? <Referrers image={image} /> : null}
          {tab === 'security' ? <Security name={image.name} digest={image.digest} /> : null}
          {tab === 'signatures' ? <Signatures name={image.name} digest={image.digest} tags={image.tags} /> : null}
        </>
      ) : null}
    </Page>
  );
}

function Overview({ image }: { image: ImageDetail }) {
  const host = location.host;
  const pulls = [
    ...image.tags.map((t) => `docker pull ${host}/${image.name}:${t}`),
    `docker pull ${host}/${image.name}@${image.digest}`,
  ];
  return (
    <>
      <h2>Pull</h2>
      <ul className="pulls">
        {pulls.map((p) => (
          <li key={p}><code>{p}</code> <CopyButton text={p} what={p} /></li>
        ))}
      </ul>
      <dl className="facts">
        <dt>Digest</dt><dd><code className="break">{image.digest}</code></dd>
        <dt>Media type</dt><dd><code>{image.mediaType}</code></dd>
        <dt>Size</dt><dd>{bytes(image.size)}</dd>
        <dt>Created</dt><dd>{date(image.created)}</dd>
        <dt>Pulls</dt><dd>{image.pullCount} (last {date(image.lastPulled)})</dd>
        {image.os ? <><dt>Platform</dt><dd>{image.os}/{image.architecture}</dd></> : null}
      </dl>
      {image.platforms.length ? (
        <>
          <h2>Platforms</h2>
          <table>
            <caption className="visually-hidden">Platforms of this multi-architecture index</caption>
            <thead><tr><th scope="col">Platform</th><th scope="col">Digest</th><th scope="col">Size</th></tr></thead>
            <tbody>
              {image.platforms.map((p) => (
                <tr key={p.digest}>
                  <td>{p.os ?? '?'}/{p.architecture ?? '?'}{p.variant ? `/${p.variant}` : ''}</td>
                  <td><a href={`/images/${enc(`${image.name}@${p.digest}`)}`} onClick={follow}><code>{shortDigest(p.digest)}</code></a></td>
                  <td>{bytes(p.size)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </>
  );
}

function Layers({ image }: { image: ImageDetail }) {
  if (!image.layers.length) return <p className="muted">An index has no layers of its own: open one of its platforms.</p>;
  const total = image.layers.reduce((s, l) => s + l.size, 0);
  return (
    <table>
      <caption>{image.layers.length} layer{image.layers.length === 1 ? '' : 's'}, {bytes(total)} compressed</caption>
      <thead><tr><th scope="col">#</th><th scope="col">Digest</th><th scope="col">Media type</th><th scope="col">Size</th></tr></thead>
      <tbody>
        {image.layers.map((l, i) => (
          <tr key={`${l.digest}-${i}`}>
            <td>{i + 1}</td><td><code title={l.digest}>{shortDigest(l.digest)}</code></td><td><code>{l.mediaType}</code></td><td>{bytes(l.size)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Config({ image }: { image: ImageDetail }) {
  const c = image.config?.config ?? {};
  const labels = { ...(c.Labels ?? {}), ...image.labels };
  return (
    <dl className="facts">
      <dt>Entrypoint</dt><dd><code>{c.Entrypoint?.length ? JSON.stringify(c.Entrypoint) : '—'}</code></dd>
      <dt>Command</dt><dd><code>{c.Cmd?.length ? JSON.stringify(c.Cmd) : '—'}</code></dd>
      <dt>User</dt><dd>{c.User ? <code>{c.User}</code> : <span>root (no USER set)</span>}</dd>
      <dt>Working directory</dt><dd>{c.WorkingDir ? <code>{c.WorkingDir}</code> : '—'}</dd>
      <dt>Exposed ports</dt><dd>{c.ExposedPorts ? Object.keys(c.ExposedPorts).join(', ') : '—'}</dd>
      <dt>Environment</dt>
      <dd>{c.Env?.length ? <ul className="plain">{c.Env.map((e) => <li key={e}><code>{e}</code></li>)}</ul> : '—'}</dd>
      <dt>Labels</dt>
      <dd>{Object.keys(labels).length ? <ul className="plain">{Object.entries(labels).map(([k, v]) => <li key={k}><code>{k}={v}</code></li>)}</ul> : '—'}</dd>
    </dl>
  );
}

function History({ image }: { image: ImageDetail }) {
  if (!image.history.length) return <p className="muted">The image config records no history.</p>;
  return (
    <ol className="history">
      {image.history.map((h, i) => (
        <li key={i}>
          <code className="break">{h.created_by ?? h.comment ?? '(no command recorded)'}</code>
          <span className="muted"> {date(h.created)}{h.empty_layer ? ' · no layer' : ''}</span>
        </li>
      ))}
    </ol>
  );
}

function Referrers({ image }: { image: ImageDetail }) {
  if (!image.referrers.length) return <p className="muted">Nothing refers to this image yet: signatures, SBOMs and attestations pushed with it as their subject appear here.</p>;
  return (
    <table>
      <caption className="visually-hidden">Artifacts that refer to this image</caption>
      <thead><tr><th scope="col">Artifact type</th><th scope="col">Digest</th><th scope="col">Size</th></tr></thead>
      <tbody>
        {image.referrers.map((r) => (
          <tr key={r.digest}>
            <td><code>{r.artifactType ?? r.mediaType}</code></td>
            <td><a href={`/images/${enc(`${image.name}@${r.digest}`)}`} onClick={follow}><code>{shortDigest(r.digest)}</code></a></td>
            <td>{bytes(r.size)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return <Badge tone={statusTone(status)}>{status}</Badge>;
}
