/**
 * Wharf and CNCF Distribution 2.8.2 on the same S3 store: a throwaway radosgw (Ceph's S3 gateway,
 * test/support/radosgw.mjs), one bucket, a prefix each. Four servers, each with and without
 * redirects of blob GETs to presigned URLs (Wharf's storage.s3Redirect, Distribution's
 * redirect.disable), in interleaved rounds:
 *  - push of a large blob (POST then PUT ?digest=), and chunked in PATCHes;
 *  - pull of it with curl (following the redirect);
 *  - a rollout: `--clients` clients pulling one blob at once (Node's fetch, following redirects).
 * Writes bench/results/s3-<date>.md and .json.
 *
 *   node --import tsx bench/s3.ts [--blob-mib 64] [--chunk-mib 8] [--rollout-mib 8] [--clients 50] [--rounds 3] [--no-build]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { RegistryClient } from './client.js';
import { curlDownload } from './curl.js';
import { makeBlob, type BlobSpec } from './payload.js';
import { cpuSeconds } from './proc.js';
import { startDistribution, startWharf, type RunningServer } from './servers.js';
import { summarize, type Summary } from './stats.js';

const ROOT = new URL('..', import.meta.url).pathname;
const MIB = 1024 * 1024;
const { values: args } = parseArgs({
  options: {
    'blob-mib': { type: 'string', default: '64' },
    'chunk-mib': { type: 'string', default: '8' },
    'rollout-mib': { type: 'string', default: '8' },
    clients: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '3' },
    'out-dir': { type: 'string', default: path.join(ROOT, 'bench', 'results') },
    'no-build': { type: 'boolean', default: false },
  },
});
const blobMib = Number(args['blob-mib']);
const chunkMib = Number(args['chunk-mib']);
const rolloutMib = Number(args['rollout-mib']);
const clients = Number(args.clients);
const rounds = Number(args.rounds);

interface Target {
  label: string;
  server: RunningServer;
  client: RegistryClient;
}

const loadAtStart = loadavg()[0]!.toFixed(2);
const cleanups: Array<() => Promise<void> | void> = [];
async function cleanup(): Promise<void> {
  for (const fn of cleanups.reverse()) await Promise.resolve().then(fn).catch((err: unknown) => console.error(`cleanup: ${(err as Error).message}`));
  cleanups.length = 0;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { void cleanup().then(() => process.exit(130)); });

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

try {
  if (!args['no-build']) {
    const build = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { stdio: 'inherit' });
    if (build.status !== 0) throw new Error('build failed');
  }
  const { startRadosgw } = (await import(new URL('../test/support/radosgw.mjs', import.meta.url).href)) as { startRadosgw(): Promise<{ env: Record<string, string>; stop(): void }> };
  console.log('starting radosgw…');
  const rgw = await startRadosgw();
  cleanups.push(() => rgw.stop());
  const s3 = rgw.env;
  // Distribution's AWS SDK (Go, v1) panics at start when AWS_CA_BUNDLE is set ("unsupported
  // transport"); the store is plain HTTP on the loopback, so neither server needs it.
  delete process.env.AWS_CA_BUNDLE;
  const wharf = (label: string, prefix: string, redirect: boolean) => async (): Promise<Target> => {
    const server = await startWharf({
      env: {
        WHARF_STORAGE_DRIVER: 's3',
        WHARF_STORAGE_S3_ENDPOINT: s3.S3_ENDPOINT!,
        WHARF_STORAGE_S3_BUCKET: s3.S3_BUCKET!,
        WHARF_STORAGE_S3_REGION: s3.AWS_REGION!,
        WHARF_STORAGE_S3_PREFIX: prefix,
        WHARF_STORAGE_S3_FORCE_PATH_STYLE: 'true',
        WHARF_STORAGE_S3_ACCESS_KEY_ID: s3.AWS_ACCESS_KEY_ID!,
        WHARF_STORAGE_S3_SECRET_ACCESS_KEY: s3.AWS_SECRET_ACCESS_KEY!,
        WHARF_STORAGE_S3_REDIRECT: String(redirect),
      },
    });
    return { label, server, client: new RegistryClient(server.url, clients) };
  };
  const distribution = (label: string, root: string, redirect: boolean) => async (): Promise<Target> => {
    const server = await startDistribution([
      '  s3:',
      `    accesskey: ${s3.AWS_ACCESS_KEY_ID}`,
      `    secretkey: ${s3.AWS_SECRET_ACCESS_KEY}`,
      `    region: ${s3.AWS_REGION}`,
      `    regionendpoint: ${s3.S3_ENDPOINT}`,
      `    bucket: ${s3.S3_BUCKET}`,
      `    rootdirectory: /${root}`,
      '    forcepathstyle: true',
      '    secure: false',
      '    v4auth: true',
      '  delete:',
      '    enabled: true',
      '  cache:',
      '    blobdescriptor: inmemory',
      '  redirect:',
      `    disable: ${!redirect}`,
    ]);
    return { label, server, client: new RegistryClient(server.url, clients) };
  };
  const targets: Target[] = [];
  for (const start of [wharf('Wharf', 'wharf', false), distribution('Distribution', 'distribution', false), wharf('Wharf, redirect', 'wharf-redirect', true), distribution('Distribution, redirect', 'distribution-redirect', true)]) {
    const target = await start();
    cleanups.push(async () => { await target.client.destroy(); await target.server.stop(); });
    targets.push(target);
    console.log(`${target.label} on ${target.server.url}, ready in ${target.server.startMs.toFixed(0)} ms`);
  }

  const items: Array<{ id: string; title: string; unit: string; run(t: Target, round: number): Promise<{ value: number; cpu: number }> }> = [];
  const pushed = new Map<string, BlobSpec>();
  const measured = async (t: Target, fn: () => Promise<number>) => { const cpu0 = cpuSeconds(t.server.pid); const value = await fn(); return { value, cpu: cpuSeconds(t.server.pid) - cpu0 }; };
  items.push({ id: 'push', title: `push of a ${blobMib} MiB blob, POST+PUT`, unit: 'MiB/s', run: (t, round) => measured(t, async () => {
    const blob = makeBlob(blobMib * MIB);
    const ms = await timed(() => t.client.pushPostPut(`bench/s3-push-${round}`, blob));
    pushed.set(`${t.label}:${round}`, blob);
    return blobMib / (ms / 1000);
  }) });
  items.push({ id: 'push-chunked', title: `push of a ${blobMib} MiB blob, ${chunkMib} MiB PATCHes`, unit: 'MiB/s', run: (t, round) => measured(t, async () => {
    const blob = makeBlob(blobMib * MIB);
    const ms = await timed(() => t.client.pushChunked(`bench/s3-chunked-${round}`, blob, chunkMib * MIB));
    return blobMib / (ms / 1000);
  }) });
  items.push({ id: 'pull', title: `pull of a ${blobMib} MiB blob (curl, following redirects)`, unit: 'MiB/s', run: (t, round) => measured(t, async () => {
    const blob = pushed.get(`${t.label}:${round}`)!;
    const answer = await curlDownload(`${t.server.url}/v2/bench/s3-push-${round}/blobs/${blob.digest}`, { follow: true });
    if (answer.status !== 200 || answer.bytes !== blob.size) throw new Error(`${t.label}: pull answered ${answer.status} with ${answer.bytes} bytes`);
    return answer.bytes / MIB / (answer.ms / 1000);
  }) });
  const rolloutBlob = makeBlob(rolloutMib * MIB);
  for (const t of targets) await t.client.pushPostPut('bench/s3-rollout', rolloutBlob);
  items.push({ id: 'rollout', title: `rollout: ${clients} clients pull one ${rolloutMib} MiB blob at once`, unit: 'MiB/s', run: (t) => measured(t, async () => {
    const ms = await timed(() => Promise.all(Array.from({ length: clients }, async () => {
      const res = await fetch(`${t.server.url}/v2/bench/s3-rollout/blobs/${rolloutBlob.digest}`);
      let bytes = 0;
      for await (const chunk of res.body!) bytes += (chunk as Uint8Array).length;
      if (res.status !== 200 || bytes !== rolloutBlob.size) throw new Error(`${t.label}: rollout pull answered ${res.status} with ${bytes} bytes`);
    })));
    return (clients * rolloutMib) / (ms / 1000);
  }) });

  const results: Record<string, Record<string, { value: Summary; cpu: Summary; errors: string[] }>> = {};
  for (const item of items) {
    const raw = new Map<string, { values: number[]; cpu: number[]; errors: string[] }>(targets.map((t) => [t.label, { values: [], cpu: [], errors: [] }]));
    for (let round = 1; round <= rounds; round++) {
      const order = targets.map((_, i) => targets[(i + round - 1) % targets.length]!);
      const line: string[] = [];
      for (const t of order) {
        try {
          const m = await item.run(t, round);
          raw.get(t.label)!.values.push(m.value);
          raw.get(t.label)!.cpu.push(m.cpu);
          line.push(`${t.label} ${m.value.toFixed(0)}`);
        } catch (err) {
          raw.get(t.label)!.errors.push((err as Error).message);
          line.push(`${t.label} failed: ${(err as Error).message.slice(0, 120)}`);
        }
      }
      console.log(`${item.id} round ${round} [${item.unit}]: ${line.join(' | ')}`);
    }
    results[item.id] = Object.fromEntries([...raw].map(([label, r]) => [label, { value: summarize(r.values), cpu: summarize(r.cpu), errors: r.errors }]));
  }

  const cell = (r: { value: Summary; errors: string[] } | undefined, unit: string) => (r && r.value.samples.length ? `${r.value.median.toFixed(0)} ${unit} ±${(r.value.spread * 100).toFixed(0)}%` : `failed: ${r?.errors[0]?.slice(0, 80) ?? '–'}`);
  const ratio = (a?: { value: Summary }, b?: { value: Summary }) => (a?.value.samples.length && b?.value.samples.length ? `${(a.value.median / b.value.median).toFixed(2)}×` : '–');
  const date = new Date().toISOString().slice(0, 10);
  const commit = spawnSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
  const md = [
    `# Wharf and Distribution on radosgw, ${date}`,
    '',
    `Commit ${commit}; load average ${loadAtStart} at start, ${loadavg()[0]!.toFixed(2)} at end (a shared 2-core VM). ${rounds} interleaved rounds, medians ± half the range.`,
    `Command: \`node --import tsx bench/s3.ts --blob-mib ${blobMib} --chunk-mib ${chunkMib} --rollout-mib ${rolloutMib} --clients ${clients} --rounds ${rounds}\``,
    '',
    '| item | Wharf | Distribution | ratio | Wharf, redirect | Distribution, redirect | ratio |',
    '|---|---|---|---|---|---|---|',
    ...items.map((item) => {
      const r = results[item.id]!;
      return `| ${item.title} | ${cell(r.Wharf, item.unit)} | ${cell(r.Distribution, item.unit)} | ${ratio(r.Wharf, r.Distribution)} | ${cell(r['Wharf, redirect'], item.unit)} | ${cell(r['Distribution, redirect'], item.unit)} | ${ratio(r['Wharf, redirect'], r['Distribution, redirect'])} |`;
    }),
    '',
    'Server CPU seconds per round (median): ' + items.map((item) => `${item.id}: ${targets.map((t) => `${t.label} ${results[item.id]![t.label]!.cpu.median.toFixed(2)}`).join(', ')}`).join('; ') + '.',
    '',
  ].join('\n');
  mkdirSync(args['out-dir'], { recursive: true });
  const base = path.join(args['out-dir'], `s3-${date}`);
  writeFileSync(`${base}.md`, md);
  writeFileSync(`${base}.json`, `${JSON.stringify({ date, commit, blobMib, chunkMib, rolloutMib, clients, rounds, results }, null, 2)}\n`);
  console.log(`\n${md}\nwritten to ${base}.md and .json`);
} finally {
  await cleanup();
}
