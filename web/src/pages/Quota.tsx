import { useState, type FormEvent } from 'react';
import { api, enc } from '../api';
import { ErrorNote, Loading, Page, useAction, useLoad, usePermissions } from '../common';
import { bytes, shortDigest } from '../format';
import type { Namespace, QuotaView } from '../types';

export function UsageBar({ label, used, limit }: { label: string; used: number; limit: number | null }) {
  const share = limit ? Math.min(1, used / limit) : 0;
  const tone = share >= 0.9 ? 'bad' : share >= 0.75 ? 'warn' : 'good';
  return (
    <div className="usage">
      <div className="usage-label"><span>{label}</span><span>{bytes(used)} of {limit === null ? 'no limit' : bytes(limit)}</span></div>
      {limit !== null ? (
        <div className="bar" role="meter" aria-label={label} aria-valuemin={0} aria-valuemax={limit} aria-valuenow={Math.min(used, limit)} aria-valuetext={`${Math.round(share * 100)}%`}>
          <div className={`bar-fill ${tone}`} style={{ width: `${share * 100}%` }} />
        </div>
      ) : null}
    </div>
  );
}

/** The account's quotas with usage, and each namespace's retention policy with a dry run. */
export function Quota() {
  const loaded = useLoad(() => api<QuotaView>('GET', '/quota'), 'quota');
  const namespaces = useLoad(() => api<{ namespaces: Namespace[] }>('GET', '/namespaces'), 'ns');
  const q = loaded.data;
  return (
    <Page title="Quota & retention">
      <ErrorNote message={loaded.error ?? namespaces.error} />
      {loaded.loading && !q ? <Loading what="the quota" /> : null}
      {q ? (
        <section className="card">
          <h2>Quotas</h2>
          <UsageBar label="Storage" used={q.storage.used} limit={q.storage.limit} />
          <UsageBar label={`Pull traffic (${q.pullTraffic.month})`} used={q.pullTraffic.used} limit={q.pullTraffic.limit} />
          <UsageBar label={`Public pull traffic (${q.publicPullTraffic.month})`} used={q.publicPullTraffic.used} limit={q.publicPullTraffic.limit} />
        </section>
      ) : null}
      <h2>Retention</h2>
      {namespaces.data?.namespaces.map((n) => <Retention key={n.name} namespace={n.name} />)}
    </Page>
  );
}

interface Policy { keepImages: number | null; removeUntagged: boolean }
interface DryRun { dryRun: boolean; [key: string]: unknown }

function Retention({ namespace }: { namespace: string }) {
  const perms = usePermissions();
  const loaded = useLoad(() => api<Policy & { namespace: string }>('GET', `/namespaces/${enc(namespace)}/retention`), namespace);
  const [keep, setKeep] = useState('');
  const [untagged, setUntagged] = useState(false);
  const [preview, setPreview] = useState<DryRun | undefined>();
  const action = useAction();
  const body = () => ({ keepImages: keep === '' ? null : Number(keep), removeUntagged: untagged });
  const dryRun = async () => {
    await action.run(async () => setPreview(await api<DryRun>('PUT', `/namespaces/${enc(namespace)}/retention?dryRun=true`, body())));
  };
  const save = async (event: FormEvent) => {
    event.preventDefault();
    if (await action.run(() => api('PUT', `/namespaces/${enc(namespace)}/retention`, body()))) { setPreview(undefined); loaded.reload(); }
  };
  const id = `ret-${namespace}`;
  const removed = (preview?.removed ?? []) as Array<{ name: string; digest: string; tags?: string[] }>;
  return (
    <section className="card">
      <h3>{namespace}</h3>
      <ErrorNote message={loaded.error ?? action.error} />
      {loaded.data ? (
        <p>Now: {loaded.data.keepImages === null ? 'keeps every image' : `keeps the newest ${loaded.data.keepImages} images of each repository`}{loaded.data.removeUntagged ? ', removes untagged images' : ''}.</p>
      ) : null}
      {perms.canManageIn(namespace) ? (
        <form className="toolbar" onSubmit={save}>
          <label htmlFor={`${id}-keep`}>Keep newest</label>
          <input id={`${id}-keep`} type="number" min={0} value={keep} onChange={(e) => setKeep(e.target.value)} placeholder="all" className="narrow" />
          <label><input type="checkbox" checked={untagged} onChange={(e) => setUntagged(e.target.checked)} /> Remove untagged</label>
          <button type="button" className="button" onClick={dryRun} disabled={action.busy}>Preview (dry run)</button>
          <button type="submit" className="button primary" disabled={action.busy}>Save policy</button>
        </form>
      ) : null}
      {preview ? (
        <div className="note info" role="status">
          <p>The policy would move {removed.length} image{removed.length === 1 ? '' : 's'} to the trash at its first run.</p>
          {removed.length ? <ul className="plain">{removed.slice(0, 20).map((r, i) => <li key={i}><code>{`${r.name}@${shortDigest(r.digest)}`}</code>{r.tags?.length ? ` (${r.tags.join(', ')})` : ''}</li>)}</ul> : null}
        </div>
      ) : null}
    </section>
  );
}
