import { api } from '../api';
import { BarChart } from '../charts';
import { ErrorNote, Loading, Page, useLoad } from '../common';
import { bytes, statusTone } from '../format';
import { groupImages, issuesOf, loadImageRows } from '../images';
import { follow } from '../router';
import type { QuotaView } from '../types';
import { UsageBar } from './Quota';

/** The account at a glance: storage per namespace against the quota, images by security status. */
export function Overview() {
  const loaded = useLoad(async () => {
    const [rows, quota] = await Promise.all([loadImageRows(), api<QuotaView>('GET', '/quota')]);
    return { images: groupImages(rows), quota };
  }, 'overview');
  const data = loaded.data;
  const perNamespace = new Map<string, number>();
  const byStatus = new Map<string, number>();
  for (const image of data?.images ?? []) {
    perNamespace.set(image.namespace, (perNamespace.get(image.namespace) ?? 0) + image.size);
    const bucket = issuesOf(image.securityStatus) > 0 ? 'With issues' : image.securityStatus;
    byStatus.set(bucket, (byStatus.get(bucket) ?? 0) + 1);
  }
  const issues = (data?.images ?? []).reduce((sum, i) => sum + Math.max(0, issuesOf(i.securityStatus)), 0);
  return (
    <Page title="Overview">
      <ErrorNote message={loaded.error} />
      {loaded.loading && !data ? <Loading what="the overview" /> : null}
      {data ? (
        <>
          <div className="stats">
            <a className="stat card" href="/images" onClick={follow}><strong>{data.images.length}</strong> images</a>
            <a className="stat card" href="/namespaces" onClick={follow}><strong>{perNamespace.size}</strong> namespaces in use</a>
            <div className="stat card"><strong>{bytes(data.quota.storage.used)}</strong> stored</div>
            <div className="stat card"><strong>{issues}</strong> open security issues</div>
          </div>
          <section className="card">
            <UsageBar label="Account storage" used={data.quota.storage.used} limit={data.quota.storage.limit} />
            {perNamespace.size ? (
              <BarChart title="Storage per namespace" limit={data.quota.storage.limit} limitLabel={`quota ${bytes(data.quota.storage.limit)}`}
                bars={[...perNamespace].sort((a, b) => b[1] - a[1]).map(([label, value]) => ({ label, value, text: bytes(value) }))} />
            ) : <p className="muted">No images stored yet.</p>}
          </section>
          {byStatus.size ? (
            <section className="card">
              <BarChart title="Images by security status" bars={[...byStatus].map(([label, value]) => ({ label, value, tone: label === 'With issues' ? 'bad' : statusTone(label) }))} />
            </section>
          ) : null}
        </>
      ) : null}
    </Page>
  );
}
