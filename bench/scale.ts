/**
 * Wharf at scale: many one-image repositories and one repository with many tags, seeded straight
 * into the metadata store (bench/scale-seed.ts), then pulled by manifest GET with keep-alive
 * connections, each sending the next request as soon as the last answered.
 *
 *   node --import tsx bench/scale.ts [--engine sqlite|postgres] [--repos 50000] [--tags 30000]
 *        [--seconds 20] [--phase-seconds 10] [--warmup-seconds 5] [--connections 16] [--label after] [--no-build]
 *
 * After a warm-up of random pulls (not reported), three phases one after the other on the same server:
 *  - random: `scale/r<i>:latest` at random over all repositories: p50/p99 latency, and the longest
 *    event-loop stall inside Wharf (bench/probes/event-loop.mjs), which the pull-statistics flush
 *    of every distinct image pulled in the last 5 s used to cause on SQLite;
 *  - big: `scale/big:v<j>` at random: pulls/s of the repository with `--tags` tags;
 *  - one: `scale/one:latest`: pulls/s of a one-image repository, the reference for `big`.
 * Writes bench/results/scale-<date>-<engine>[-<label>].md and .json.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startPostgresCluster, startWharf, type Postgres, type RunningServer } from './servers.js';
import { BIG, ONE, SMALL_PREFIX, seedRegistry } from './scale-seed.js';
import { ACCEPT, runPhase, type PhaseResult } from './scale-load.js';

const ROOT = new URL('..', import.meta.url).pathname;

const { values: args } = parseArgs({
  options: {
    engine: { type: 'string', default: 'sqlite' },
    repos: { type: 'string', default: '50000' },
    tags: { type: 'string', default: '30000' },
    seconds: { type: 'string', default: '20' },
    'phase-seconds': { type: 'string', default: '10' },
    'warmup-seconds': { type: 'string', default: '5' },
    connections: { type: 'string', default: '16' },
    label: { type: 'string', default: '' },
    'out-dir': { type: 'string', default: path.join(ROOT, 'bench', 'results') },
    'no-build': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(readFileSync(new URL(import.meta.url), 'utf8').split('*/')[0]!.replace(/^\/\*\*|^ \* ?/gm, ''));
  process.exit(0);
}
const engine = args.engine === 'postgres' ? 'postgres' : args.engine === 'sqlite' ? 'sqlite' : undefined;
if (!engine) throw new Error(`--engine must be sqlite or postgres, not ${args.engine}`);
const repos = Number(args.repos);
const tags = Number(args.tags);
const connections = Number(args.connections);

async function expectOk(server: RunningServer, pathText: string): Promise<void> {
  const res = await fetch(`${server.url}${pathText}`, { headers: { accept: ACCEPT } });
  if (res.status !== 200) throw new Error(`GET ${pathText} answered ${res.status}: ${await res.text()}`);
}

const fmt = (n: number, digits = 1) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function report(meta: Record<string, unknown>, phases: PhaseResult[]): string {
  const byName = new Map(phases.map((p) => [p.phase, p]));
  const big = byName.get('big')!;
  const one = byName.get('one')!;
  return [
    `# Wharf at scale: ${meta.engine}${meta.label ? ` (${meta.label})` : ''}`,
    '',
    `${meta.date}, commit ${meta.commit}. ${fmt(repos, 0)} one-image repositories, \`${BIG}\` with ${fmt(tags, 0)} tags, \`${ONE}\`; ` +
      `${connections} keep-alive connections; seeded in ${fmt(meta.seedSeconds as number)} s.`,
    '',
    `\`${meta.command}\``,
    '',
    '| phase | pulls | pulls/s | p50 ms | p99 ms | max ms | errors | longest event-loop stall ms | 250 ms windows stalled > 100 ms |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...phases.map((p) => `| ${p.phase} | ${p.requests} | ${fmt(p.pullsPerSecond, 0)} | ${fmt(p.p50Ms, 2)} | ${fmt(p.p99Ms, 2)} | ${fmt(p.maxMs, 0)} | ${p.errors} | ${fmt(p.maxStallMs, 0)} | ${p.windowsOver100Ms} of ${p.windows} |`),
    '',
    `Pulls/s of \`${BIG}\` (${fmt(tags, 0)} tags) ÷ \`${ONE}\`: ${fmt(big.pullsPerSecond / one.pullsPerSecond, 2)}.`,
    '',
  ].join('\n');
}

const cleanups: Array<() => Promise<void> | void> = [];
async function cleanup(): Promise<void> {
  for (const fn of cleanups.reverse()) await Promise.resolve().then(fn).catch((err: unknown) => console.error(`cleanup: ${(err as Error).message}`));
  cleanups.length = 0;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { void cleanup().then(() => process.exit(130)); });

try {
  if (!args['no-build']) {
    const build = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { stdio: 'inherit' });
    if (build.status !== 0) throw new Error('build failed');
  }
  const work = mkdtempSync(path.join(os.tmpdir(), 'wharf-scale-'));
  cleanups.push(() => rmSync(work, { recursive: true, force: true }));
  const dataDir = path.join(work, 'data');
  mkdirSync(dataDir);
  let databaseUrl = '';
  if (engine === 'postgres') {
    const postgres: Postgres = await startPostgresCluster();
    cleanups.push(() => postgres.stop());
    databaseUrl = await postgres.createDatabase('wharf_scale');
  }
  console.log(`seeding ${repos} repositories and ${tags} tags on ${engine}…`);
  const seed = await seedRegistry({ engine, dataDir, databaseUrl, repos, tags });
  console.log(`seeded ${seed.manifests} manifests in ${fmt(seed.seconds)} s`);

  const probeFile = path.join(work, 'event-loop.jsonl');
  writeFileSync(probeFile, '');
  const server = await startWharf({
    dataDir, databaseUrl: databaseUrl || undefined,
    nodeArgs: ['--import', path.join(ROOT, 'bench', 'probes', 'event-loop.mjs')],
    env: { EVENT_LOOP_PROBE_FILE: probeFile },
  });
  cleanups.push(() => server.stop());
  for (const p of [`/v2/${SMALL_PREFIX}0/manifests/latest`, `/v2/${BIG}/manifests/v${tags - 1}`, `/v2/${ONE}/manifests/latest`]) await expectOk(server, p);

  const random = (n: number) => Math.floor(Math.random() * n);
  const phases: PhaseResult[] = [];
  const plan: Array<[string, number, () => string]> = [
    ['random', Number(args.seconds), () => `/v2/${SMALL_PREFIX}${random(repos)}/manifests/latest`],
    ['big', Number(args['phase-seconds']), () => `/v2/${BIG}/manifests/v${random(tags)}`],
    ['one', Number(args['phase-seconds']), () => `/v2/${ONE}/manifests/latest`],
  ];
  // Not reported: the JIT, the caches and the connection pools warm up on pulls like the random phase's.
  await runPhase(server.url, probeFile, 'warm-up', Number(args['warmup-seconds']), connections, plan[0]![2]);
  for (const [phase, seconds, pathOf] of plan) {
    const result = await runPhase(server.url, probeFile, phase, seconds, connections, pathOf);
    console.log(`${phase}: ${fmt(result.pullsPerSecond, 0)} pulls/s, p50 ${fmt(result.p50Ms, 2)} ms, p99 ${fmt(result.p99Ms, 2)} ms, longest stall ${fmt(result.maxStallMs, 0)} ms, ${result.errors} errors`);
    phases.push(result);
  }

  const date = new Date().toISOString().slice(0, 10);
  const commit = spawnSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim() || 'unknown';
  const dirty = spawnSync('git', ['-C', ROOT, 'status', '--porcelain', '--', 'src'], { encoding: 'utf8' }).stdout.trim() ? '+changes' : '';
  const meta = {
    date, commit: commit + dirty, engine, label: args.label, repos, tags, connections, seedSeconds: seed.seconds,
    command: `node --import tsx bench/scale.ts --engine ${engine} --repos ${repos} --tags ${tags} --seconds ${args.seconds} --phase-seconds ${args['phase-seconds']} --warmup-seconds ${args['warmup-seconds']} --connections ${connections}${args.label ? ` --label ${args.label}` : ''}`,
  };
  const base = path.join(args['out-dir'], `scale-${date}-${engine}${args.label ? `-${args.label}` : ''}`);
  mkdirSync(args['out-dir'], { recursive: true });
  writeFileSync(`${base}.json`, `${JSON.stringify({ ...meta, phases }, null, 2)}\n`);
  writeFileSync(`${base}.md`, report(meta, phases));
  if (process.env.SCALE_KEEP_PROBE) writeFileSync(`${base}.event-loop.jsonl`, readFileSync(probeFile));
  console.log(`\n${report(meta, phases)}\nwritten to ${base}.md and .json`);
} finally {
  await cleanup();
}
