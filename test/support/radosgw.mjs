// A throwaway S3 store for the test run: a single-node Ceph cluster with radosgw (Debian's
// ceph-mon, ceph-osd and radosgw packages), started by s3-radosgw.sh in a temp directory on a free
// loopback port, and stopped and deleted when the run ends.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 's3-radosgw.sh');

async function portIsFree(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A port whose successor is free too (the monitor listens on port + 1). */
async function freePortPair() {
  for (let i = 0; i < 50; i++) {
    const port = 20000 + Math.floor(Math.random() * 30000);
    if (await portIsFree(port) && await portIsFree(port + 1)) return port;
  }
  throw new Error('no free pair of loopback ports for radosgw');
}

/** The end of every daemon log, for a start that failed. */
function logs(dir) {
  const logDir = path.join(dir, 'log');
  if (!existsSync(logDir)) return '';
  return readdirSync(logDir).map((f) => `--- ${f}\n${readFileSync(path.join(logDir, f), 'utf8').split('\n').slice(-30).join('\n')}`).join('\n');
}

/**
 * Starts the store; returns { env, stop } where env holds S3_ENDPOINT, S3_BUCKET and the AWS_*
 * variables. A start that fails throws with the daemons' logs, never waits forever: the script
 * bounds each wait, and this bounds the script.
 */
export async function startRadosgw() {
  const parent = mkdtempSync(path.join(os.tmpdir(), 'wharf-rgw-'));
  const dir = path.join(parent, 'cluster');
  const stop = () => {
    spawnSync('bash', [script, 'stop', dir], { encoding: 'utf8', timeout: 120_000 });
    rmSync(parent, { recursive: true, force: true });
  };
  let lastError = '';
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePortPair();
    const result = spawnSync('bash', [script, 'start', dir, String(port)], { encoding: 'utf8', timeout: 300_000 });
    if (result.status === 0) {
      const env = {};
      for (const line of result.stdout.split('\n')) {
        const match = /^export (\w+)=(.*)$/.exec(line.trim());
        if (match) env[match[1]] = match[2];
      }
      return { env, stop };
    }
    lastError = `${result.error?.message ?? ''}${result.stderr}\n${logs(dir)}`;
    spawnSync('bash', [script, 'stop', dir], { encoding: 'utf8', timeout: 120_000 });
    // Only a port taken in the meantime is worth another try.
    if (!/already in use/.test(result.stderr)) break;
  }
  rmSync(parent, { recursive: true, force: true });
  throw new Error(`radosgw (the S3 store for the tests) did not start:\n${lastError}`);
}
