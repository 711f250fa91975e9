/**
 * Wharf at scale, inside `npm run bench`: `--scale-repos` one-image repositories and `scale/big`
 * with `--scale-tags` tags, seeded straight into the metadata store (bench/scale-seed.ts), on a
 * server of its own started with every background task forced to run during the measurement:
 * garbage collection every 2 s (grace period 0, so each run marks and sweeps everything), trash
 * expiry and retention every 1 s, the upload purge every 1 s, scan polling every 1 s; pull
 * statistics flush every 5 s as always. Each round: random repositories (latency), then random
 * tags of `scale/big` and the one-image `scale/one` (pulls/s), the longest event-loop stall inside
 * Wharf (bench/probes/event-loop.mjs) and the collections that completed meanwhile (/metrics).
 * Distribution has no metadata store to seed, so it does not run this item.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIG, ONE, SMALL_PREFIX, seedRegistry } from '../scale-seed.js';
import { ACCEPT, runPhase } from '../scale-load.js';
import { startWharf, type RunningServer } from '../servers.js';
import type { TargetName } from '../options.js';
import type { TargetContext, WorkloadItem } from './item.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const METRICS_TOKEN = 'bench-scale-metrics';
const CONNECTIONS = 16;

interface ScaleServer {
  server: RunningServer;
  probeFile: string;
  work: string;
}

const servers = new Map<TargetName, ScaleServer>();

/** Completed garbage collections so far (every outcome), from the server's /metrics. */
async function gcRuns(server: RunningServer): Promise<number> {
  const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}: ${text.slice(0, 200)}`);
  let runs = 0;
  for (const match of text.matchAll(/^wharf_gc_runs_total\{[^}]*\} (\d+(?:\.\d+)?)$/gm)) runs += Number(match[1]);
  return runs;
}

async function stopServer(target: TargetName): Promise<void> {
  const entry = servers.get(target);
  if (!entry) return;
  servers.delete(target);
  await entry.server.stop();
  rmSync(entry.work, { recursive: true, force: true });
}

export const scaleItem: WorkloadItem = {
  id: 'scale',
  title: 'manifest GET at scale, random repository: p99 latency',
  unit: 'ms',
  better: 'lower',
  ownServer: true,
  unsupported: { distribution: 'seeded straight into Wharf\'s metadata store; Distribution has none to seed' },
  extras: [
    { key: 'oneP99Ms', title: 'scale: p99 of a one-image repository (the small registry)', unit: 'ms', better: 'lower' },
    { key: 'p99Ratio', title: 'scale: random p99 ÷ one-image p99 (goal ≤ 3)', unit: '×', better: 'lower' },
    { key: 'randomRps', title: 'scale: random-repository pulls/s', unit: 'req/s', better: 'higher' },
    { key: 'bigRps', title: 'scale: pulls/s of the big repository', unit: 'req/s', better: 'higher' },
    { key: 'oneRps', title: 'scale: pulls/s of a one-image repository', unit: 'req/s', better: 'higher' },
    { key: 'bigOverOne', title: 'scale: big ÷ one-image pulls/s (goal ≥ 0.5)', unit: '×', better: 'higher' },
    { key: 'maxStallMs', title: 'scale: longest event-loop stall inside Wharf', unit: 'ms', better: 'lower' },
    { key: 'maxGcPauseMs', title: 'scale: longest V8 garbage-collection pause inside Wharf', unit: 'ms', better: 'lower' },
    { key: 'maxMs', title: 'scale: longest pull', unit: 'ms', better: 'lower' },
    { key: 'gcRuns', title: 'scale: garbage collections completed during the round', unit: 'runs', better: 'higher' },
  ],
  async setup(ctx: TargetContext) {
    const { options } = ctx;
    const work = mkdtempSync(path.join(os.tmpdir(), 'wharf-bench-scale-'));
    const dataDir = path.join(work, 'data');
    const probeFile = path.join(work, 'event-loop.jsonl');
    writeFileSync(probeFile, '');
    try {
      let databaseUrl = '';
      if (ctx.target === 'wharf-pg') {
        if (!ctx.postgres) throw new Error('Wharf on PostgreSQL needs the PostgreSQL cluster');
        databaseUrl = await ctx.postgres.createDatabase(`wharf_scale_${process.pid}`);
      }
      await seedRegistry({ engine: databaseUrl ? 'postgres' : 'sqlite', dataDir, databaseUrl, repos: options.scaleRepos, tags: options.scaleTags });
      const server = await startWharf({
        dataDir,
        ...(databaseUrl ? { databaseUrl } : {}),
        nodeArgs: ['--import', path.join(ROOT, 'bench', 'probes', 'event-loop.mjs')],
        env: {
          EVENT_LOOP_PROBE_FILE: probeFile,
          WHARF_METRICS_TOKEN: METRICS_TOKEN,
          WHARF_STORAGE_GC_INTERVAL: '2s',
          WHARF_STORAGE_GC_GRACE_PERIOD: '0',
          WHARF_REGISTRY_MAINTENANCE_INTERVAL: '1s',
          WHARF_REGISTRY_UPLOAD_PURGE_INTERVAL: '1s',
          WHARF_REGISTRY_TRASH_RETENTION: '1s',
          WHARF_SCANNER_ENABLED: 'true',
          WHARF_SCANNER_POLL_INTERVAL: '1s',
        },
      });
      servers.set(ctx.target, { server, probeFile, work });
      const ok = await fetch(`${server.url}/v2/${BIG}/manifests/v${options.scaleTags - 1}`, { headers: { accept: ACCEPT } });
      await ok.arrayBuffer();
      if (ok.status !== 200) throw new Error(`the seeded big repository answered ${ok.status}`);
    } catch (err) {
      rmSync(work, { recursive: true, force: true });
      throw err;
    }
  },
  async run(ctx: TargetContext) {
    const entry = servers.get(ctx.target);
    if (!entry) throw new Error('the scale server did not start (see setup)');
    const { server, probeFile } = entry;
    const seconds = ctx.options.durationSeconds;
    const random = (n: number) => Math.floor(Math.random() * n);
    const gcBefore = await gcRuns(server);
    const randomPhase = await runPhase(server.url, probeFile, 'random', seconds * 2, CONNECTIONS, () => `/v2/${SMALL_PREFIX}${random(ctx.options.scaleRepos)}/manifests/latest`);
    const big = await runPhase(server.url, probeFile, 'big', seconds, CONNECTIONS, () => `/v2/${BIG}/manifests/v${random(ctx.options.scaleTags)}`);
    const one = await runPhase(server.url, probeFile, 'one', seconds, CONNECTIONS, () => `/v2/${ONE}/manifests/latest`);
    const gcAfter = await gcRuns(server);
    const phases = [randomPhase, big, one];
    const errors = phases.reduce((sum, p) => sum + p.errors, 0);
    if (errors > 0) throw new Error(`${errors} pulls failed at scale`);
    return {
      value: randomPhase.p99Ms,
      extra: {
        oneP99Ms: one.p99Ms,
        p99Ratio: randomPhase.p99Ms / one.p99Ms,
        randomRps: randomPhase.pullsPerSecond,
        bigRps: big.pullsPerSecond,
        oneRps: one.pullsPerSecond,
        bigOverOne: big.pullsPerSecond / one.pullsPerSecond,
        maxStallMs: Math.max(...phases.map((p) => p.maxStallMs)),
        maxGcPauseMs: Math.max(...phases.map((p) => p.maxGcPauseMs)),
        maxMs: Math.max(...phases.map((p) => p.maxMs)),
        gcRuns: gcAfter - gcBefore,
      },
    };
  },
  async cleanup(ctx: TargetContext, round: number) {
    if (round === ctx.options.rounds) await stopServer(ctx.target);
  },
};

/** Stops whatever a failed or interrupted run left (called by the runner's cleanup). */
export async function stopScaleServers(): Promise<void> {
  await Promise.all([...servers.keys()].map((target) => stopServer(target).catch(() => {})));
}
