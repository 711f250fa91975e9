import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql, type Kysely } from 'kysely';
import { createFreshSchema, migrationTableExists, recordMigrations } from '../../src/metadata/fresh-schema.js';
import { WharfMigrations } from '../../src/metadata/migrations/index.js';
import type { Database } from '../../src/metadata/schema.js';
import { engines, type EngineName } from '../support/server.js';
import { migrationTestDatabase } from '../support/migration-db.js';

/** Everything that makes a schema: tables and columns, indexes, constraints, triggers, and Kysely's bookkeeping. */
async function describeSchema(db: Kysely<Database>, engine: EngineName): Promise<unknown> {
  const lock = (await sql`select id, is_locked from kysely_migration_lock`.execute(db)).rows;
  const migrations = (await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db)).rows.map((r) => r.name);
  if (engine === 'sqlite') {
    const objects = (await sql`select type, name, tbl_name, sql from sqlite_master where name not like 'sqlite_%' order by type, name`.execute(db)).rows;
    return { objects, lock, migrations };
  }
  const columns = (await sql`select table_name, column_name, data_type, collation_name, column_default, is_nullable, ordinal_position
    from information_schema.columns where table_schema = 'public' order by table_name, column_name`.execute(db)).rows;
  const indexes = (await sql`select tablename, indexname, indexdef from pg_indexes where schemaname = 'public' order by indexname`.execute(db)).rows;
  const constraints = (await sql`select conrelid::regclass::text as table_name, conname, pg_get_constraintdef(oid) as definition
    from pg_constraint where connamespace = 'public'::regnamespace order by conname`.execute(db)).rows;
  const triggers = (await sql`select event_object_table, trigger_name, action_statement from information_schema.triggers order by trigger_name`.execute(db)).rows;
  return { columns, indexes, constraints, triggers, lock, migrations };
}

for (const engine of engines()) {
  describe(`a new database gets the migrations' schema in one transaction [${engine}]`, () => {
    it('is exactly the schema Kysely\'s Migrator builds, with every migration recorded as run', async () => {
      const fresh = await migrationTestDatabase(engine);
      const migrated = await migrationTestDatabase(engine);
      try {
        const before = Date.now();
        assert.equal(await createFreshSchema(fresh.db, engine, new WharfMigrations(engine), new Date()), true);
        assert.equal((await migrated.migrator.migrateToLatest()).error, undefined);
        const expected = await describeSchema(migrated.db, engine);
        assert.deepEqual(await describeSchema(fresh.db, engine), expected);
        // Not vacuous: the schema has the registry's tables, and every migration is listed.
        const names = Object.keys(await new WharfMigrations(engine).getMigrations());
        assert.deepEqual((expected as { migrations: string[] }).migrations, [...names].sort());
        assert.ok(JSON.stringify(expected).includes('manifest_references'));
        // The Migrator finds nothing left to do, and the rows carry the time of creation.
        const { results, error } = await fresh.migrator.migrateToLatest();
        assert.equal(error, undefined);
        assert.deepEqual(results, []);
        const stamps = (await sql<{ timestamp: string }>`select timestamp from kysely_migration`.execute(fresh.db)).rows;
        for (const { timestamp } of stamps) assert.ok(Date.parse(timestamp) >= before - 1000, `migration time ${timestamp} is the creation's`);
      } finally {
        await fresh.cleanup();
        await migrated.cleanup();
      }
    });

    it('changes nothing on a database that has run migrations (the Migrator takes over)', async () => {
      const { db, migrator, cleanup } = await migrationTestDatabase(engine);
      try {
        assert.equal((await migrator.migrateTo('0024_va_extras')).error, undefined);
        assert.equal(await createFreshSchema(db, engine, new WharfMigrations(engine), new Date()), false);
        const done = (await sql<{ name: string }>`select name from kysely_migration`.execute(db)).rows.map((r) => r.name);
        assert.ok(!done.includes('0025_reference_repositories'), 'the last migration was left to the Migrator');
        assert.equal((await migrator.migrateToLatest()).error, undefined);
        assert.equal(await migrationTableExists(db, engine), true);
      } finally {
        await cleanup();
      }
    });
  });
}

describe('recording the migrations', () => {
  it('keeps the statements that build the schema and leaves out the Migrator\'s reads and rows', async () => {
    for (const engine of ['sqlite', 'postgres'] as const) {
      const statements = await recordMigrations(engine, new WharfMigrations(engine));
      assert.ok(statements.some((s) => /^create table "manifests"/.test(s.sql)), `${engine}: the registry's tables are created`);
      assert.ok(statements.some((s) => /^create table if not exists "kysely_migration"/.test(s.sql)), `${engine}: Kysely's own table is created as Kysely creates it`);
      assert.ok(!statements.some((s) => /^\s*select\b/i.test(s.sql)), `${engine}: no reads`);
      assert.ok(!statements.some((s) => s.sql.startsWith('insert into "kysely_migration"')), `${engine}: the migration rows are written at creation`);
    }
  });
});
