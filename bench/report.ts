/** The results as a markdown table (printed and written to bench/results/<date>.md) and JSON. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { PhysicalLimits } from './limits.js';
import type { BenchOptions, TargetName } from './options.js';
import type { ResourceUse } from './proc.js';
import type { Summary } from './stats.js';
import { summarize } from './stats.js';
import type { LimitValue, WorkloadItem } from './workloads/item.js';
import { isS3Item, renderS3 } from './s3-report.js';

export interface TargetResult {
  summary?: Summary;
  extras: Record<string, Summary>;
  resources: ResourceUse[];
  unsupported?: string;
  errors: string[];
}

export interface ItemResult {
  id: string;
  title: string;
  unit: string;
  better: 'higher' | 'lower';
  memory: boolean;
  limit?: LimitValue;
  targets: Partial<Record<TargetName, TargetResult>>;
}

export interface BenchResults {
  date: string;
  mode: string;
  machine: Record<string, string | number>;
  options: BenchOptions;
  limits: PhysicalLimits;
  items: ItemResult[];
  durationSeconds: number;
}

function num(value: number): string {
  if (!Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function cell(result: TargetResult | undefined, unit: string, key?: string): string {
  if (!result) return 'not run';
  if (result.unsupported) return result.unsupported;
  const s = key ? result.extras[key] : result.summary;
  if (!s) return result.errors.length ? `failed: ${result.errors[0]!.slice(0, 80)}` : '–';
  return `${num(s.median)} ${unit} ±${(s.spread * 100).toFixed(0)}%`;
}

/** Wharf ÷ other, oriented so that above 1 means Wharf is better. */
function ratio(a: number | undefined, b: number | undefined, better: 'higher' | 'lower'): number | undefined {
  if (a === undefined || b === undefined || a === 0 || b === 0) return undefined;
  return better === 'higher' ? a / b : b / a;
}

function ratioText(value: number | undefined): string {
  return value === undefined ? '–' : `${value.toFixed(2)}×`;
}

interface Row {
  item: string;
  unit: string;
  better: 'higher' | 'lower';
  wharf?: TargetResult;
  distribution?: TargetResult;
  pg?: TargetResult;
  key?: string;
  limit?: LimitValue;
}

function rows(results: BenchResults, itemsById: Map<string, WorkloadItem>): Row[] {
  const out: Row[] = [];
  for (const item of results.items.filter((i) => !isS3Item(i))) {
    const base = { wharf: item.targets.wharf, distribution: item.targets.distribution, pg: item.targets['wharf-pg'] };
    out.push({ item: item.title, unit: item.unit, better: item.better, limit: item.limit, ...base });
    for (const extra of itemsById.get(item.id)?.extras ?? []) {
      out.push({ item: extra.title, unit: extra.unit, better: extra.better, key: extra.key, ...base });
    }
  }
  return out;
}

/**
 * A paged listing compares only when both servers answered in as many pages: Distribution 2.8
 * ignores n on the tags list and returns every tag at once, which is less work than paging.
 */
function comparable(a: TargetResult | undefined, b: TargetResult | undefined): boolean {
  const pa = a?.extras.pages?.median;
  const pb = b?.extras.pages?.median;
  return pa === undefined || pb === undefined || pa === pb;
}

function median(result: TargetResult | undefined, key?: string): number | undefined {
  return (key ? result?.extras[key] : result?.summary)?.median;
}

export function renderMarkdown(results: BenchResults, items: WorkloadItem[]): string {
  const byId = new Map(items.map((i) => [i.id, i]));
  const l = results.limits;
  const lines: string[] = [];
  lines.push(`# Wharf benchmark, ${results.date} (${results.mode} mode)`, '');
  lines.push(`Machine: ${Object.entries(results.machine).map(([k, v]) => `${k} ${v}`).join(', ')}.`);
  lines.push(`Rounds: ${results.options.rounds}, interleaved across targets (order rotated each round); cells are medians ± half the range. Ratio = Wharf ÷ Distribution, inverted for times, so above 1.00× means Wharf is better. Run took ${results.durationSeconds.toFixed(0)} s.`, '');
  lines.push('## Physical limits', '', 'Each the best of three tries in this sitting (noise only ever makes a try slower).', '');
  lines.push('| limit | value |', '|---|---|');
  lines.push(`| sequential disk write + fsync | ${num(l.diskWriteMiBs)} MiB/s |`);
  lines.push(`| sequential disk read (page cache) | ${num(l.diskReadMiBs)} MiB/s |`);
  lines.push(`| SHA-256, one core | ${num(l.sha256MiBs)} MiB/s |`);
  lines.push(`| loopback TCP, process to process | ${num(l.loopbackMiBs)} MiB/s |`);
  lines.push(`| push through a bare node:http server (receive + SHA-256 + write + fsync, same client) | ${num(l.pushPipelineMiBs)} MiB/s |`);
  if (l.nodeToCurlMiBs !== undefined) lines.push(`| bare node:http server sending from memory to curl | ${num(l.nodeToCurlMiBs)} MiB/s |`);
  lines.push(`| empty node:http server, ${results.options.connections} connections | ${num(l.emptyHttpRps)} req/s (p50 ${num(l.emptyHttpP50Ms)} ms) |`);
  lines.push(`| empty node:http process, spawn to first 200 | ${num(l.emptyNodeStartMs)} ms |`, '');

  lines.push('## Results', '');
  lines.push('| item | Wharf | Distribution | ratio | physical limit | Wharf ÷ limit | Wharf on PostgreSQL | PG ratio |');
  lines.push('|---|---|---|---|---|---|---|---|');
  for (const row of rows(results, byId)) {
    const w = median(row.wharf, row.key);
    const d = median(row.distribution, row.key);
    const p = median(row.pg, row.key);
    const limit = row.limit && !row.key ? `${num(row.limit.value)} ${row.unit} (${row.limit.label})` : '';
    const fraction = row.limit && !row.key && w !== undefined ? (row.better === 'higher' ? w / row.limit.value : row.limit.value / w) : undefined;
    lines.push(`| ${row.item} | ${cell(row.wharf, row.unit, row.key)} | ${cell(row.distribution, row.unit, row.key)} | ${comparable(row.wharf, row.distribution) ? ratioText(ratio(w, d, row.better)) : 'n/c: Distribution ignores n'} | ${limit} | ${fraction === undefined ? '' : `${(fraction * 100).toFixed(0)}%`} | ${cell(row.pg, row.unit, row.key)} | ${comparable(row.pg, row.distribution) ? ratioText(ratio(p, d, row.better)) : 'n/c'} |`);
  }
  lines.push('');
  lines.push(...renderS3(results, byId));

  lines.push('## Server resources per item', '');
  lines.push('CPU seconds used by the server process during one round (median); peak RSS over all rounds. Wharf on PostgreSQL also shows the PostgreSQL processes\' CPU.', '');
  lines.push('| item | Wharf CPU s | Distribution CPU s | Wharf-PG CPU s (+PG) | Wharf peak RSS | Distribution peak RSS | Wharf-PG peak RSS |');
  lines.push('|---|---|---|---|---|---|---|');
  const cpu = (r?: TargetResult) => (r && r.resources.length ? num(summarize(r.resources.map((u) => u.cpuSeconds)).median) : '–');
  const helper = (r?: TargetResult) => (r && r.resources.length && r.resources[0]!.helperCpuSeconds !== undefined ? ` (+${num(summarize(r.resources.map((u) => u.helperCpuSeconds ?? 0)).median)})` : '');
  const rss = (r?: TargetResult) => (r && r.resources.length ? `${num(Math.max(...r.resources.map((u) => u.rssPeakMiB)))} MiB` : '–');
  for (const item of results.items.filter((i) => !isS3Item(i))) {
    const t = item.targets;
    if (!Object.values(t).some((r) => r?.resources.length)) continue;
    lines.push(`| ${item.title} | ${cpu(t.wharf)} | ${cpu(t.distribution)} | ${cpu(t['wharf-pg'])}${helper(t['wharf-pg'])} | ${rss(t.wharf)} | ${rss(t.distribution)} | ${rss(t['wharf-pg'])} |`);
  }
  lines.push('');

  lines.push(`## Memory during large-blob transfers (${results.options.largeBlobMib} MiB blob)`, '');
  lines.push('RSS when the item started → highest RSS sampled while it ran (every 20 ms), over all rounds.', '');
  lines.push('| item | Wharf | Distribution | Wharf on PostgreSQL |', '|---|---|---|---|');
  const flat = (r?: TargetResult) => (r && r.resources.length ? `${num(Math.min(...r.resources.map((u) => u.rssStartMiB)))} → ${num(Math.max(...r.resources.map((u) => u.rssPeakMiB)))} MiB` : '–');
  for (const item of results.items.filter((i) => i.memory)) {
    lines.push(`| ${item.title} | ${flat(item.targets.wharf)} | ${flat(item.targets.distribution)} | ${flat(item.targets['wharf-pg'])} |`);
  }
  lines.push('');
  const failures = results.items.flatMap((i) => Object.entries(i.targets).flatMap(([t, r]) => (r?.errors ?? []).map((e) => `- ${i.id} on ${t}: ${e}`)));
  if (failures.length) lines.push('## Failures', '', ...failures, '');
  return lines.join('\n');
}

export function writeResults(results: BenchResults, items: WorkloadItem[]): { markdown: string; files: string[] } {
  const markdown = renderMarkdown(results, items);
  mkdirSync(results.options.outDir, { recursive: true });
  const stem = path.join(results.options.outDir, `${results.date}${results.mode === 'quick' ? '-quick' : ''}`);
  writeFileSync(`${stem}.md`, `${markdown}\n`);
  writeFileSync(`${stem}.json`, `${JSON.stringify(results)}\n`);
  return { markdown, files: [`${stem}.md`, `${stem}.json`] };
}
