import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase, TEST_ADMIN_PASSWORD } from './server.js';
import { freePort, runCommand, spawnWharf, WHARF_BIN, type CommandResult, type WharfProcess } from './process.js';
import { emptyPrefix, s3TestSettings } from './s3.js';
import type { S3Settings } from '../../src/storage/s3/s3-client.js';

/**
 * A scale-out Wharf as the README's "Scale out" section sets it up: several `wharf serve` processes
 * on one PostgreSQL database and one S3 prefix, each with a data directory of its own (nothing shared
 * on disk), behind Debian's HAProxy (round robin, no stickiness, `option httpchk GET /readyz`).
 */
export interface ReplicaSet {
  /** The proxy's address: what clients use. */
  url: string;
  /** The bucket and prefix the replicas share. */
  s3: S3Settings;
  replicas: WharfProcess[];
  /** The environment of replica `i` (also what `wharf fsck` needs). */
  env(i: number): Record<string, string>;
  /** Kills replica `i` with SIGKILL and waits until it is gone. */
  kill(i: number): Promise<void>;
  /** Starts replica `i` again on its port. */
  restart(i: number): Promise<void>;
  /** `wharf fsck` with the replicas' configuration. */
  fsck(...args: string[]): Promise<CommandResult>;
  /** The HAProxy process's output so far. */
  proxyOutput(): string;
  stop(): Promise<void>;
}

export const ADMIN_AUTH = `Basic ${Buffer.from(`admin:${TEST_ADMIN_PASSWORD}`).toString('base64')}`;

/** Where Debian puts haproxy (/usr/sbin is not on every user's PATH), else the PATH's. */
export async function haproxyBinary(): Promise<string | undefined> {
  for (const candidate of ['/usr/sbin/haproxy', 'haproxy']) {
    const found = await runCommand(candidate, ['-v'], { timeoutMs: 30_000 }).then((r) => r.code === 0, () => false);
    if (found) return candidate;
  }
  return undefined;
}

function haproxyConfig(port: number, backends: number[]): string {
  return [
    'global',
    '  maxconn 512',
    'defaults',
    '  mode http',
    '  timeout connect 5s',
    // Generous: a replica on a loaded machine can take long over a large blob.
    '  timeout client 300s',
    '  timeout server 300s',
    // A connection refused by a dead replica is tried again on another one.
    '  retries 3',
    '  option redispatch',
    'frontend registry',
    `  bind 127.0.0.1:${port}`,
    '  default_backend wharf',
    'backend wharf',
    '  balance roundrobin',
    '  option httpchk GET /readyz',
    '  http-check expect status 200',
    ...backends.map((p, i) => `  server replica${i} 127.0.0.1:${p} check inter 1s fall 2 rise 1`),
    '',
  ].join('\n');
}

/**
 * Starts `count` replicas and HAProxy in front of them. `extraEnv` is added to every replica's
 * environment. Everything started is stopped and removed by `stop()`, also after a failed start.
 */
export async function startReplicaSet(haproxy: string, count: number, extraEnv: Record<string, string> = {}): Promise<ReplicaSet> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'wharf-ha-'));
  const settings = s3TestSettings();
  const database = await createTestDatabase();
  const ports: number[] = [];
  const replicas: WharfProcess[] = [];
  let proxy: ChildProcess | undefined;
  let proxyOut = '';

  const env = (i: number): Record<string, string> => ({
    WHARF_DATABASE_ENGINE: 'postgres',
    WHARF_DATABASE_URL: database.url,
    WHARF_STORAGE_DRIVER: 's3',
    WHARF_STORAGE_DATA_DIR: path.join(work, `replica${i}`),
    WHARF_STORAGE_S3_ENDPOINT: settings.endpoint,
    WHARF_STORAGE_S3_BUCKET: settings.bucket,
    WHARF_STORAGE_S3_PREFIX: settings.prefix,
    WHARF_STORAGE_S3_FORCE_PATH_STYLE: 'true',
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? '',
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? '',
    AWS_REGION: settings.region,
    WHARF_AUTH_ENABLED: 'true',
    WHARF_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
    WHARF_SCANNER_ENABLED: 'false',
    WHARF_HTTP_PORT: String(ports[i]),
    ...extraEnv,
  });

  const stopProcess = async (p: WharfProcess | undefined): Promise<void> => {
    if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
    p.child.kill('SIGKILL');
    await p.exited;
  };

  const set: ReplicaSet = {
    url: '',
    s3: settings,
    replicas,
    env,
    async kill(i) {
      await stopProcess(replicas[i]);
    },
    async restart(i) {
      replicas[i] = await spawnWharf(env(i));
    },
    fsck(...args) {
      return runCommand(process.execPath, [WHARF_BIN, 'fsck', ...args], { env: { PATH: process.env.PATH ?? '', ...env(0) }, timeoutMs: 600_000 });
    },
    proxyOutput: () => proxyOut,
    async stop() {
      if (proxy && proxy.exitCode === null && proxy.signalCode === null) {
        const gone = new Promise((resolve) => proxy!.on('exit', resolve));
        proxy.kill('SIGKILL');
        await gone;
      }
      for (const replica of replicas) await stopProcess(replica);
      await database.drop().catch(() => undefined);
      await emptyPrefix(settings).catch(() => undefined);
      rmSync(work, { recursive: true, force: true });
    },
  };

  try {
    for (let i = 0; i < count; i++) {
      ports.push(await freePort());
      mkdirSync(path.join(work, `replica${i}`));
    }
    // All at once on the new database, as a deployment's first start: the schema's migrations, the
    // administrator and the token signing keys are made by whichever replica gets there first.
    const started = await Promise.allSettled(Array.from({ length: count }, (_, i) => spawnWharf(env(i))));
    for (const result of started) if (result.status === 'fulfilled') replicas.push(result.value);
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;

    const port = await freePort();
    const cfg = path.join(work, 'haproxy.cfg');
    writeFileSync(cfg, haproxyConfig(port, ports));
    proxy = spawn(haproxy, ['-f', cfg, '-db'], { stdio: ['ignore', 'pipe', 'pipe'] });
    proxy.stdout!.on('data', (d: Buffer) => { proxyOut += d.toString(); });
    proxy.stderr!.on('data', (d: Buffer) => { proxyOut += d.toString(); });
    set.url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (proxy.exitCode !== null) throw new Error(`haproxy exited:\n${proxyOut}`);
      const ok = await fetch(`${set.url}/readyz`, { signal: AbortSignal.timeout(5000) }).then((r) => r.arrayBuffer().then(() => r.status === 200), () => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`haproxy did not answer GET /readyz in 60 s:\n${proxyOut}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    return set;
  } catch (err) {
    await set.stop();
    throw err;
  }
}
