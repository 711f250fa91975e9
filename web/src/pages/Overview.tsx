import { api } from '../api';
import { BarChart, DayChart, LineChart } from '../charts';
import { ErrorNote, Loading, Page, useLoad } from '../common';
import { bytes, statusTone } from '../format';
import { groupImages, issuesOf, loadImageRows } from '../images';
import { follow } from '../router';
import type { QuotaView, Stats } from '../types';
import { UsageBar } from './Quota';

const SEVERITY_TONES: Record<string, string> = { CRITICAL: 'crit', HIGH: 'high', MEDIUM: 'medium', LOW: 'low', NEGLIGIBLE: 'pending', UNKNOWN: 'pending' };

/**
 * The account at a glance: storage per namespace against the quota, pushes and pulls per day,
 * vulnerabilities by severity (GET /stats), and the images by security status.
 */
export function Overview() {
  const loaded = useLoad(async () => {
    const [rows, quota, stats] = await Promise.all([loadImageRows(), api<QuotaView>('GET', '/quota'), api<Stats>('GET', '/stats?days=30')]);
    return { images: groupImages(rows), quota, stats };
  }, 'overview');
  const data = loaded.data;
  const byStatus = new Map<string, number>();
  for (const image of data?.images ?? []) {
    const bucket = issuesOf(image.securityStatus) > 0 ? 'With issues' : image.securityStatus;
    byStatus.set(bucket, (byStatus.get(bucket) ?? 0) + 1);
  }
  const openIssues = data ? Object.values(data.stats.vulnerabilities).reduce((a, b) => a + b, 0) : 0;
  return (
    <Page title="Overview">
      <ErrorNote message={loaded.error} />
      {loaded.loading && !data ? <Loading what="the overview" /> : null}
      {data ? (
        <>
          <div className="stats">
            <a className="stat card" href="/images" onClick={follow}><strong>{data.images.length}</strong> images</a>
            <a className="stat card" href="/namespaces" onClick={follow}><strong>{data.stats.namespaces.length}</strong> namespaces</a>
            <div className="stat card"><strong>{bytes(data.quota.storage.used)}</strong> stored</div>
            <div className="stat card"><strong>{openIssues}</strong> open vulnerabilities</div>
          </div>
          <section className="card">
            <UsageBar label="Account storage" used={data.quota.storage.used} limit={data.quota.storage.limit} />
            {data.stats.namespaces.length ? (
              <BarChart title="Storage per namespace" limit={data.quota.storage.limit} limitLabel={`quota ${bytes(data.quota.storage.limit)}`}
                bars={[...data.stats.namespaces].sort((a, b) => b.storageBytes - a.storageBytes).map((n) => ({ label: n.name, value: n.storageBytes, text: bytes(n.storageBytes) }))} />
            ) : <p className="muted">No namespace to show.</p>}
          </section>
          {data.stats.namespaces.some((n) => n.history.some((h) => h !== null)) ? (
            <section className="card">
              <LineChart title="Storage per namespace over time (daily snapshots)" days={data.stats.days.map((d) => d.day)} limit={data.quota.storage.limit} format={bytes}
                lines={data.stats.namespaces.slice(0, 6).map((n) => ({ label: n.name, values: n.history }))} />
            </section>
          ) : null}
          <section className="card">
            <DayChart title="Pushes and pulls per day (last 30 days)" days={data.stats.days.map((d) => d.day)} series={[
              { label: 'Pushes', tone: 'accent', values: data.stats.days.map((d) => d.pushes) },
              { label: 'Pulls', tone: 'good', values: data.stats.days.map((d) => d.pulls) },
            ]} />
          </section>
          <section className="card">
            <BarChart title={`Open vulnerabilities by severity (${data.stats.scannedImages} scanned images)`}
              bars={Object.entries(data.stats.vulnerabilities).map(([label, value]) => ({ label: label.toLowerCase(), value, tone: SEVERITY_TONES[label] }))} />
            {byStatus.size ? (
              <BarChart title="Images by security status" bars={[...byStatus].map(([label, value]) => ({ label, value, tone: label === 'With issues' ? 'bad' : statusTone(label) }))} />
            ) : null}
          </section>
        </>
      ) : null}
    </Page>
  );
}
