/**
 * The S3 table of the report: Wharf and Distribution on the same radosgw, blob GETs proxied and
 * redirected, each with its ratio measured in the same run.
 */
import type { BenchResults, ItemResult, TargetResult } from './report.js';
import type { WorkloadItem } from './workloads/item.js';

function num(value: number): string {
  if (value >= 1000) return Math.round(value).toLocaleString('en-US');
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

function cell(r: TargetResult | undefined, unit: string, key?: string): string {
  if (!r) return 'not run';
  if (r.unsupported) return r.unsupported;
  const s = key ? r.extras[key] : r.summary;
  if (!s) return r.errors.length ? `failed: ${r.errors[0]!.slice(0, 80)}` : '–';
  return `${num(s.median)} ${unit} ±${(s.spread * 100).toFixed(0)}%`;
}

function ratio(a: TargetResult | undefined, b: TargetResult | undefined, better: 'higher' | 'lower', key?: string): string {
  const x = (key ? a?.extras[key] : a?.summary)?.median;
  const y = (key ? b?.extras[key] : b?.summary)?.median;
  if (!x || !y) return '–';
  return `${(better === 'higher' ? x / y : y / x).toFixed(2)}×`;
}

export function isS3Item(item: ItemResult): boolean {
  return item.id.startsWith('s3-');
}

export function renderS3(results: BenchResults, byId: Map<string, WorkloadItem>): string[] {
  const items = results.items.filter(isS3Item);
  if (items.length === 0) return [];
  const o = results.options;
  const lines = ['## S3 storage (radosgw)', '',
    `Wharf (SQLite metadata, storage.driver s3) and Distribution (its s3 driver) on one throwaway single-node radosgw (memstore OSD) on this machine, each under its own prefix of one bucket. Blobs: ${o.s3BlobMib} MiB (large) and ${Math.max(1, Math.round(o.s3BlobMib / 8))} MiB (small), chunks ${o.chunkMib} MiB; rollout: ${o.rolloutClients} clients each pulling the manifest, config and 2 layers of ${Math.max(1, Math.round(o.rolloutBlobMib / 2))} MiB. "Redirect": Wharf's storage.s3Redirect and Distribution's redirect on, the client follows the 307 to radosgw. Ratio = Wharf ÷ Distribution (inverted for times), same run.`, '',
    '| item | Wharf | Distribution | ratio | Wharf, redirect | Distribution, redirect | ratio, redirect |', '|---|---|---|---|---|---|---|'];
  for (const item of items) {
    const t = item.targets;
    const rows = [{ title: item.title, unit: item.unit, better: item.better, key: undefined as string | undefined },
      ...(byId.get(item.id)?.extras ?? []).map((e) => ({ title: e.title, unit: e.unit, better: e.better, key: e.key as string | undefined }))];
    for (const row of rows) {
      lines.push(`| ${row.title} | ${cell(t['wharf-s3'], row.unit, row.key)} | ${cell(t['distribution-s3'], row.unit, row.key)} | ${ratio(t['wharf-s3'], t['distribution-s3'], row.better, row.key)} | ${cell(t['wharf-s3-redirect'], row.unit, row.key)} | ${cell(t['distribution-s3-redirect'], row.unit, row.key)} | ${ratio(t['wharf-s3-redirect'], t['distribution-s3-redirect'], row.better, row.key)} |`);
    }
  }
  lines.push('', 'Server CPU seconds per round (median) and peak RSS: what each registry spends, which holds up better than throughput when other processes compete for the cores.', '',
    '| item | Wharf | Distribution | Wharf, redirect | Distribution, redirect |', '|---|---|---|---|---|');
  const use = (r?: TargetResult) => {
    if (!r || r.resources.length === 0) return '–';
    const cpu = [...r.resources.map((u) => u.cpuSeconds)].sort((a, b) => a - b)[Math.floor(r.resources.length / 2)]!;
    return `${num(cpu)} s, ${num(Math.max(...r.resources.map((u) => u.rssPeakMiB)))} MiB`;
  };
  for (const item of items) {
    const t = item.targets;
    lines.push(`| ${item.title} | ${use(t['wharf-s3'])} | ${use(t['distribution-s3'])} | ${use(t['wharf-s3-redirect'])} | ${use(t['distribution-s3-redirect'])} |`);
  }
  lines.push('');
  return lines;
}
