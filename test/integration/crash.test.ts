import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createTestDatabase, engines, type EngineName } from '../support/server.js';
import { ensureBuilt, spawnWharf, type WharfProcess } from '../support/process.js';
import { assertConsistent, fsckData } from '../support/fsck.js';

/**
 * kill -9 of the real `wharf serve` in the middle of a 256 MiB upload, then a restart on the same
 * data directory and database: no partial blob is ever visible, earlier content is intact, and the
 * push can be resumed from the upload's status Range or started again.
 */

const MiB = 1024 * 1024;
const CHUNK = 8 * MiB;
const CHUNKS = 32; // 256 MiB
const TOTAL = CHUNK * CHUNKS;

/** Chunk `index` of a pseudo-random blob: AES-CTR keystream, so any chunk can be made again on demand. */
function chunk(seed: string, index: number): Buffer {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(index, 0);
  return createCipheriv('aes-128-ctr', key, iv).update(Buffer.alloc(CHUNK));
}

function blobDigest(seed: string): string {
  const hash = createHash('sha256');
  for (let i = 0; i < CHUNKS; i++) hash.update(chunk(seed, i));
  return `sha256:${hash.digest('hex')}`;
}

function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

interface Reply { status: number; headers: http.IncomingHttpHeaders; body: Buffer }

/** One HTTP request with a body written by `write` (which may never finish, when the server dies). */
function request(url: string, method: string, headers: Record<string, string | number>, write?: (req: http.ClientRequest) => Promise<void>): Promise<Reply> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    // A server that refuses a body may answer and close before all of it is written: the answer counts.
    req.on('error', (err) => { setTimeout(() => { if (!answered) reject(err); }, 200); });
    if (write) write(req).then(() => req.end(), (err: unknown) => req.destroy(err as Error));
    else req.end();
  });
}

/** Writes with backpressure, so "written" means handed to the socket. */
async function writeAll(req: http.ClientRequest, data: Buffer): Promise<void> {
  if (!req.write(data)) {
    await new Promise<void>((resolve, reject) => {
      const onDrain = (): void => { req.off('error', onError); resolve(); };
      const onError = (err: Error): void => { req.off('drain', onDrain); reject(err); };
      req.once('drain', onDrain);
      req.once('error', onError);
    });
  }
}

async function until(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Every file under <dataDir>/blobs, relative. */
function blobFiles(dataDir: string): string[] {
  const root = path.join(dataDir, 'blobs');
  const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.relative(root, path.join(dir, e.name))]));
  return existsSync(root) ? walk(root).sort() : [];
}

function stagedSize(dataDir: string, uploadId: string): number {
  try {
    return statSync(path.join(dataDir, 'uploads', uploadId)).size;
  } catch {
    return -1;
  }
}

/** Streams a blob from Wharf and returns its sha256 and length, never holding it whole. */
async function pullDigest(base: string, name: string, digest: string): Promise<{ digest: string; size: number }> {
  const res = await fetch(`${base}/v2/${name}/blobs/${digest}`);
  assert.equal(res.status, 200, `GET blob ${digest}`);
  const hash = createHash('sha256');
  let size = 0;
  for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) {
    hash.update(part);
    size += part.length;
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

async function postUpload(base: string, name: string): Promise<{ location: string; id: string }> {
  const res = await fetch(`${base}/v2/${name}/blobs/uploads/`, { method: 'POST' });
  assert.equal(res.status, 202, await res.text());
  const location = res.headers.get('location')!;
  const id = res.headers.get('docker-upload-uuid')!;
  assert.ok(location.endsWith(id));
  return { location, id };
}

async function patchChunk(base: string, location: string, data: Buffer, start: number): Promise<Reply> {
  return request(`${base}${location}`, 'PATCH', {
    'Content-Type': 'application/octet-stream',
    'Content-Length': data.length,
    'Content-Range': `${start}-${start + data.length - 1}`,
  }, (req) => writeAll(req, data));
}

async function putDigest(base: string, location: string, digest: string): Promise<Reply> {
  return request(`${base}${location}${location.includes('?') ? '&' : '?'}digest=${digest}`, 'PUT', { 'Content-Length': 0 });
}

/** Content pushed and completed before the crash, to be found intact afterwards. */
interface Completed {
  name: string;
  manifestDigest: string;
  manifest: Buffer;
  blobs: Array<{ digest: string; size: number }>;
}

async function pushCompleted(base: string, name: string, seed: string): Promise<Completed> {
  // A 16 MiB layer in two chunks, a config, and a manifest tagged v1.
  const { location } = await postUpload(base, name);
  const layerHash = createHash('sha256');
  for (let i = 0; i < 2; i++) {
    const data = chunk(seed, i);
    layerHash.update(data);
    const res = await patchChunk(base, location, data, i * CHUNK);
    assert.equal(res.status, 202);
  }
  const layerDigest = `sha256:${layerHash.digest('hex')}`;
  assert.equal((await putDigest(base, location, layerDigest)).status, 201);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layerDigest] }, seed }));
  const configDigest = sha256(config);
  const put = await fetch(`${base}/v2/${name}/blobs/uploads/?digest=${configDigest}`, { method: 'POST', body: config, headers: { 'Content-Type': 'application/octet-stream' } });
  assert.equal(put.status, 201);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: 2 * CHUNK }],
  }));
  const res = await fetch(`${base}/v2/${name}/manifests/v1`, { method: 'PUT', body: manifest, headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } });
  assert.equal(res.status, 201, await res.text());
  return { name, manifestDigest: sha256(manifest), manifest, blobs: [{ digest: layerDigest, size: 2 * CHUNK }, { digest: configDigest, size: config.length }] };
}

async function assertCompletedIntact(base: string, done: Completed): Promise<void> {
  const res = await fetch(`${base}/v2/${done.name}/manifests/v1`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
  assert.equal(res.status, 200, 'the manifest pushed before the crash is still served');
  assert.equal(res.headers.get('docker-content-digest'), done.manifestDigest);
  assert.ok(Buffer.from(await res.arrayBuffer()).equals(done.manifest));
  for (const blob of done.blobs) {
    assert.deepEqual(await pullDigest(base, done.name, blob.digest), blob, `blob ${blob.digest} pushed before the crash is intact`);
  }
}

async function assertNotVisible(base: string, dataDir: string, name: string, digest: string, blobsBefore: string[]): Promise<void> {
  const head = await fetch(`${base}/v2/${name}/blobs/${digest}`, { method: 'HEAD' });
  assert.equal(head.status, 404, 'the interrupted blob is not visible');
  const hex = digest.slice('sha256:'.length);
  assert.ok(!blobFiles(dataDir).some((f) => f.endsWith(hex)), `no file for ${digest} under ${dataDir}/blobs`);
  assert.deepEqual(blobFiles(dataDir), blobsBefore, 'the blob store holds exactly the blobs completed before the crash');
  const base2 = await fetch(`${base}/v2/`);
  assert.equal(base2.status, 200, 'GET /v2/ answers after the restart');
}

async function kill9(wharf: WharfProcess): Promise<void> {
  wharf.child.kill('SIGKILL');
  const exit = await wharf.exited;
  assert.equal(exit.signal, 'SIGKILL');
}

for (const engine of engines()) {
  describe(`kill -9 during a 256 MiB upload [${engine}]`, () => {
    let dataDir: string;
    let database: { url: string; drop(): Promise<void> } | undefined;
    let env: Record<string, string>;
    let wharf: WharfProcess | undefined;

    before(async () => {
      await ensureBuilt();
      dataDir = mkdtempSync(path.join(os.tmpdir(), 'wharf-crash-'));
      database = engine === 'postgres' ? await createTestDatabase() : undefined;
      env = {
        WHARF_STORAGE_DATA_DIR: dataDir,
        WHARF_DATABASE_ENGINE: engine satisfies EngineName,
        WHARF_LOG_LEVEL: 'warn',
        ...(database ? { WHARF_DATABASE_URL: database.url } : {}),
      };
      wharf = await spawnWharf(env);
    });
    after(async () => {
      if (wharf && wharf.child.exitCode === null && wharf.child.signalCode === null) await kill9(wharf);
      await database?.drop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    it('chunked PATCHes (8 MiB each): the blob never appears, earlier content survives, the session resumes from its status Range', async () => {
      const name = 'crash/chunked';
      const done = await pushCompleted(wharf!.url, 'crash/done-chunked', `${engine}-done-1`);
      const blobsBefore = blobFiles(dataDir);
      const seed = `${engine}-chunked`;
      const digest = blobDigest(seed);

      const { location, id } = await postUpload(wharf!.url, name);
      const acknowledged = 10;
      for (let i = 0; i < acknowledged; i++) {
        const res = await patchChunk(wharf!.url, location, chunk(seed, i), i * CHUNK);
        assert.equal(res.status, 202);
        assert.equal(res.headers.range, `0-${(i + 1) * CHUNK - 1}`);
      }
      // Chunk 11 is on its way when the server dies: declared whole, half of it sent, part of that staged.
      const doomed = request(`${wharf!.url}${location}`, 'PATCH', {
        'Content-Type': 'application/octet-stream',
        'Content-Length': CHUNK,
        'Content-Range': `${acknowledged * CHUNK}-${(acknowledged + 1) * CHUNK - 1}`,
      }, async (req) => {
        await writeAll(req, chunk(seed, acknowledged).subarray(0, CHUNK / 2));
        await new Promise(() => undefined); // the rest never comes
      }).catch((err: Error) => err);
      await until(() => stagedSize(dataDir, id) > acknowledged * CHUNK, 'the server to stage part of the 11th chunk');
      await kill9(wharf!);
      assert.ok((await doomed) instanceof Error, 'the in-flight PATCH got no answer');

      wharf = await spawnWharf(env);
      await assertNotVisible(wharf.url, dataDir, name, digest, blobsBefore);
      await assertCompletedIntact(wharf.url, done);

      // The session survived with exactly the acknowledged bytes; the half chunk does not count.
      const status = await fetch(`${wharf.url}${location}`);
      assert.equal(status.status, 204);
      assert.equal(status.headers.get('range'), `0-${acknowledged * CHUNK - 1}`);
      assert.equal(status.headers.get('docker-upload-uuid'), id);
      const resumeFrom = Number(status.headers.get('range')!.split('-')[1]) + 1;
      assert.equal(resumeFrom % CHUNK, 0);

      // Going on from anywhere else is refused with the current Range.
      const wrong = await patchChunk(wharf.url, location, chunk(seed, acknowledged + 1).subarray(0, 16), (acknowledged + 1) * CHUNK);
      assert.equal(wrong.status, 416);
      assert.equal(wrong.headers.range, `0-${acknowledged * CHUNK - 1}`);

      for (let i = resumeFrom / CHUNK; i < CHUNKS; i++) {
        const res = await patchChunk(wharf.url, location, chunk(seed, i), i * CHUNK);
        assert.equal(res.status, 202, res.body.toString());
      }
      const put = await putDigest(wharf.url, location, digest);
      assert.equal(put.status, 201, put.body.toString());
      assert.equal(put.headers['docker-content-digest'], digest);
      assert.deepEqual(await pullDigest(wharf.url, name, digest), { digest, size: TOTAL });
      assert.equal(stagedSize(dataDir, id), -1, 'the staged upload is gone once committed');
    });

    it('a streamed PATCH: the blob never appears, the session holds no bytes, and a push from scratch succeeds', async () => {
      const name = 'crash/streamed';
      const done = await pushCompleted(wharf!.url, 'crash/done-streamed', `${engine}-done-2`);
      const blobsBefore = blobFiles(dataDir);
      const seed = `${engine}-streamed`;
      const digest = blobDigest(seed);

      const streamed = async (base: string, location: string, chunks: number, onWritten?: (i: number) => Promise<void>): Promise<Reply> =>
        request(`${base}${location}`, 'PATCH', { 'Content-Type': 'application/octet-stream', 'Transfer-Encoding': 'chunked' }, async (req) => {
          for (let i = 0; i < chunks; i++) {
            await writeAll(req, chunk(seed, i));
            await onWritten?.(i);
          }
        });

      const { location, id } = await postUpload(wharf!.url, name);
      let killed = false;
      const doomed = streamed(wharf!.url, location, CHUNKS, async (i) => {
        if (i === 12 && !killed) {
          killed = true;
          await until(() => stagedSize(dataDir, id) >= 8 * CHUNK, 'the server to stage 64 MiB of the stream');
          await kill9(wharf!);
          throw new Error('server killed');
        }
      }).catch((err: Error) => err);
      assert.ok((await doomed) instanceof Error, 'the streamed PATCH got no answer');
      assert.ok(killed);

      wharf = await spawnWharf(env);
      await assertNotVisible(wharf.url, dataDir, name, digest, blobsBefore);
      await assertCompletedIntact(wharf.url, done);

      // Nothing of a PATCH that never finished counts: the session is still at zero bytes.
      const status = await fetch(`${wharf.url}${location}`);
      assert.equal(status.status, 204);
      assert.equal(status.headers.get('range'), '0-0');
      const completeEarly = await putDigest(wharf.url, location, digest);
      assert.equal(completeEarly.status, 400, 'completing the empty session with the full digest fails');
      assert.equal((JSON.parse(completeEarly.body.toString()) as { errors: Array<{ code: string }> }).errors[0]!.code, 'DIGEST_INVALID');
      assert.equal((await fetch(`${wharf.url}/v2/${name}/blobs/${digest}`, { method: 'HEAD' })).status, 404);

      // From scratch: a new session, the whole blob in one streamed PATCH, then PUT.
      const retry = await postUpload(wharf.url, name);
      const patched = await streamed(wharf.url, retry.location, CHUNKS);
      assert.equal(patched.status, 202, patched.body.toString());
      assert.equal(patched.headers.range, `0-${TOTAL - 1}`);
      const put = await putDigest(wharf.url, retry.location, digest);
      assert.equal(put.status, 201, put.body.toString());
      assert.deepEqual(await pullDigest(wharf.url, name, digest), { digest, size: TOTAL });
      assert.ok(blobFiles(dataDir).some((f) => f.endsWith(digest.slice(7))));
    });

    if (engine === 'postgres') {
      it('survives PostgreSQL terminating its connections, and keeps serving', async () => {
        const done = await pushCompleted(wharf!.url, 'crash/done-pg', `${engine}-done-3`);
        const admin = new pg.Client({ connectionString: process.env.WHARF_TEST_DATABASE_URL });
        await admin.connect();
        try {
          const dbName = new URL(database!.url).pathname.slice(1);
          const terminated = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [dbName]);
          assert.ok(terminated.rowCount! > 0, 'Wharf had connections to terminate');
        } finally {
          await admin.end();
        }
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(wharf!.child.exitCode, null, `wharf is still running:\n${wharf!.output().slice(-2000)}`);
        assert.equal(wharf!.child.signalCode, null);
        await assertCompletedIntact(wharf!.url, done);
      });
    }

    it('leaves a consistent registry behind: fsck of its data directory and database finds no errors', async () => {
      wharf!.child.kill('SIGTERM');
      const exit = await wharf!.exited;
      assert.equal(exit.code, 0, `wharf stopped cleanly:\n${wharf!.output().slice(-2000)}`);
      const report = await fsckData({ dataDir, engine, databaseUrl: database?.url });
      assertConsistent(report, 'kill -9 during uploads and the restarts');
      assert.ok(report.blobs > 0 && report.bytesHashed >= 2 * TOTAL, `the 256 MiB blobs were hashed: ${JSON.stringify(report)}`);
    });
  });
}
