import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { startTestServer, type TestServer } from '../support/server.js';

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
