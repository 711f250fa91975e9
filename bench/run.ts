/**
 * `npm run bench`: Wharf (SQLite and PostgreSQL) against CNCF Distribution on the same workload,
 * interleaved round by round, beside the physical limits of this machine. See --help.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import path from 'node:path';
import { measureLimits } from './limits.js';
import { parseOptions, type TargetName } from './options.js';
import { RegistryClient } from './client.js';
import { ResourceSampler } from './proc.js';
import { elapsedSeconds, progress } from './progress.js';
import { writeResults, type BenchResults, type ItemResult, type TargetResult } from './report.js';
import { startPostgresCluster, startTarget, DISTRIBUTION_BIN, type Postgres, type RunningServer } from './servers.js';
import { summarize } from './stats.js';
import type { TargetContext, WorkloadItem } from './workloads/item.js';
import { coldStartItem, replicaStartItem } from './workloads/cold-start.js';
import { manifestGet, manifestHead } from './workloads/manifests.js';
import { catalogPaged, catalogWhole, tagsPaged, tagsWhole } from './workloads/listing.js';
import { blobPull, blobPushChunked, blobPushPostPut, blobPushSinglePost } from './workloads/large-blob.js';
import { rollout } from './workloads/rollout.js';
import { smallBlobs } from './workloads/small-blobs.js';
import { manifestPush } from './workloads/manifest-push.js';
import { skopeoPull, skopeoPush } from './workloads/skopeo.js';
import { ensurePrerequisites } from './prerequisites.js';
import { scanGzip, scanZstd } from './workloads/scan.js';
import { scaleItem, stopScaleServers } from './workloads/scale.js';
import { consoleItem, stopConsoleBench } from './workloads/console.js';
import { S3_ITEMS } from './workloads/s3.js';
import { gcScale } from './workloads/gc-scale.js';
import { isS3Target, stopRadosgw } from './s3-servers.js';

const ALL_ITEMS: WorkloadItem[] = [
  coldStartItem, replicaStartItem,
  manifestGet, manifestHead,
  tagsWhole, tagsPaged, catalogWhole, catalogPaged,
  blobPushSinglePost, blobPushPostPut, blobPushChunked, blobPull,
  rollout, smallBlobs, manifestPush,
  skopeoPush, skopeoPull,
  scanGzip, scanZstd,
  scaleItem,
  consoleItem,
  gcScale,
  ...S3_ITEMS,
];

const LABEL: Record<TargetName, string> = {
  wharf: 'Wharf', distribution: 'Distribution', 'wharf-pg': 'Wharf-PG',
  'wharf-s3': 'Wharf-S3', 'distribution-s3': 'Distribution-S3', 'wharf-s3-redirect': 'Wharf-S3-redirect', 'distribution-s3-redirect': 'Distribution-S3-redirect',
};

function fmt(value: number): string {
  return value >= 100 ? value.toFixed(0) : value.toFixed(2);
}

const loadAtStart = loadavg()[0]!.toFixed(2);

function machine(): Record<string, string | number> {
  let distribution = '';
  try { distribution = execFileSync(DISTRIBUTION_BIN, ['--version'], { encoding: 'utf8' }).trim().split(' ').pop() ?? ''; } catch { /* absent */ }
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    distribution,
    'load average at start': loadAtStart,
    'load average at end': loadavg()[0]!.toFixed(2),
  };
}

/** True when a file under src/ is newer than the bundled CLI (or there is none). */
function wharfBuildIsStale(targets: TargetName[]): boolean {
  if (!targets.some((t) => t.startsWith('wharf'))) return false;
  const root = new URL('..', import.meta.url).pathname;
  let built: number;
  try { built = statSync(path.join(root, 'dist/bundle/wharf.cjs')).mtimeMs; } catch { return true; }
  const newest = (dir: string): number => readdirSync(dir, { withFileTypes: true }).reduce((max, entry) => {
    const full = path.join(dir, entry.name);
    return Math.max(max, entry.isDirectory() ? newest(full) : statSync(full).mtimeMs);
  }, 0);
  return newest(path.join(root, 'src')) > built;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const items = ALL_ITEMS.filter((i) => (options.only.length === 0 || options.only.includes(i.id)) && !options.skip.includes(i.id))
    // The S3 items need an S3 target, and S3 targets have only them to run.
    .filter((i) => (i.s3 ? options.targets.some(isS3Target) : options.targets.some((t) => !isS3Target(t))));
  if (!items.some((i) => i.s3)) options.targets = options.targets.filter((t) => !isS3Target(t));
  progress(`wharf bench, ${options.mode} mode: ${items.length} items × ${options.rounds} rounds × ${options.targets.join(', ')}`);
  ensurePrerequisites(options.targets.includes('wharf-pg'), options.targets.some((t) => t.startsWith('distribution')), progress, options.targets.some(isS3Target));
  if (options.build && wharfBuildIsStale(options.targets)) {
    progress('building Wharf (npm run build): dist/ is older than src/');
    execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: new URL('..', import.meta.url).pathname, stdio: ['ignore', 'ignore', 'inherit'] });
  }

  const limits = await measureLimits({ bytes: options.limitMib * 1024 * 1024, connections: options.connections, durationMs: options.durationSeconds * 1000 }, progress);

  let postgres: Postgres | undefined;
  const servers = new Map<TargetName, RunningServer>();
  const clients = new Map<TargetName, RegistryClient>();
  const cleanup = async () => {
    await Promise.all([...clients.values()].map((client) => client.destroy()));
    await stopScaleServers();
    await stopConsoleBench();
    await Promise.all([...servers.values()].map(async (server) => {
      const t0 = performance.now();
      await server.stop().catch(() => {});
      progress(`  ${LABEL[server.target]} stopped in ${(performance.now() - t0).toFixed(0)} ms`);
    }));
    postgres?.stop();
    stopRadosgw();
  };
  process.once('SIGINT', () => { void cleanup().then(() => process.exit(130)); });

  const results: ItemResult[] = [];
  try {
    if (options.targets.includes('wharf-pg')) {
      progress('starting PostgreSQL');
      postgres = await startPostgresCluster();
    }
    for (const target of options.targets) {
      const server = await startTarget(target, postgres, `wharf_bench_${process.pid}`);
      servers.set(target, server);
      clients.set(target, new RegistryClient(server.url));
      progress(`${LABEL[target]} on ${server.url} (pid ${server.pid}), ready in ${server.startMs.toFixed(0)} ms`);
    }
    const contexts = new Map<TargetName, TargetContext>(options.targets.map((target) => [target, {
      target,
      server: servers.get(target)!,
      client: clients.get(target)!,
      options,
      postgres,
      blobFile: (digest: string) => servers.get(target)!.blobFile(digest),
    }]));

    for (const item of items) {
      progress(`${item.id}: ${item.title}`);
      const raw = new Map<TargetName, { values: number[]; extras: Map<string, number[]>; result: TargetResult }>();
      for (const target of options.targets) {
        const unsupported = item.unsupported?.[target] ?? (isS3Target(target) && !item.s3 ? 'filesystem item' : undefined);
        raw.set(target, { values: [], extras: new Map(), result: { extras: {}, resources: [], errors: [], ...(unsupported ? { unsupported } : {}) } });
        if (unsupported || !item.setup) continue;
        try {
          await item.setup(contexts.get(target)!);
        } catch (err) {
          raw.get(target)!.result.errors.push(`setup: ${(err as Error).message}`);
        }
      }
      for (let round = 1; round <= options.rounds; round++) {
        await item.prepare?.(round, options);
        // Rotate the order each round so no target always runs first (or right after a heavy one).
        const order = options.targets.map((_, i) => options.targets[(i + round - 1) % options.targets.length]!);
        const line: string[] = [];
        for (const target of order) {
          const entry = raw.get(target)!;
          if (entry.result.unsupported || entry.result.errors.some((e) => e.startsWith('setup'))) continue;
          const ctx = contexts.get(target)!;
          const sampler = item.ownServer ? undefined : new ResourceSampler(ctx.server.pid, ctx.server.helperPid, item.memory ? 20 : 50);
          try {
            const m = await item.run(ctx, round);
            const use = sampler?.stop();
            if (use) entry.result.resources.push(use);
            // Server CPU per operation holds up even when other processes compete for the cores.
            if (use && m.extra?.requests) m.extra.cpuUsPerRequest = (use.cpuSeconds * 1e6) / m.extra.requests;
            entry.values.push(m.value);
            for (const [k, v] of Object.entries(m.extra ?? {})) entry.extras.set(k, [...(entry.extras.get(k) ?? []), v]);
            line.push(`${LABEL[target]} ${fmt(m.value)}${use ? ` (cpu ${use.cpuSeconds.toFixed(2)} s, rss ${use.rssPeakMiB.toFixed(0)} MiB)` : ''}`);
          } catch (err) {
            sampler?.stop();
            entry.result.errors.push((err as Error).message);
            line.push(`${LABEL[target]} failed: ${(err as Error).message.slice(0, 160)}`);
          }
          try {
            await item.cleanup?.(ctx, round);
          } catch { /* housekeeping only */ }
        }
        progress(`  round ${round}/${options.rounds} [${item.unit}]: ${line.join(' | ')}`);
      }
      const targets: ItemResult['targets'] = {};
      for (const [target, entry] of raw) {
        if (entry.values.length) entry.result.summary = summarize(entry.values);
        for (const [k, v] of entry.extras) entry.result.extras[k] = summarize(v);
        targets[target] = entry.result;
      }
      results.push({ id: item.id, title: item.title, unit: item.unit, better: item.better, memory: item.memory ?? false, limit: item.limit?.(limits, options), targets });
    }
  } finally {
    progress('stopping servers');
    await cleanup();
  }

  const report: BenchResults = {
    date: new Date().toISOString().slice(0, 10),
    mode: options.mode,
    machine: machine(),
    options,
    limits,
    items: results,
    durationSeconds: elapsedSeconds(),
  };
  const { markdown, files } = writeResults(report, items);
  console.log(markdown);
  progress(`done in ${elapsedSeconds().toFixed(0)} s; wrote ${files.join(', ')}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack ?? err.message : String(err));
  process.exitCode = 1;
});
