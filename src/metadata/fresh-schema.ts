import {
  CompiledQuery, Kysely, Migrator, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler, sql,
  type DatabaseConnection, type Driver, type MigrationLockOptions, type MigrationProvider,
} from 'kysely';
import type { Engine } from './migrations/index.js';

/** Kysely's bookkeeping tables (Migrator's defaults), which the fresh schema creates as it does. */
const MIGRATION_TABLE = 'kysely_migration';
const LOCK: MigrationLockOptions = { lockTable: 'kysely_migration_lock', lockRowId: 'migration_lock' };

interface Statement {
  sql: string;
  parameters: readonly unknown[];
}

/** The migrations and what they send, per engine: what recordMigrations says, for a list of migration names. */
export type RecordedMigrations = Record<Engine, { names: string[]; statements: Statement[] }>;

// The bundle (scripts/build.mjs) carries the recording made at build time from the same sources, so
// a start does not run the Migrator against the recorder; compiled one file per module, it records.
// (JSON text, which esbuild inlines where it is used.)
declare const WHARF_RECORDED_MIGRATIONS: string | undefined;
const prerecorded = (): RecordedMigrations | undefined => (typeof WHARF_RECORDED_MIGRATIONS === 'undefined' ? undefined : JSON.parse(WHARF_RECORDED_MIGRATIONS) as RecordedMigrations);

/**
 * A new database gets every migration's schema in one transaction, without Kysely's Migrator.
 *
 * The Migrator builds and sends each migration's statements one by one, with its bookkeeping
 * (introspection, lock row, one row per migration) around them, and on SQLite without a transaction:
 * on a fresh database that was most of a new registry's start (22 of 165 ms on SQLite; a round trip
 * per statement on PostgreSQL). Here the Migrator runs once against a recorder that answers every
 * query with no rows, which is what an empty database answers, so it says exactly what it would
 * send; what changes the database is then sent in one transaction (on PostgreSQL, the statements
 * without parameters in one round trip), and one row per migration is written with the time.
 * Migrations that read data to backfill find nothing, as they would on an empty database.
 *
 * Returns false, changing nothing, when the database is not empty of migrations (another replica
 * created it meanwhile: the check runs under Kysely's migration lock); the caller then migrates as
 * usual. A later version's new migrations always go through the Migrator.
 */
export async function createFreshSchema(db: Kysely<any>, engine: Engine, provider: MigrationProvider, now: Date): Promise<boolean> {
  const names = Object.keys(await provider.getMigrations());
  const recorded = prerecorded()?.[engine];
  const statements = recorded && recorded.names.join() === names.join() ? recorded.statements : await recordMigrations(engine, provider);
  const adapter = db.getExecutor().adapter;
  return db.connection().execute(async (connection) => {
    await adapter.acquireMigrationLock(connection, LOCK);
    try {
      return await connection.transaction().execute(async (trx) => {
        if (await migrationTableExists(trx, engine)) return false;
        for (const query of batches(statements, engine)) await trx.executeQuery(query);
        const timestamp = now.toISOString();
        await trx.insertInto(MIGRATION_TABLE).values(names.map((name) => ({ name, timestamp }))).execute();
        return true;
      });
    } finally {
      await adapter.releaseMigrationLock(connection, LOCK);
    }
  });
}

/** Whether Kysely's migration table exists (any migration ever ran here). */
export async function migrationTableExists(db: Kysely<any>, engine: Engine): Promise<boolean> {
  const table = engine === 'postgres'
    ? await sql<{ present: boolean }>`select to_regclass(${MIGRATION_TABLE}) is not null as present`.execute(db)
    : await sql<{ present: number }>`select count(*) > 0 as present from sqlite_master where type = 'table' and name = ${MIGRATION_TABLE}`.execute(db);
  return Boolean(table.rows[0]?.present);
}

/** What Kysely's Migrator sends to an empty database of this engine to run every migration, reads left out. */
export async function recordMigrations(engine: Engine, provider: MigrationProvider): Promise<Statement[]> {
  const sent: Statement[] = [];
  const connection: DatabaseConnection = {
    async executeQuery(query) {
      sent.push({ sql: query.sql, parameters: query.parameters });
      return { rows: [] };
    },
    // eslint-disable-next-line require-yield
    async *streamQuery() {
      throw new Error('a migration streamed a query while its statements were being recorded');
    },
  };
  const driver: Driver = {
    async init() {},
    async acquireConnection() { return connection; },
    async beginTransaction() {},
    async commitTransaction() {},
    async rollbackTransaction() {},
    async releaseConnection() {},
    async destroy() {},
  };
  const postgres = engine === 'postgres';
  const recorder = new Kysely<unknown>({
    dialect: {
      createAdapter: () => (postgres ? new PostgresAdapter() : new SqliteAdapter()),
      createDriver: () => driver,
      createIntrospector: (db) => (postgres ? new PostgresIntrospector(db) : new SqliteIntrospector(db)),
      createQueryCompiler: () => (postgres ? new PostgresQueryCompiler() : new SqliteQueryCompiler()),
    },
  });
  const { error } = await new Migrator({ db: recorder, provider }).migrateToLatest();
  await recorder.destroy();
  if (error) throw error;
  // Reads (introspection, the migration lock, the list of migrations run) are the Migrator's own
  // business, and its rows of migrations run are written afterwards with the real time.
  return sent.filter((s) => !/^\s*(select|with)\b/i.test(s.sql) && !s.sql.startsWith(`insert into "${MIGRATION_TABLE}"`));
}

/** On PostgreSQL, runs of statements without parameters go as one simple query (one round trip). */
function batches(statements: readonly Statement[], engine: Engine): CompiledQuery[] {
  if (engine !== 'postgres') return statements.map((s) => CompiledQuery.raw(s.sql, [...s.parameters]));
  const out: CompiledQuery[] = [];
  let run: string[] = [];
  const flush = () => {
    if (run.length > 0) out.push(CompiledQuery.raw(run.join(';\n')));
    run = [];
  };
  for (const s of statements) {
    if (s.parameters.length === 0) {
      run.push(s.sql);
    } else {
      flush();
      out.push(CompiledQuery.raw(s.sql, [...s.parameters]));
    }
  }
  flush();
  return out;
}
