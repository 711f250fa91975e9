/**
 * Garbage collection at scale: `--blobs` blobs (100,000) of which half are garbage, seeded straight
 * into the metadata store (one repository, manifests of 50 layers each referencing the live half)
 * and into the filesystem store as 1-byte files, then one collection in a process of its own:
 * wall time, blobs removed, and the collector process's peak RSS (VmHWM). Both metadata engines.
 *
 *   node --import tsx bench/gc.ts [--blobs 100000] [--engine sqlite|postgres|both] [--no-analyze]
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { pino } from 'pino';
import { connectMetadata } from '../src/metadata/connect.js';
import { blobLocks } from '../src/metadata/blob-locks.js';
import { FsBlobStore } from '../src/storage/fs/fs-blob-store.js';
import { GarbageCollector } from '../src/registry/garbage-collector.js';
import { startPostgresCluster } from './servers.js';

const { values: args } = parseArgs({
  options: {
    blobs: { type: 'string', default: '100000' },
    engine: { type: 'string', default: 'both' },
    collect: { type: 'string' },
    url: { type: 'string', default: '' },
    'no-analyze': { type: 'boolean', default: false },
  },
});
const LAYERS_PER_MANIFEST = 50;
const ROWS = 2000;
const hex = (s: string) => createHash('sha256').update(s).digest('hex');

async function collect(engine: 'sqlite' | 'postgres', dataDir: string, url: string): Promise<void> {
  const metadata = await connectMetadata({ engine, sqlitePath: path.join(dataDir, 'wharf.db'), url, poolSize: 4 });
  const store = new FsBlobStore(dataDir);
  await store.init();
  const gc = new GarbageCollector(metadata.db, store, blobLocks(engine), pino({ level: 'warn' }), () => Date.now(), { gracePeriod: 0 });
  const t0 = performance.now();
  const report = await gc.run({ trigger: 'bench' });
  const ms = performance.now() - t0;
  await metadata.close();
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  console.log(JSON.stringify({ ms, blobsRemoved: report.blobsRemoved, linksRemoved: report.linksRemoved, peakRssMiB: Number(hwm?.[1]) / 1024 }));
}

async function seed(engine: 'sqlite' | 'postgres', dataDir: string, url: string, blobs: number): Promise<void> {
  const metadata = await connectMetadata({ engine, sqlitePath: path.join(dataDir, 'wharf.db'), url, poolSize: 2 });
  const digests = Array.from({ length: blobs }, (_, i) => `sha256:${hex(`gc-bench-${i}`)}`);
  for (const d of digests) {
    const h = d.slice(7);
    mkdirSync(path.join(dataDir, 'blobs', 'sha256', h.slice(0, 2)), { recursive: true });
    writeFileSync(path.join(dataDir, 'blobs', 'sha256', h.slice(0, 2), h), 'x');
  }
  const live = digests.slice(0, blobs / 2);
  await metadata.db.transaction().execute(async (trx) => {
    const { id } = await trx.insertInto('repositories').values({ name: 'gc/app', created_at: 0 }).returning('id').executeTakeFirstOrThrow();
    for (let i = 0; i < digests.length; i += ROWS) {
      await trx.insertInto('blobs').values(digests.slice(i, i + ROWS).map((digest) => ({ digest, size: 1, created_at: 0 }))).execute();
    }
    for (let i = 0; i < live.length; i += ROWS) {
      await trx.insertInto('repository_blobs').values(live.slice(i, i + ROWS).map((digest) => ({ repository_id: id, digest, created_at: 0 }))).execute();
    }
    for (let m = 0; m * LAYERS_PER_MANIFEST < live.length; m++) {
      const layers = live.slice(m * LAYERS_PER_MANIFEST, (m + 1) * LAYERS_PER_MANIFEST);
      const content = Buffer.from(JSON.stringify({ schemaVersion: 2, layers: layers.map((digest) => ({ digest, size: 1 })) }));
      const manifest = await trx.insertInto('manifests').values({
        repository_id: id, digest: `sha256:${createHash('sha256').update(content).digest('hex')}`, media_type: 'application/vnd.oci.image.manifest.v1+json',
        artifact_type: null, size: content.length, content, subject_digest: null, annotations: null, created_at: 0, image_size: layers.length, last_pulled_at: null,
      }).returning('id').executeTakeFirstOrThrow();
      await trx.insertInto('manifest_references').values(layers.map((digest) => ({ manifest_id: manifest.id, repository_id: id, digest, kind: 'blob' as const }))).execute();
    }
  });
  // Fresh tables have no planner statistics until autovacuum's next pass (a minute or more); a live
  // registry's have. Without them PostgreSQL plans the link sweep as a merge anti join that is
  // quadratic in one repository's links: --no-analyze measures that case.
  if (engine === 'postgres' && !args['no-analyze']) await sql`analyze`.execute(metadata.db);
  await metadata.close();
}

if (args.collect) {
  await collect(args.collect as 'sqlite' | 'postgres', process.env.GC_BENCH_DIR!, args.url);
} else {
  const blobs = Number(args.blobs);
  const engines = args.engine === 'both' ? ['sqlite', 'postgres'] as const : [args.engine as 'sqlite' | 'postgres'];
  const postgres = engines.includes('postgres') ? await startPostgresCluster() : undefined;
  try {
    const rows: string[] = [];
    for (const engine of engines) {
      const dataDir = mkdtempSync(path.join(os.tmpdir(), 'wharf-gc-bench-'));
      try {
        const url = engine === 'postgres' ? await postgres!.createDatabase(`wharf_gc_${process.pid}`) : '';
        const t0 = performance.now();
        await seed(engine, dataDir, url, blobs);
        console.log(`${engine}: seeded ${blobs} blobs in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
        const run = spawnSync(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, '--collect', engine, '--url', url], { env: { ...process.env, GC_BENCH_DIR: dataDir }, encoding: 'utf8' });
        if (run.status !== 0) throw new Error(`the collection failed: ${run.stderr}`);
        const result = JSON.parse(run.stdout.trim().split('\n').pop()!) as { ms: number; blobsRemoved: number; linksRemoved: number; peakRssMiB: number };
        rows.push(`| ${engine} | ${blobs.toLocaleString('en-US')} | ${result.blobsRemoved.toLocaleString('en-US')} | ${(result.ms / 1000).toFixed(1)} s | ${result.peakRssMiB.toFixed(0)} MiB |`);
        console.log(rows[rows.length - 1]);
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    }
    console.log(`\n| engine | blobs | removed | GC time | collector peak RSS |\n|---|---:|---:|---:|---:|\n${rows.join('\n')}`);
  } finally {
    postgres?.stop();
  }
}
