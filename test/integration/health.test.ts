import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { engines, startTestServer, type TestServer } from '../support/server.js';

interface Probe {
  status: string;
  checks: Record<'database' | 'migrations' | 'storage', { ok: boolean; reason?: string }>;
}

async function probe(server: TestServer, route: string): Promise<{ status: number; body: Probe }> {
  const res = await fetch(`${server.url}${route}`);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  return { status: res.status, body: await res.json() as Probe };
}

for (const engine of engines()) {
  describe(`health probes [${engine}]`, () => {
    let server: TestServer;
    before(async () => { server = await startTestServer(engine, { auth: { enabled: true } }); });
    after(async () => { await server.stop(); });

    it('/livez and /readyz answer without credentials while everything works', async () => {
      const live = await fetch(`${server.url}/livez`);
      assert.equal(live.status, 200);
      assert.deepEqual(await live.json(), { status: 'ok' });
      for (const route of ['/readyz', '/healthz']) {
        const { status, body } = await probe(server, route);
        assert.equal(status, 200, JSON.stringify(body));
        assert.equal(body.status, 'ready');
        assert.deepEqual(Object.values(body.checks).map((c) => c.ok), [true, true, true]);
      }
    });

    it('/readyz answers 503 naming the failing check when the blob store cannot be written, and recovers', async () => {
      const blobs = path.join(server.dataDir, 'blobs');
      renameSync(blobs, `${blobs}.away`);
      try {
        const { status, body } = await probe(server, '/readyz');
        assert.equal(status, 503);
        assert.equal(body.status, 'not ready');
        assert.equal(body.checks.storage.ok, false);
        assert.match(body.checks.storage.reason ?? '', /ENOENT/);
        assert.equal(body.checks.database.ok, true);
        assert.equal((await fetch(`${server.url}/livez`)).status, 200, 'the process itself is alive');
      } finally {
        renameSync(`${blobs}.away`, blobs);
        mkdirSync(blobs, { recursive: true });
      }
      assert.equal((await probe(server, '/readyz')).status, 200);
    });

    it('/readyz answers 503 when the database has a migration this version does not know (a newer replica migrated it)', async () => {
      await sql`insert into kysely_migration (name, timestamp) values ('9999_from_a_newer_version', '2026-11-30T00:00:00.000Z')`.execute(server.metadata.db);
      try {
        const { status, body } = await probe(server, '/readyz');
        assert.equal(status, 503);
        assert.equal(body.checks.migrations.ok, false);
        assert.match(body.checks.migrations.reason ?? '', /schema is not the one this version of Wharf expects/);
      } finally {
        await sql`delete from kysely_migration where name = '9999_from_a_newer_version'`.execute(server.metadata.db);
      }
      assert.equal((await probe(server, '/readyz')).status, 200);
    });
  });
}
