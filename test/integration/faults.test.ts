import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from '../support/server.js';
import { assertErrorShape, eventually, pushImage, putManifest, repoName, type ErrorBody } from '../support/http.js';

/** Faults answered as what they are: durability, an unavailable database, oversized bodies, slow clients. */

describe('SQLite metadata durability', () => {
  let server: TestServer;
  before(async () => { server = await startTestServer('sqlite'); });
  after(async () => { await server.stop(); });

  it('syncs the WAL at every commit (synchronous=FULL), so an acknowledged push survives a power loss', async () => {
    const { rows } = await sql<{ synchronous: number }>`pragma synchronous`.execute(server.metadata.db);
    // 2 = FULL; NORMAL (1) in WAL mode syncs only at checkpoints and can lose the last commits.
    assert.equal(rows[0]?.synchronous, 2);
    const { rows: mode } = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(server.metadata.db);
    assert.equal(mode[0]?.journal_mode, 'wal');
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
