import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import pg from 'pg';
import { connectMetadata, type MetadataDb } from '../../src/metadata/connect.js';
import { ensureRepository, findRepositoryId } from '../../src/metadata/repositories.js';
import { createTestDatabase } from '../support/server.js';

/**
 * database.prepareStatements on PostgreSQL: the statements Kysely runs with parameters go as named
 * prepared statements (parsed and planned once per connection), except those a schema change made
 * by another replica's migration could break. One connection (poolSize 1), so what this session
 * prepared is what pg_prepared_statements lists.
 */
describe('prepared statements [postgres]', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;

  before(async () => { database = await createTestDatabase(); });
  after(async () => { await database?.drop(); });

  async function prepared(metadata: MetadataDb): Promise<string[]> {
    const rows = await sql<{ statement: string }>`select statement from pg_prepared_statements where from_sql = false`.execute(metadata.db);
    return rows.rows.map((r) => r.statement);
  }

  it('prepares a parameterised statement once and runs it again by name', async () => {
    const metadata = await connectMetadata({ engine: 'postgres', sqlitePath: '', url: database.url, poolSize: 1 });
    try {
      const id = await ensureRepository(metadata.db, 'prepared/one', Date.now());
      assert.equal(await findRepositoryId(metadata.db, 'prepared/one'), id);
      assert.equal(await findRepositoryId(metadata.db, 'prepared/one'), id, 'the second run uses the prepared statement');
      assert.equal(await findRepositoryId(metadata.db, 'prepared/none'), undefined, 'other parameters, same statement');
      const statements = await prepared(metadata);
      assert.equal(statements.filter((s) => s.startsWith('select "id" from "repositories" where "name" = $1')).length, 1, JSON.stringify(statements));
    } finally {
      await metadata.close();
    }
  });

  it('prepares nothing when database.prepareStatements is off', async () => {
    const metadata = await connectMetadata({ engine: 'postgres', sqlitePath: '', url: database.url, poolSize: 1, prepareStatements: false });
    try {
      await findRepositoryId(metadata.db, 'prepared/one');
      assert.deepEqual(await prepared(metadata), []);
    } finally {
      await metadata.close();
    }
  });

  it('keeps answering select * after another replica adds a column (a rolling upgrade)', async () => {
    const metadata = await connectMetadata({ engine: 'postgres', sqlitePath: '', url: database.url, poolSize: 1 });
    const other = new pg.Client({ connectionString: database.url });
    await other.connect();
    try {
      const all = () => metadata.db.selectFrom('repositories').selectAll().where('name', '=', 'prepared/one').execute();
      for (let i = 0; i < 3; i++) assert.equal((await all()).length, 1);
      await other.query('alter table repositories add column added_by_a_newer_replica integer');
      const rows = await all();
      assert.equal(rows.length, 1, 'a prepared select * would fail with "cached plan must not change result type"');
      assert.ok(!(await prepared(metadata)).some((s) => s.includes('*')), 'statements with * stay unnamed');
    } finally {
      await other.query('alter table repositories drop column if exists added_by_a_newer_replica').catch(() => {});
      await other.end();
      await metadata.close();
    }
  });
});
