import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Kysely, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler, type DatabaseConnection, type Driver } from 'kysely';
import { pino } from 'pino';
import { AUDIT_WRITE_CHUNK, AuditLog } from '../../src/iam/audit-log.js';
import type { Database } from '../../src/metadata/schema.js';

/**
 * A database that answers at once, as better-sqlite3 does (statements run on the event loop), and
 * notes for each insert how many event-loop turns had passed: a flush that sends its chunks all at
 * once runs them in one turn, holding every request until the last.
 */
function instantDatabase(turns: () => number): { db: Kysely<Database>; inserts: Array<{ rows: number; turn: number }> } {
  const inserts: Array<{ rows: number; turn: number }> = [];
  const connection: DatabaseConnection = {
    async executeQuery(query) {
      if (/^insert into "audit_events"/.test(query.sql)) inserts.push({ rows: (query.sql.match(/\), \(/g)?.length ?? 0) + 1, turn: turns() });
      return { rows: [] };
    },
    // eslint-disable-next-line require-yield
    async *streamQuery() { throw new Error('not used'); },
  };
  const driver: Driver = {
    async init() {}, async acquireConnection() { return connection; }, async beginTransaction() {}, async commitTransaction() {},
    async rollbackTransaction() {}, async releaseConnection() {}, async destroy() {},
  };
  const db = new Kysely<Database>({ dialect: {
    createAdapter: () => new SqliteAdapter(), createDriver: () => driver,
    createIntrospector: (k) => new SqliteIntrospector(k), createQueryCompiler: () => new SqliteQueryCompiler(),
  } });
  return { db, inserts };
}

describe('audit flushes', () => {
  it('write their chunks one event-loop turn apart, so requests run between them', async () => {
    let turn = 0;
    let counting = true;
    const tick = () => { turn++; if (counting) setImmediate(tick); };
    setImmediate(tick);
    const { db, inserts } = instantDatabase(() => turn);
    const audit = new AuditLog(db, pino({ level: 'silent' }), () => Date.now());
    const repositories = AUDIT_WRITE_CHUNK * 4 + 7;
    for (let i = 0; i < repositories; i++) {
      audit.recordBatched({ accountId: 1, actor: 'anonymous', action: 'registry.pull', resource: `repository scale/r${i}`, outcome: 'allow', source: '127.0.0.1' });
    }
    await audit.flush();
    counting = false;
    assert.deepEqual(inserts.map((i) => i.rows), [AUDIT_WRITE_CHUNK, AUDIT_WRITE_CHUNK, AUDIT_WRITE_CHUNK, AUDIT_WRITE_CHUNK, 7], 'every batched row written once, in chunks');
    for (let i = 1; i < inserts.length; i++) {
      assert.ok(inserts[i]!.turn > inserts[i - 1]!.turn, `chunk ${i} ran in a later turn than chunk ${i - 1} (turns ${inserts.map((x) => x.turn).join(', ')})`);
    }
  });
});
