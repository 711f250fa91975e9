import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { spawnWharf, WHARF_BIN } from '../support/process.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wharf-life-'));
  dirs.push(dir);
  return dir;
}
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

describe('wharf serve', () => {
  it('says where it listens and where its data lives, and logs one JSON line per request', async () => {
    const dataDir = tempDir();
    const wharf = await spawnWharf({ WHARF_STORAGE_DATA_DIR: dataDir });
    try {
      await fetch(`${wharf.url}/v2/nope/tags/list`);
      // The line is written when the response completes, just after the client has it.
      for (let i = 0; i < 50 && !wharf.output().includes('/v2/nope/tags/list'); i++) await new Promise((r) => setTimeout(r, 20));
      const lines = wharf.output().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
      const ready = lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('Wharf listening'));
      assert.ok(ready, 'start-up line');
      assert.equal(ready.dataDir, dataDir);
      assert.equal(ready.url, wharf.url);
      const requests = lines.filter((l) => l.msg === 'request' && l.url === '/v2/nope/tags/list');
      assert.equal(requests.length, 1, 'exactly one line for the request');
      assert.equal(requests[0]!.status, 404);
      assert.equal(requests[0]!.method, 'GET');
    } finally {
      wharf.child.kill('SIGKILL');
    }
  });

  it('on SIGTERM finishes an in-flight upload, then exits 0 with the database closed', async () => {
    const dataDir = tempDir();
    const wharf = await spawnWharf({ WHARF_STORAGE_DATA_DIR: dataDir });
    const start = await fetch(`${wharf.url}/v2/life/repo/blobs/uploads/`, { method: 'POST' });
    assert.equal(start.status, 202);
    const location = start.headers.get('location')!;
    const chunk = Buffer.alloc(64 * 1024, 7);
    const body = Buffer.concat([chunk, chunk, chunk]);
    const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;

    // A slow PUT: the first chunk goes out, SIGTERM arrives, the rest follows.
    const response = new Promise<number>((resolve, reject) => {
      const req = http.request(`${wharf.url}${location}?digest=${digest}`, { method: 'PUT', headers: { 'Content-Length': body.length, 'Content-Type': 'application/octet-stream' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write(chunk);
      setTimeout(() => {
        wharf.child.kill('SIGTERM');
        setTimeout(() => { req.write(chunk); req.end(chunk); }, 300);
      }, 200);
    });
    assert.equal(await response, 201, 'the in-flight request completed');
    const exit = await wharf.exited;
    assert.equal(exit.code, 0);
    assert.match(wharf.output(), /stopped cleanly/);

    // The blob is there after a restart: the upload was committed before the process ended.
    const again = await spawnWharf({ WHARF_STORAGE_DATA_DIR: dataDir });
    try {
      const head = await fetch(`${again.url}/v2/life/repo/blobs/${digest}`, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-length'), String(body.length));
    } finally {
      again.child.kill('SIGKILL');
    }
  });

  it('refuses a wrong setting with a message naming it, and exit code 2', () => {
    const result = spawnSync(process.execPath, [WHARF_BIN, 'serve'], { env: { PATH: process.env.PATH ?? '', WHARF_HTTP_PORT: 'eighty' }, encoding: 'utf8' });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /http\.port \(WHARF_HTTP_PORT\)/);

    const dir = tempDir();
    const file = path.join(dir, 'wharf.yaml');
    writeFileSync(file, 'registry:\n  uploadExpiry: whenever\n');
    const fromFile = spawnSync(process.execPath, [WHARF_BIN, 'serve', '--config', file], { env: { PATH: process.env.PATH ?? '' }, encoding: 'utf8' });
    assert.equal(fromFile.status, 2);
    assert.match(fromFile.stderr, /registry\.uploadExpiry/);
  });

  it('answers --help with examples and bad usage with exit code 2', () => {
    const help = spawnSync(process.execPath, [WHARF_BIN, 'serve', '--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0);
    assert.match(help.stdout, /Examples:/);
    const bad = spawn(process.execPath, [WHARF_BIN, 'serve', '--no-such-flag']);
    return new Promise<void>((resolve) => bad.on('exit', (code) => { assert.equal(code, 2); resolve(); }));
  });
});
