import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { engines, startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from '../support/server.js';
import { assertConsistent, fsckServer } from '../support/fsck.js';
import { fillDisk, mountSmallDisk, smallDiskUnavailable, unmountSmallDisk } from '../support/small-disk.js';
import { assertErrorShape, digestOf, pushBlob, putManifest, randomBlob, rawRequest, repoName, descriptor, OCI_CONFIG, OCI_LAYER, OCI_MANIFEST } from '../support/http.js';

/**
 * A registry whose data directory fills up: the data directory is an 8 MiB tmpfs (see
 * test/support/small-disk.ts), so the disk really is full, and freeing space is deleting a file.
 */

const MiB = 1024 * 1024;

for (const engine of engines()) {
  describe(`storage faults: a full data directory [${engine}]`, { skip: smallDiskUnavailable }, () => {
    let dataDir: string | undefined;
    let server: TestServer | undefined;
    const logLines: string[] = [];
    const filler = (): string => path.join(dataDir!, 'filler');
    const staged = (): string[] => readdirSync(path.join(dataDir!, 'uploads'));

    before(async () => {
      dataDir = mountSmallDisk(8);
      const logger = pino({ level: 'info' }, { write: (line: string) => { logLines.push(line); } });
      server = await startTestServer(engine, { storage: { dataDir } }, logger);
    });

    after(async () => {
      try {
        await server?.stop();
      } finally {
        if (dataDir) unmountSmallDisk(dataDir);
      }
    });

    /** The response is 507 in the spec's error format, saying storage is full. */
    function assertStorageFull(res: { status: number; body: Buffer }): void {
      const text = res.body.toString();
      assert.equal(res.status, 507, `expected 507 Insufficient Storage, got ${res.status}: ${text}`);
      const body = JSON.parse(text) as unknown;
      assertErrorShape(body);
      assert.equal(body.errors[0]!.code, 'UNKNOWN');
      assert.match(body.errors[0]!.message, /storage is full/);
    }

    /** The server logged that storage is full, naming the data directory and its free space. */
    function assertLoggedStorageFull(cause: RegExp): void {
      const lines = logLines.map((l) => JSON.parse(l) as { msg?: string; dataDir?: string; freeBytes?: unknown; err?: { code?: string; message?: string } });
      const line = lines.find((l) => l.msg?.includes('storage is full') && cause.test(`${l.err?.code} ${l.err?.message}`));
      assert.ok(line, `a log line says storage is full (cause ${cause}):\n${logLines.join('')}`);
      assert.equal(line.dataDir, dataDir);
      assert.equal(typeof line.freeBytes, 'number');
      assert.ok(line.msg!.includes(dataDir!), line.msg);
    }

    it('a blob pushed in one request that does not fit: 507 "storage is full", nothing staged, and the same push works once space is freed', async () => {
      const name = repoName('full');
      const blob = randomBlob(2 * MiB);
      const digest = digestOf(blob);
      fillDisk(filler(), MiB);
      try {
        const res = await rawRequest(server!.url, 'POST', `/v2/${name}/blobs/uploads/?digest=${digest}`, { 'Content-Type': 'application/octet-stream', 'Content-Length': blob.length }, blob);
        assertStorageFull(res);
        assert.deepEqual(staged(), [], 'the half-written upload is removed at once');
        assertLoggedStorageFull(/ENOSPC/);
        const head = await fetch(`${server!.url}/v2/${name}/blobs/${digest}`, { method: 'HEAD' });
        assert.equal(head.status, 404);
      } finally {
        rmSync(filler(), { force: true });
      }
      await pushBlob(server!.url, name, blob);
      const get = await fetch(`${server!.url}/v2/${name}/blobs/${digest}`);
      assert.equal(get.status, 200);
      assert.ok(Buffer.from(await get.arrayBuffer()).equals(blob));
    });

    it('a chunk that does not fit: 507, the session and its staged bytes are gone, and a new upload works once space is freed', async () => {
      const name = repoName('full');
      const blob = randomBlob(2 * MiB);
      const start = await fetch(`${server!.url}/v2/${name}/blobs/uploads/`, { method: 'POST' });
      assert.equal(start.status, 202);
      const location = start.headers.get('location')!;
      fillDisk(filler(), MiB);
      try {
        const res = await rawRequest(server!.url, 'PATCH', location, { 'Content-Type': 'application/octet-stream', 'Content-Length': blob.length }, blob);
        assertStorageFull(res);
        assert.deepEqual(staged(), [], 'the staged bytes are removed at once');
        const status = await fetch(`${server!.url}${location}`);
        assert.equal(status.status, 404, 'the session was discarded');
      } finally {
        rmSync(filler(), { force: true });
      }
      const again = await fetch(`${server!.url}/v2/${name}/blobs/uploads/`, { method: 'POST' });
      assert.equal(again.status, 202);
      const patch = await fetch(`${server!.url}${again.headers.get('location')!}`, { method: 'PATCH', headers: { 'Content-Type': 'application/octet-stream' }, body: blob });
      assert.equal(patch.status, 202);
      const put = await fetch(`${server!.url}${patch.headers.get('location')!}?digest=${digestOf(blob)}`, { method: 'PUT' });
      assert.equal(put.status, 201, await put.text());
      assert.deepEqual(staged(), []);
    });

    it('a chunk on a disk so full that the session row cannot be deleted either: the client still hears the disk error, not the cleanup\'s', { skip: engine === 'sqlite' ? false : 'the PostgreSQL database is not on the data directory' }, async () => {
      const name = repoName('full');
      const start = await fetch(`${server!.url}/v2/${name}/blobs/uploads/`, { method: 'POST' });
      assert.equal(start.status, 202);
      const location = start.headers.get('location')!;
      const logged = logLines.length;
      fillDisk(filler(), 0);
      try {
        const chunk = randomBlob(256 * 1024);
        const res = await rawRequest(server!.url, 'PATCH', location, { 'Content-Type': 'application/octet-stream', 'Content-Length': chunk.length }, chunk);
        assertStorageFull(res);
        assert.match(JSON.parse(res.body.toString()).errors[0].message, /upload, which was discarded; push the blob again/);
        const failure = logLines.slice(logged).map((l) => JSON.parse(l) as { msg?: string; err?: { code?: string } }).find((l) => l.msg?.startsWith('storage is full'));
        assert.equal(failure?.err?.code, 'ENOSPC', `the original failure is logged:\n${logLines.slice(logged).join('')}`);
        assert.deepEqual(staged(), [], 'the staged file is removed at once');
      } finally {
        rmSync(filler(), { force: true });
      }
    });

    it('the management API on a full disk answers problem+json 507 storage-full, and works once space is freed', { skip: engine === 'sqlite' ? false : 'the PostgreSQL database is not on the data directory' }, async () => {
      const headers = { Authorization: `Basic ${Buffer.from(`admin:${TEST_ADMIN_PASSWORD}`).toString('base64')}`, 'Content-Type': 'application/json' };
      const body = JSON.stringify({ name: `full-${Date.now()}` });
      fillDisk(filler(), 0);
      try {
        const res = await fetch(`${server!.url}/api/v1/namespaces`, { method: 'POST', headers, body });
        const text = await res.text();
        assert.equal(res.status, 507, text);
        assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
        const problem = JSON.parse(text) as { type: string; status: number; detail: string };
        assert.equal(problem.type, '/api/v1/problems/storage-full');
        assert.equal(problem.status, 507);
        assert.match(problem.detail, /^storage is full: .*once space has been freed/);
      } finally {
        rmSync(filler(), { force: true });
      }
      const res = await fetch(`${server!.url}/api/v1/namespaces`, { method: 'POST', headers, body });
      assert.equal(res.status, 201, await res.text());
    });

    it('the SQLite database on a full disk (SQLITE_FULL): a manifest push answers 507 too, and succeeds once space is freed', { skip: engine === 'sqlite' ? false : 'the PostgreSQL database is not on the data directory' }, async () => {
      const name = repoName('full');
      const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
      const layer = randomBlob(4096);
      await pushBlob(server!.url, name, config);
      await pushBlob(server!.url, name, layer);
      const manifest = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: descriptor(OCI_CONFIG, config), layers: [descriptor(OCI_LAYER, layer)] });
      fillDisk(filler(), 0);
      try {
        const res = await putManifest(server!.url, name, 'v1', manifest);
        assertStorageFull({ status: res.status, body: Buffer.from(await res.arrayBuffer()) });
        assertLoggedStorageFull(/SQLITE_FULL/);
      } finally {
        rmSync(filler(), { force: true });
      }
      const res = await putManifest(server!.url, name, 'v1', manifest);
      assert.equal(res.status, 201, await res.text());
      const get = await fetch(`${server!.url}/v2/${name}/manifests/v1`, { headers: { Accept: OCI_MANIFEST } });
      assert.equal(get.status, 200);
      assert.equal(await get.text(), manifest);
    });

    it('leaves a consistent registry behind: fsck finds no errors after the writes the full disk refused', async () => {
      assertConsistent(await fsckServer(server!), 'a full data directory');
    });
  });
}
