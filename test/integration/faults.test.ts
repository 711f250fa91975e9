import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import http from 'node:http';
import net from 'node:net';
import { sql } from 'kysely';
import { startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from '../support/server.js';
import { assertErrorShape, digestOf, eventually, OCI_MANIFEST, pushImage, putManifest, randomBlob, repoName, type ErrorBody } from '../support/http.js';

/** Faults answered as what they are: durability, an unavailable database, oversized bodies, slow clients. */

describe('SQLite metadata durability', () => {
  let server: TestServer;
  before(async () => { server = await startTestServer('sqlite', { scanner: { enabled: false } }); });
  after(async () => { await server.stop(); });

  it('acknowledges a write only once the WAL holding it is on disk, and a read waits for no sync', async () => {
    const { rows } = await sql<{ synchronous: number }>`pragma synchronous`.execute(server.metadata.db);
    // NORMAL (1): commits write the WAL; WalSync fsyncs it before the writer is answered.
    assert.equal(rows[0]?.synchronous, 1);
    const { rows: mode } = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(server.metadata.db);
    assert.equal(mode[0]?.journal_mode, 'wal');
    const wal = server.metadata.walSync!;
    const name = repoName('durable');
    const before = wal.completed;
    await pushImage(server.url, name, 'v1');
    assert.ok(wal.completed > before, 'the push waited for syncs of the WAL');
    // A read writes nothing, so it waits for no sync (nothing else writes on this server meanwhile:
    // no scanner, no pulls to count). That commits share syncs is proven in test/unit/wal-sync.test.ts.
    const idle = wal.completed;
    await server.metadata.db.selectFrom('manifests').select('digest').execute();
    assert.equal(wal.completed, idle, 'a read waits for no sync');
  });
});

interface Cluster { url: string; stop(): void; halt(): void; resume(): void }

async function startOwnPostgres(): Promise<Cluster> {
  // Its own cluster: stopping the shared one of the test run would fail every other suite.
  const modulePath = new URL('../support/postgres.mjs', import.meta.url).href;
  const { startPostgres } = (await import(modulePath)) as { startPostgres(): Promise<Cluster> };
  return startPostgres();
}

async function expectUnavailable(res: Response): Promise<void> {
  const text = await res.text();
  assert.equal(res.status, 503, text);
  assert.match(res.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
  const body = JSON.parse(text) as ErrorBody;
  assertErrorShape(body);
  assert.equal(body.errors[0]!.code, 'UNAVAILABLE');
  assert.match(body.errors[0]!.message, /metadata database is unavailable/);
}

async function expectUnavailableProblem(res: Response): Promise<void> {
  const text = await res.text();
  assert.equal(res.status, 503, text);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.match(res.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
  const problem = JSON.parse(text) as { type: string; status: number; detail: string };
  assert.equal(problem.type, '/api/v1/problems/unavailable');
  assert.equal(problem.status, 503);
  assert.match(problem.detail, /metadata database is unavailable/);
}

describe('PostgreSQL restarting [postgres]', () => {
  let cluster: Cluster;
  let server: TestServer;
  before(async () => {
    cluster = await startOwnPostgres();
    server = await startTestServer('postgres', { database: { url: cluster.url } });
  });
  after(async () => {
    await server?.stop();
    cluster?.stop();
  });

  it('answers 503 with Retry-After while the database is down, and serves again once it is back', async () => {
    const name = repoName('faults');
    const image = await pushImage(server.url, name, 'v1');
    cluster.halt();
    try {
      await expectUnavailable(await fetch(`${server.url}/v2/${name}/manifests/v1`));
      await expectUnavailable(await fetch(`${server.url}/v2/${name}/blobs/${image.layers[0]!.digest}`));
      await expectUnavailable(await putManifest(server.url, name, 'v2', image.bytes));
      await expectUnavailable(await fetch(`${server.url}/v2/${name}/tags/list`, { method: 'GET' }));
      const admin = `Basic ${Buffer.from(`admin:${TEST_ADMIN_PASSWORD}`).toString('base64')}`;
      await expectUnavailableProblem(await fetch(`${server.url}/api/v1/images`, { headers: { authorization: admin } }));
      await expectUnavailable(await fetch(`${server.url}/auth/token?service=wharf&scope=repository:${name}:pull`, { headers: { authorization: admin } }));
    } finally {
      cluster.resume();
    }
    await eventually(async () => (await fetch(`${server.url}/v2/${name}/manifests/v1`)).status === 200, 'the manifest is served again after the restart', 30_000);
    assert.equal((await putManifest(server.url, name, 'v2', image.bytes)).status, 201);
    const tags = await (await fetch(`${server.url}/v2/${name}/tags/list`)).json() as { tags: string[] };
    assert.deepEqual(tags.tags.sort(), ['v1', 'v2']);
  });
});

describe('SQLite locked by another process [sqlite]', () => {
  let server: TestServer;
  before(async () => { server = await startTestServer('sqlite'); });
  after(async () => { await server.stop(); });

  it('answers a write refused for the write lock another process holds (SQLITE_BUSY) with 503 and Retry-After, and takes it once the lock is gone', async () => {
    const name = repoName('faults');
    const image = await pushImage(server.url, name, 'v1');
    // Another process (a backup, `wharf vulndb import`) holding the write lock longer than busy_timeout.
    const other = new Database(server.config.database.sqlitePath);
    try {
      other.prepare('BEGIN IMMEDIATE').run();
      await expectUnavailable(await putManifest(server.url, name, 'v2', image.bytes));
      // Reads go on in WAL mode.
      assert.equal((await fetch(`${server.url}/v2/${name}/manifests/v1`)).status, 200);
      other.prepare('COMMIT').run();
    } finally {
      other.close();
    }
    assert.equal((await putManifest(server.url, name, 'v2', image.bytes)).status, 201);
  });
});

interface Exchange {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Whether the server sent `100 Continue`. */
  continued: boolean;
  /** The client-side error (EPIPE, ECONNRESET), if the exchange met one. */
  clientError?: string;
}

/**
 * A request as a Node client sends it: the whole body written (after `100 Continue` when asked for),
 * and any error on the way remembered rather than tolerated, since a reset is exactly what a client
 * must not get instead of the answer.
 */
function exchange(base: string, method: string, path: string, headers: Record<string, string | number>, body: Buffer, expectContinue = false): Promise<Exchange> {
  const url = new URL(base);
  return new Promise((resolve) => {
    let continued = false;
    let clientError: string | undefined;
    let answer: Omit<Exchange, 'continued' | 'clientError'> | undefined;
    let settled = false;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      req.destroy();
      resolve({ ...(answer ?? { status: 0, headers: {}, body: '' }), continued, clientError });
    };
    const req = http.request({
      host: url.hostname, port: url.port, method, path, agent: false,
      headers: { ...headers, ...(expectContinue ? { Expect: '100-continue' } : {}) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        answer = { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() };
        // A write still in flight may yet fail with a reset: give it a moment to show.
        setTimeout(finish, 100);
      });
      res.on('error', (err: NodeJS.ErrnoException) => { clientError ??= err.code ?? err.message; finish(); });
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      clientError ??= err.code ?? err.message;
      if (!answer) finish();
    });
    if (expectContinue) req.on('continue', () => { continued = true; req.end(body); });
    else req.end(body);
  });
}

function oversizedManifest(): Buffer {
  return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, annotations: { pad: 'x'.repeat(5 * 1024 * 1024) } }));
}

describe('bodies refused before they are read', () => {
  let server: TestServer;
  before(async () => { server = await startTestServer('sqlite'); });
  after(async () => { await server.stop(); });

  it('refuses a manifest over 4 MiB before 100 Continue: the client never sends it and reads the 413', async () => {
    const huge = oversizedManifest();
    const res = await exchange(server.url, 'PUT', `/v2/${repoName('faults')}/manifests/huge`, { 'Content-Type': OCI_MANIFEST, 'Content-Length': huge.length }, huge, true);
    assert.equal(res.status, 413, res.body);
    assert.equal(res.continued, false);
    assert.equal(res.clientError, undefined);
    const body = JSON.parse(res.body) as ErrorBody;
    assertErrorShape(body);
    assert.equal(body.errors[0]!.code, 'MANIFEST_INVALID');
  });

  it('lets a client that sends an oversized manifest without asking read the 413, not a reset', async () => {
    const huge = oversizedManifest();
    const framings: Array<Record<string, string | number>> = [{ 'Content-Length': huge.length }, { 'Transfer-Encoding': 'chunked' }];
    for (const framing of framings) {
      const res = await exchange(server.url, 'PUT', `/v2/${repoName('faults')}/manifests/huge`, { 'Content-Type': OCI_MANIFEST, ...framing }, huge);
      assert.equal(res.status, 413, `${JSON.stringify(framing)}: ${res.body}`);
      assert.equal(res.clientError, undefined, JSON.stringify(framing));
      assertErrorShape(JSON.parse(res.body));
    }
  });

  it('refuses an API body over 1 MiB with 413 problem+json, before 100 Continue or after reading it', async () => {
    const admin = `Basic ${Buffer.from(`admin:${TEST_ADMIN_PASSWORD}`).toString('base64')}`;
    const big = Buffer.from(JSON.stringify({ name: 'n'.repeat(2 * 1024 * 1024) }));
    for (const expectContinue of [true, false]) {
      const res = await exchange(server.url, 'POST', '/api/v1/namespaces', { 'Content-Type': 'application/json', 'Content-Length': big.length, Authorization: admin }, big, expectContinue);
      assert.equal(res.status, 413, res.body);
      assert.equal(res.continued, false);
      assert.equal(res.clientError, undefined);
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
      assert.equal((JSON.parse(res.body) as { type: string }).type, '/api/v1/problems/payload-too-large');
    }
  });

  it('lets a client read the 416 of an out-of-order chunk it is still sending, and keeps the connection usable', async () => {
    const name = repoName('faults');
    const started = await fetch(`${server.url}/v2/${name}/blobs/uploads/`, { method: 'POST' });
    const location = started.headers.get('location')!;
    const chunk = randomBlob(2 * 1024 * 1024);
    const res = await exchange(server.url, 'PATCH', location, { 'Content-Type': 'application/octet-stream', 'Content-Length': chunk.length, 'Content-Range': `100-${100 + chunk.length - 1}` }, chunk);
    assert.equal(res.status, 416, res.body);
    assert.equal(res.clientError, undefined);
    assert.notEqual(res.headers.connection, 'close');
  });
});

/** A raw connection that writes what the test says when it says; resolves what came back once the server closes it. */
function rawConnection(base: string): { socket: net.Socket; closed: Promise<string> } {
  const url = new URL(base);
  const socket = net.connect(Number(url.port), url.hostname);
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => undefined);
  const closed = new Promise<string>((resolve) => socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1'))));
  return { socket, closed };
}

/** Rejects when `promise` has not settled within `ms`: a generous bound on what should take about a second. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`not within ${ms} ms: ${what}`)), ms); });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

describe('slow clients', () => {
  let server: TestServer;
  before(async () => { server = await startTestServer('sqlite', { http: { headersTimeout: 1, requestIdleTimeout: 1 } }); });
  after(async () => { await server.stop(); });

  it('answers 408 and closes a connection whose headers trickle in longer than http.headersTimeout', async () => {
    const { socket, closed } = rawConnection(server.url);
    const header = Buffer.from(`GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(1000)}`);
    let sent = 0;
    // One byte every 50 ms: never idle, never done.
    const trickle = setInterval(() => { if (sent < header.length && socket.writable) socket.write(header.subarray(sent, ++sent)); }, 50);
    try {
      const reply = await within(closed, 20_000, 'the server closes the trickling connection');
      assert.match(reply, /^HTTP\/1\.1 408 /);
      assert.match(reply, /http\.headersTimeout/);
      assert.ok(sent < header.length, 'closed before the headers were complete');
    } finally {
      clearInterval(trickle);
      socket.destroy();
    }
  });

  it('closes an upload whose body stops arriving for http.requestIdleTimeout; the upload resumes from its Range', async () => {
    const name = repoName('faults');
    const data = randomBlob(1000);
    const started = await fetch(`${server.url}/v2/${name}/blobs/uploads/`, { method: 'POST' });
    const location = started.headers.get('location')!;
    const { socket, closed } = rawConnection(server.url);
    try {
      socket.write(`PATCH ${location} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: ${data.length}\r\n\r\n`);
      socket.write(data.subarray(0, 100));
      await within(closed, 20_000, 'the server closes the stalled upload');
    } finally {
      socket.destroy();
    }
    const status = await fetch(`${server.url}${location}`);
    assert.equal(status.status, 204);
    assert.equal(status.headers.get('range'), '0-0');
    const patched = await fetch(`${server.url}${location}`, { method: 'PATCH', headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `0-${data.length - 1}` }, body: data });
    assert.equal(patched.status, 202, await patched.text());
    const done = await fetch(`${server.url}${location}?digest=${digestOf(data)}`, { method: 'PUT' });
    assert.equal(done.status, 201, await done.text());
  });

  it('never cuts a body that is slow but keeps coming, however long it takes in total', async () => {
    const name = repoName('faults');
    const data = randomBlob(12);
    const head = `POST /v2/${name}/blobs/uploads/?digest=${digestOf(data)} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: ${data.length}\r\nConnection: close\r\n\r\n`;
    const { socket, closed } = rawConnection(server.url);
    socket.write(head);
    // 12 bytes, one every 400 ms: about 5 s in all, five times the idle timeout, never 1 s silent.
    let sent = 0;
    const trickle = setInterval(() => { if (sent < data.length) socket.write(data.subarray(sent, ++sent)); }, 400);
    try {
      const reply = await within(closed, 30_000, 'the slow upload is answered');
      assert.match(reply, /^HTTP\/1\.1 201 /);
    } finally {
      clearInterval(trickle);
      socket.destroy();
    }
  });
});
