import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { ensureBuilt, spawnWharf, WHARF_BIN, type WharfProcess } from '../support/process.js';
import { emptyPrefix, listKeys, s3TestSettings } from '../support/s3.js';

/**
 * The real `wharf serve` on the S3 driver, configured only by variables (WHARF_STORAGE_S3_* and
 * the AWS_* credentials): a start on a wrong bucket, and a kill -9 in the middle of a chunk.
 */

const MiB = 1024 * 1024;
const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

describe('wharf serve on S3', () => {
  const settings = s3TestSettings();
  let dataDir: string;
  let wharf: WharfProcess | undefined;

  const env = (bucket = settings.bucket): Record<string, string> => ({
    WHARF_STORAGE_DRIVER: 's3',
    WHARF_STORAGE_DATA_DIR: dataDir,
    WHARF_STORAGE_S3_ENDPOINT: settings.endpoint,
    WHARF_STORAGE_S3_BUCKET: bucket,
    WHARF_STORAGE_S3_PREFIX: settings.prefix,
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? '',
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? '',
    AWS_REGION: settings.region,
  });

  before(async () => {
    await ensureBuilt();
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'wharf-s3-serve-'));
  });
  after(async () => {
    if (wharf && wharf.child.exitCode === null && wharf.child.signalCode === null) {
      wharf.child.kill('SIGKILL');
      await wharf.exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
    await emptyPrefix(settings);
  });

  it('exits 1 at start, naming the bucket and the variable to fix, when the bucket does not exist', async () => {
    const child = spawn(process.execPath, [WHARF_BIN, 'serve'], {
      env: { PATH: process.env.PATH ?? '', WHARF_HTTP_HOST: '127.0.0.1', WHARF_HTTP_PORT: '0', WHARF_AUTH_ENABLED: 'false', ...env('wharf-missing-bucket') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 1, out);
    assert.match(out, /bucket "wharf-missing-bucket" .*does not exist.*WHARF_STORAGE_S3_BUCKET/);
  });

  it('after a kill -9 in the middle of a chunk, a restarted server resumes the upload from its last whole chunk', { timeout: 300_000 }, async () => {
    const first = randomBytes(6 * MiB);
    const second = randomBytes(12 * MiB);
    const data = Buffer.concat([first, second]);
    wharf = await spawnWharf(env());
    const started = await fetch(`${wharf.url}/v2/crash/s3/blobs/uploads/`, { method: 'POST', headers: { 'Content-Length': '0' } });
    assert.equal(started.status, 202);
    const location = started.headers.get('location')!;
    const at = (w: WharfProcess) => (location.startsWith('http') ? location.replace(/^http:\/\/[^/]+/, w.url) : `${w.url}${location}`);
    const patched = await fetch(at(wharf), { method: 'PATCH', headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `0-${first.length - 1}`, 'Content-Length': String(first.length) }, body: first });
    assert.equal(patched.status, 202, await patched.text());

    // Three quarters of the second chunk reach the server, then it dies.
    const cut = http.request(at(wharf), { method: 'PATCH', agent: false, headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${first.length}-${data.length - 1}`, 'Content-Length': second.length } });
    cut.on('error', () => { /* the server is killed under it */ });
    await new Promise<void>((resolve, reject) => cut.write(second.subarray(0, 9 * MiB), (err) => (err ? reject(err) : resolve())));
    wharf.child.kill('SIGKILL');
    await wharf.exited;
    cut.destroy();

    wharf = await spawnWharf(env());
    const status = await fetch(at(wharf));
    assert.equal(status.status, 204);
    assert.equal(status.headers.get('range'), `0-${first.length - 1}`, 'only the whole chunk counts');
    const unseen = await fetch(`${wharf.url}/v2/crash/s3/blobs/${sha256(data)}`, { method: 'HEAD' });
    assert.equal(unseen.status, 404, 'no partial blob is visible');
    const resumed = await fetch(at(wharf), { method: 'PATCH', headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${first.length}-${data.length - 1}`, 'Content-Length': String(second.length) }, body: second });
    assert.equal(resumed.status, 202, await resumed.text());
    const done = await fetch(`${at(wharf)}${location.includes('?') ? '&' : '?'}digest=${sha256(data)}`, { method: 'PUT', headers: { 'Content-Length': '0' } });
    assert.equal(done.status, 201, await done.text());
    const pulled = await fetch(`${wharf.url}/v2/crash/s3/blobs/${sha256(data)}`);
    assert.equal(pulled.status, 200);
    assert.ok(Buffer.from(await pulled.arrayBuffer()).equals(data));
    assert.deepEqual(await listKeys(settings, 'uploads/'), [], 'nothing left staged');
    wharf.child.kill('SIGTERM');
    await wharf.exited;
  });
});
