/**
 * The registries under test, each a subprocess on a loopback port with fresh storage:
 * Wharf (embedded SQLite), Wharf on PostgreSQL (a throwaway cluster), and CNCF Distribution
 * (Debian's docker-registry, filesystem storage, a temporary YAML config).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { findPostmaster } from './proc.js';
import type { TargetName } from './options.js';
import { isS3Target, startS3Target } from './s3-servers.js';

const ROOT = new URL('..', import.meta.url).pathname;
export const DISTRIBUTION_BIN = process.env.BENCH_DISTRIBUTION_BIN ?? '/usr/bin/docker-registry';

export interface RunningServer {
  target: TargetName;
  url: string;
  pid: number;
  /** PostgreSQL's postmaster, whose CPU is reported beside Wharf's. */
  helperPid?: number;
  /** Milliseconds from spawn to the first 200 on GET /v2/. */
  startMs: number;
  /** Where the server keeps a blob's bytes (for housekeeping between rounds, never timed). */
  blobFile(digest: string): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
    server.on('error', reject);
  });
}

/** Polls GET /v2/ until it answers 200; resolves to the milliseconds since `since`. */
export async function waitReady(url: string, child: ChildProcess, since: number, timeoutMs = 30_000): Promise<number> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server at ${url} exited with ${child.exitCode} before answering`);
    try {
      const res = await request(`${url}/v2/`, { headersTimeout: 1000, bodyTimeout: 1000 });
      await res.body.dump();
      if (res.statusCode === 200) return performance.now() - since;
    } catch {
      // Not listening yet.
    }
    if (performance.now() - since > timeoutMs) throw new Error(`server at ${url} did not answer GET /v2/ within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

function collectStderr(child: ChildProcess): () => string {
  let text = '';
  child.stderr?.on('data', (d: Buffer) => { text = (text + d.toString()).slice(-4000); });
  child.stdout?.on('data', (d: Buffer) => { text = (text + d.toString()).slice(-4000); });
  return () => text;
}

function stopper(child: ChildProcess, cleanup: () => Promise<void>): () => Promise<void> {
  return async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await cleanup();
  };
}

type BlobFile = (digest: string) => string;

export async function launch(target: TargetName, command: string, args: string[], env: NodeJS.ProcessEnv, port: number, cleanup: () => Promise<void>, blobFile: BlobFile, helperPid?: number): Promise<RunningServer> {
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = collectStderr(child);
  const stop = stopper(child, cleanup);
  try {
    const startMs = await waitReady(url, child, started);
    return { target, url, pid: child.pid!, helperPid, startMs, blobFile, stop };
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${output()}`);
  }
}

/** The environment without any WHARF_* of the caller (Wharf refuses variables it does not know). */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('WHARF_') && !k.startsWith('BENCH_')) env[k] = v;
  return { ...env, ...extra };
}

export interface WharfStartOptions {
  databaseUrl?: string;
  /** An existing data directory (seeded beforehand); removed at stop like a fresh one, unless keepDataDir. */
  dataDir?: string;
  keepDataDir?: boolean;
  /** More of Node's options (e.g. --import of a probe) and variables for them. */
  nodeArgs?: string[];
  env?: Record<string, string>;
}

export async function startWharf(options: WharfStartOptions = {}): Promise<RunningServer> {
  const dataDir = options.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'wharf-bench-'));
  const port = await freePort();
  const env = cleanEnv({
    WHARF_HTTP_HOST: '127.0.0.1',
    WHARF_HTTP_PORT: String(port),
    WHARF_STORAGE_DATA_DIR: dataDir,
    WHARF_LOG_LEVEL: 'error',
    // Distribution runs without authentication here, so Wharf does too: like for like.
    WHARF_AUTH_ENABLED: 'false',
    // Nor does it scan: background scans of the pushed test blobs would only add noise to the
    // registry items (the scanner has its own items, measured in-process).
    WHARF_SCANNER_ENABLED: 'false',
    ...(options.databaseUrl ? { WHARF_DATABASE_ENGINE: 'postgres', WHARF_DATABASE_URL: options.databaseUrl } : {}),
    ...options.env,
  });
  const nodeArgs = [...(process.env.BENCH_WHARF_NODE_ARGS ?? '').split(' ').filter(Boolean), ...(options.nodeArgs ?? [])];
  const helperPid = options.databaseUrl ? findPostmaster(Number(new URL(options.databaseUrl).port)) : undefined;
  return launch(options.databaseUrl ? 'wharf-pg' : 'wharf', process.execPath, [...nodeArgs, path.join(ROOT, 'bin/wharf.js'), 'serve'], env, port,
    () => (options.keepDataDir ? Promise.resolve() : rm(dataDir, { recursive: true, force: true })),
    (digest) => { const [alg, hex] = digest.split(':') as [string, string]; return path.join(dataDir, 'blobs', alg, hex.slice(0, 2), hex); },
    helperPid);
}

/**
 * `storage` replaces the filesystem section (YAML lines under `storage:`, e.g. an s3 driver's; the
 * blobs are then not files here); `env`, the process's environment instead of the cleaned one.
 */
export async function startDistribution(storage?: string[], env: NodeJS.ProcessEnv = cleanEnv({})): Promise<RunningServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'distribution-bench-'));
  const port = await freePort();
  const config = path.join(dir, 'config.yml');
  // Debian's packaged defaults (filesystem, in-memory blob descriptor cache), deletes enabled,
  // quiet logs, and a catalog page limit high enough to list every repository in one request.
  writeFileSync(config, [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    ...(storage ?? ['  filesystem:', `    rootdirectory: ${path.join(dir, 'data')}`]),
    '  delete:',
    '    enabled: true',
    '  cache:',
    '    blobdescriptor: inmemory',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    'catalog:',
    '  maxentries: 100000',
    '',
  ].join('\n'));
  return launch('distribution', DISTRIBUTION_BIN, ['serve', config], env, port, () => rm(dir, { recursive: true, force: true }),
    (digest) => { const [alg, hex] = digest.split(':') as [string, string]; return storage ? '' : path.join(dir, 'data', 'docker', 'registry', 'v2', 'blobs', alg, hex.slice(0, 2), hex, 'data'); });
}

export interface Postgres {
  url: string;
  stop(): void;
  /** A new, empty database on the cluster. */
  createDatabase(name: string): Promise<string>;
}

/** The throwaway cluster of the test suite (test/support/postgres.mjs). */
export async function startPostgresCluster(): Promise<Postgres> {
  const modulePath = new URL('../test/support/postgres.mjs', import.meta.url).href;
  const { startPostgres } = (await import(modulePath)) as { startPostgres(): Promise<{ url: string; stop(): void }> };
  const cluster = await startPostgres();
  const pg = (await import('pg')).default;
  return {
    ...cluster,
    async createDatabase(name: string) {
      const client = new pg.Client({ connectionString: cluster.url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      const url = new URL(cluster.url);
      url.pathname = `/${name}`;
      return url.toString();
    },
  };
}

export async function startTarget(target: TargetName, postgres: Postgres | undefined, dbName: string): Promise<RunningServer> {
  if (isS3Target(target)) return startS3Target(target);
  if (target === 'distribution') return startDistribution();
  if (target === 'wharf') return startWharf();
  if (!postgres) throw new Error('Wharf on PostgreSQL needs the PostgreSQL cluster');
  return startWharf({ databaseUrl: await postgres.createDatabase(dbName) });
}

/** A fresh server per call, timed from spawn to the first 200 on GET /v2/, then stopped. */
export async function coldStart(target: TargetName, postgres: Postgres | undefined, dbName: string): Promise<number> {
  const server = await startTarget(target, postgres, dbName);
  const ms = server.startMs;
  await server.stop();
  return ms;
}

/**
 * A new replica joining an existing registry (what autoscaling starts): Wharf on PostgreSQL starts on
 * a database an earlier start created, with fresh local storage; Wharf on SQLite restarts on its
 * existing data directory (an embedded registry has no second replica). Distribution keeps nothing
 * to load at start, so its figure is a fresh start. Timed from spawn to the first 200 on GET /v2/.
 */
export async function replicaStart(target: TargetName, postgres: Postgres | undefined, dbName: string): Promise<number> {
  if (target === 'distribution') return coldStart(target, postgres, dbName);
  if (target === 'wharf') {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'wharf-bench-'));
    await (await startWharf({ dataDir, keepDataDir: true })).stop();
    const server = await startWharf({ dataDir });
    const ms = server.startMs;
    await server.stop();
    return ms;
  }
  if (target !== 'wharf-pg' || !postgres) throw new Error(`no replica start for ${target}`);
  const databaseUrl = await postgres.createDatabase(dbName);
  await (await startWharf({ databaseUrl })).stop();
  const server = await startWharf({ databaseUrl });
  const ms = server.startMs;
  await server.stop();
  return ms;
}

/** An empty Node HTTP server (the request-rate limit), in its own process like Wharf. */
export async function startEmptyNodeServer(): Promise<RunningServer> {
  const port = await freePort();
  const script = `require('node:http').createServer({ keepAliveTimeout: 72000 }, (req, res) => { req.resume(); res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 }); res.end('{}'); }).listen(${port}, '127.0.0.1');`;
  return launch('wharf', process.execPath, ['-e', script], cleanEnv({}), port, async () => {}, () => '');
}
