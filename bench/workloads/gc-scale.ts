/**
 * Garbage collection at scale: N tiny blobs of which half are garbage (unreferenced, their links
 * stale), seeded straight into each registry's layout (untimed), then one collection in a process
 * of its own, timed with its peak RSS by /usr/bin/time: Wharf's collector through its entry point
 * (bench/gc-child.mjs, SQLite metadata, filesystem driver) and Distribution's
 * `docker-registry garbage-collect` on the same blobs laid out as it stores them.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OCI_CONFIG, OCI_LAYER, OCI_MANIFEST } from '../client.js';
import { DISTRIBUTION_BIN } from '../servers.js';
import type { Measurement, WorkloadItem } from './item.js';

const REPO = 'bench/gc';
/** Layers per manifest that keeps blobs alive (plus one config). */
const PER_MANIFEST = 99;

interface Blob { digest: string; hex: string; bytes: Buffer }
interface Seed { blobs: Blob[]; live: number; manifests: Array<{ bytes: Buffer; digest: string; refs: Blob[] }> }

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The first half of the blobs are live: each manifest holds a config and up to 99 layers of them. */
function makeSeed(count: number, round: number): Seed {
  const blobs = Array.from({ length: count }, (_, i) => {
    const bytes = Buffer.from(`gc bench ${round} ${i}\n`);
    const hex = sha256(bytes);
    return { digest: `sha256:${hex}`, hex, bytes };
  });
  const live = Math.floor(count / 2);
  const manifests: Seed['manifests'] = [];
  for (let i = 0; i < live; i += PER_MANIFEST + 1) {
    const refs = blobs.slice(i, Math.min(live, i + PER_MANIFEST + 1));
    const [config, ...layers] = refs;
    const bytes = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: config!.digest, size: config!.bytes.length },
      layers: layers.map((l) => ({ mediaType: OCI_LAYER, digest: l.digest, size: l.bytes.length })),
    }));
    manifests.push({ bytes, digest: `sha256:${sha256(bytes)}`, refs });
  }
  return { blobs, live, manifests };
}

/** Wharf's filesystem layout and rows, two hours old (past the default one-hour grace period). */
async function seedWharf(dir: string, seed: Seed): Promise<void> {
  for (const b of seed.blobs) {
    const d = path.join(dir, 'blobs', 'sha256', b.hex.slice(0, 2));
    mkdirSync(d, { recursive: true });
    writeFileSync(path.join(d, b.hex), b.bytes);
  }
  const dist = new URL('../../dist/', import.meta.url);
  const { connectMetadata } = (await import(new URL('metadata/connect.js', dist).href)) as typeof import('../../src/metadata/connect.js');
  const metadata = await connectMetadata({ engine: 'sqlite', sqlitePath: path.join(dir, 'wharf.db'), url: '', poolSize: 1 });
  const old = Date.now() - 2 * 3600_000;
  try {
    await metadata.db.transaction().execute(async (trx) => {
      const repo = await trx.insertInto('repositories').values({ name: REPO, created_at: old }).returning('id').executeTakeFirstOrThrow();
      for (let i = 0; i < seed.blobs.length; i += 500) {
        const page = seed.blobs.slice(i, i + 500);
        await trx.insertInto('blobs').values(page.map((b) => ({ digest: b.digest, size: b.bytes.length, created_at: old }))).execute();
        await trx.insertInto('repository_blobs').values(page.map((b) => ({ repository_id: repo.id, digest: b.digest, created_at: old }))).execute();
      }
      for (const m of seed.manifests) {
        const row = await trx.insertInto('manifests').values({
          repository_id: repo.id, digest: m.digest, media_type: OCI_MANIFEST, artifact_type: null, size: m.bytes.length,
          content: m.bytes, subject_digest: null, annotations: null, created_at: old,
        }).returning('id').executeTakeFirstOrThrow();
        await trx.insertInto('manifest_references').values(m.refs.map((b) => ({ manifest_id: row.id, repository_id: repo.id, digest: b.digest, kind: 'blob' as const }))).execute();
      }
    });
  } finally {
    await metadata.close();
  }
}

/** Distribution's filesystem layout: blob data, the repository's layer links and manifest revisions. */
function seedDistribution(dir: string, seed: Seed): string {
  const root = path.join(dir, 'data');
  const v2 = path.join(root, 'docker', 'registry', 'v2');
  const repo = path.join(v2, 'repositories', REPO);
  const putBlob = (hex: string, bytes: Buffer) => {
    const d = path.join(v2, 'blobs', 'sha256', hex.slice(0, 2), hex);
    mkdirSync(d, { recursive: true });
    writeFileSync(path.join(d, 'data'), bytes);
  };
  const link = (kind: string, hex: string) => {
    const d = path.join(repo, kind, 'sha256', hex);
    mkdirSync(d, { recursive: true });
    writeFileSync(path.join(d, 'link'), `sha256:${hex}`);
  };
  for (const b of seed.blobs) {
    putBlob(b.hex, b.bytes);
    link('_layers', b.hex);
  }
  for (const m of seed.manifests) {
    const hex = m.digest.slice('sha256:'.length);
    putBlob(hex, m.bytes);
    link(path.join('_manifests', 'revisions'), hex);
  }
  const config = path.join(dir, 'config.yml');
  writeFileSync(config, ['version: 0.1', 'log:', '  level: error', 'storage:', '  filesystem:', `    rootdirectory: ${root}`, 'http:', '  addr: 127.0.0.1:0', ''].join('\n'));
  return config;
}

/** Runs a command under /usr/bin/time: its wall seconds, peak RSS (MiB) and standard output. */
function timedProcess(command: string, args: string[]): Promise<{ seconds: number; rssMiB: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    execFile('/usr/bin/time', ['-f', 'TIME %e %M', command, ...args], { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${command} ${args.join(' ')} failed: ${stderr.slice(-600)}`));
      const m = /TIME ([\d.]+) (\d+)\s*$/.exec(stderr);
      if (!m) return reject(new Error(`no timing from /usr/bin/time: ${stderr.slice(-300)}`));
      resolve({ seconds: Number(m[1]), rssMiB: Number(m[2]) / 1024, stdout });
    });
  });
}

function countFiles(dir: string): number {
  let n = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) if (entry.isFile()) n++;
  return n;
}

let seed: Seed | undefined;

export const gcScale: WorkloadItem = {
  id: 'gc-scale',
  title: 'garbage collection, half of N blobs garbage (wall time)',
  unit: 's',
  better: 'lower',
  ownServer: true,
  unsupported: { 'wharf-pg': 'SQLite only in this item (the collector is the same code)' },
  extras: [
    { key: 'rssMiB', title: 'garbage collection peak RSS', unit: 'MiB', better: 'lower' },
    { key: 'gcMs', title: 'garbage collection, Wharf\'s own run time (no process start)', unit: 'ms', better: 'lower' },
  ],
  async prepare(round, options) {
    seed = makeSeed(options.gcBlobs, round);
  },
  async run(ctx): Promise<Measurement> {
    const s = seed!;
    const dir = mkdtempSync(path.join(os.tmpdir(), `gc-bench-${ctx.target}-`));
    try {
      if (ctx.target === 'distribution') {
        const config = seedDistribution(dir, s);
        const run = await timedProcess(DISTRIBUTION_BIN, ['garbage-collect', config]);
        const left = countFiles(path.join(dir, 'data', 'docker', 'registry', 'v2', 'blobs'));
        if (left !== s.live + s.manifests.length) throw new Error(`Distribution left ${left} blob files, expected ${s.live + s.manifests.length}`);
        return { value: run.seconds, extra: { rssMiB: run.rssMiB } };
      }
      await seedWharf(dir, s);
      const run = await timedProcess(process.execPath, [new URL('../gc-child.mjs', import.meta.url).pathname, dir]);
      const report = JSON.parse(run.stdout.trim().split('\n').pop()!) as { blobsRemoved: number; durationMs: number };
      const removed = s.blobs.length - s.live;
      if (report.blobsRemoved !== removed) throw new Error(`Wharf removed ${report.blobsRemoved} blobs, expected ${removed}`);
      const left = countFiles(path.join(dir, 'blobs'));
      if (left !== s.live) throw new Error(`Wharf left ${left} blob files, expected ${s.live}`);
      return { value: run.seconds, extra: { rssMiB: run.rssMiB, gcMs: report.durationMs } };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
