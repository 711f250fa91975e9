/**
 * Wharf on PostgreSQL with and without named prepared statements (database.prepareStatements),
 * side by side on one throwaway cluster, in interleaved rounds: manifest GET and HEAD by tag, the
 * whole tags list, small-blob pushes. Reports requests/s and the CPU per request of Wharf and of
 * PostgreSQL's backends (CPU holds up better than rates on a shared, loaded machine).
 *
 *   node --import tsx bench/probes/prepared-statements.ts [--rounds 4] [--seconds 2]
 */
import { parseArgs } from 'node:util';
import { imageManifest, MANIFEST_ACCEPT, RegistryClient, runPool } from '../client.js';
import { runLoad } from '../loadgen.js';
import { makeSmallBlob } from '../payload.js';
import { cpuSeconds, processGroup } from '../proc.js';
import { startPostgresCluster, startWharf, type RunningServer } from '../servers.js';
import { median } from '../stats.js';

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '4' }, seconds: { type: 'string', default: '2' } } });
const rounds = Number(args.rounds);
const durationMs = Number(args.seconds) * 1000;

const postgres = await startPostgresCluster();
const variants: Array<{ label: string; server?: RunningServer; client?: RegistryClient }> = [{ label: 'prepared' }, { label: 'unnamed' }];
const cpuOf = (server: RunningServer) => cpuSeconds(server.pid) + processGroup(server.helperPid!).slice(1).reduce((sum, pid) => sum + cpuSeconds(pid), 0);
try {
  for (const [i, variant] of variants.entries()) {
    variant.server = await startWharf({
      databaseUrl: await postgres.createDatabase(`wharf_prepared_${process.pid}_${i}`),
      env: { WHARF_DATABASE_PREPARE_STATEMENTS: variant.label === 'prepared' ? 'true' : 'false' },
    });
    variant.client = new RegistryClient(variant.server.url, 64);
    const config = makeSmallBlob(256);
    const layer = makeSmallBlob(4096);
    await variant.client.pushSmall('probe/app', config);
    await variant.client.pushSmall('probe/app', layer);
    const manifest = imageManifest({ digest: config.digest, size: 256 }, [{ digest: layer.digest, size: 4096 }]);
    await variant.client.putManifest('probe/app', 'latest', manifest);
    await variant.client.mount('probe/tags', config.digest, 'probe/app');
    await variant.client.mount('probe/tags', layer.digest, 'probe/app');
    await runPool(2000, 32, (t) => variant.client!.putManifest('probe/tags', `t${t}`, manifest));
  }
  const items: Array<{ name: string; run: (v: typeof variants[number], round: number) => Promise<{ rate: number; requests: number }> }> = [
    { name: 'manifest GET by tag', run: async (v) => { const r = await runLoad(v.server!.url, { connections: 64, durationMs, method: 'GET', path: '/v2/probe/app/manifests/latest', headers: { accept: MANIFEST_ACCEPT } }); return { rate: r.requestsPerSecond, requests: r.requests }; } },
    { name: 'manifest HEAD by tag', run: async (v) => { const r = await runLoad(v.server!.url, { connections: 64, durationMs, method: 'HEAD', path: '/v2/probe/app/manifests/latest', headers: { accept: MANIFEST_ACCEPT } }); return { rate: r.requestsPerSecond, requests: r.requests }; } },
    { name: 'tags list of 2,000', run: async (v) => { const t0 = performance.now(); for (let k = 0; k < 50; k++) await v.client!.listAll('/v2/probe/tags/tags/list', 'tags'); return { rate: 50 / ((performance.now() - t0) / 1000), requests: 50 }; } },
    { name: 'small-blob pushes (32 at once)', run: async (v, round) => { const blobs = Array.from({ length: 300 }, () => makeSmallBlob(16384)); const t0 = performance.now(); await runPool(blobs.length, 32, (k) => v.client!.pushSmall(`probe/small-${round}`, blobs[k]!)); return { rate: blobs.length / ((performance.now() - t0) / 1000), requests: blobs.length }; } },
  ];
  const results = new Map<string, { rate: number[]; cpuUs: number[] }>();
  for (const item of items) {
    for (let round = 1; round <= rounds; round++) {
      const order = round % 2 === 0 ? [...variants].reverse() : variants;
      for (const v of order) {
        const before = cpuOf(v.server!);
        const { rate, requests } = await item.run(v, round);
        const cpuUs = ((cpuOf(v.server!) - before) * 1e6) / requests;
        const key = `${item.name}|${v.label}`;
        const entry = results.get(key) ?? { rate: [], cpuUs: [] };
        entry.rate.push(rate);
        entry.cpuUs.push(cpuUs);
        results.set(key, entry);
      }
    }
  }
  console.log('| item | prepared: rate | unnamed: rate | ratio | prepared: CPU µs/req (Wharf + PostgreSQL) | unnamed: CPU µs/req |\n|---|---:|---:|---:|---:|---:|');
  for (const item of items) {
    const p = results.get(`${item.name}|prepared`)!;
    const u = results.get(`${item.name}|unnamed`)!;
    console.log(`| ${item.name} | ${median(p.rate).toFixed(0)}/s | ${median(u.rate).toFixed(0)}/s | ${(median(p.rate) / median(u.rate)).toFixed(2)}× | ${median(p.cpuUs).toFixed(0)} | ${median(u.cpuUs).toFixed(0)} |`);
  }
} finally {
  for (const v of variants) {
    await v.client?.destroy();
    await v.server?.stop();
  }
  postgres.stop();
}
