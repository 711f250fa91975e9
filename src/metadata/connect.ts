import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type SQLite from 'better-sqlite3';
import type { PoolClient as PgClient } from 'pg';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, SqliteDriver, sql, type DatabaseConnection, type Driver, type MigrationProvider, type SqliteDatabase, type SqliteDialectConfig } from 'kysely';
import { WalSync } from './wal-sync.js';
import { createFreshSchema, migrationTableExists } from './fresh-schema.js';
import type { Database } from './schema.js';
import { WharfMigrations, type Engine } from './migrations/index.js';

export interface MetadataOptions {
  engine: Engine;
  sqlitePath: string;
  url: string;
  poolSize: number;
  /** Seconds to wait for a PostgreSQL connection, new or pooled (0: forever). */
  connectTimeout?: number;
  /** PostgreSQL: named prepared statements (database.prepareStatements); default true. */
  prepareStatements?: boolean;
  /** Told when PostgreSQL ends an idle pooled connection (the pool replaces it). */
  onConnectionError?: (err: Error) => void;
}

export interface MetadataDb {
  readonly engine: Engine;
  readonly db: Kysely<Database>;
  /** SQLite only: the group commit every write waits for. */
  readonly walSync?: WalSync;
  /** PostgreSQL pool use (metrics); undefined on SQLite. */
  poolStats(): { total: number; idle: number; waiting: number } | undefined;
  /** True when the database has run exactly the migrations this version knows (readiness). */
  migrationsCurrent(): Promise<boolean>;
  close(): Promise<void>;
}

export async function connectMetadata(options: MetadataOptions): Promise<MetadataDb> {
  let db: Kysely<Database>;
  let walSync: WalSync | undefined;
  let poolStats: MetadataDb['poolStats'] = () => undefined;
  // Statements are prepared only once the schema is current: a migration may change what an
  // earlier statement of the same text returns.
  const preparing = { on: false };
  // Each driver is loaded only for its engine: the other one costs start-up time for nothing
  // (pg alone loads undici through its runtime detection).
  if (options.engine === 'sqlite') {
    const { default: SQLite } = await import('better-sqlite3');
    mkdirSync(path.dirname(options.sqlitePath), { recursive: true });
    const sqlite = new SQLite(options.sqlitePath);
    // WAL: readers never block the writer. Every write is durable before it is acknowledged, so a
    // push survives a power loss or an OS crash too: NORMAL writes the WAL at commit and WalSync
    // fsyncs it off the event loop, one sync for all the commits of the moment (group commit; FULL
    // would fsync each commit on the event loop: see the manifest-put item of the benchmark).
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    walSync = new WalSync(`${options.sqlitePath}-wal`);
    const statements = withStatementCache(sqlite);
    db = new Kysely<Database>({ dialect: new DurableSqliteDialect({ database: statements.database }, statements, walSync) });
  } else {
    const { default: pg } = await import('pg');
    // bigint columns (sizes, times) fit in a double for any realistic registry; read them as numbers.
    pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));
    const pool = new pg.Pool({ connectionString: options.url, max: options.poolSize, connectionTimeoutMillis: Math.round((options.connectTimeout ?? 0) * 1000) });
    // An idle connection that PostgreSQL ends (restart, failover, pg_terminate_backend, idle timeouts)
    // is an 'error' event on the pool; unheard, it would kill the process. The pool drops that
    // connection and the next query opens a new one, so it is only worth a log line.
    pool.on('error', (err) => options.onConnectionError?.(err));
    // A connection that drops while checked out (between the queries of a transaction, say) emits
    // 'error' on its client, not the pool; without a listener that would end the process. The query
    // in progress fails on its own and the pool discards the client.
    pool.on('connect', (client) => {
      client.on('error', (err) => options.onConnectionError?.(err));
      if (options.prepareStatements !== false) prepareStatementsOn(client, preparing);
    });
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    poolStats = () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount });
  }
  const provider = new WharfMigrations(options.engine);
  if (!(await atLatestMigration(db, options.engine, provider))) {
    // A new database gets the whole schema in one transaction; an existing one runs what it lacks.
    const error = await (async () => {
      if (!(await migrationTableExists(db, options.engine)) && (await createFreshSchema(db, options.engine, provider, new Date()))) return undefined;
      return (await new Migrator({ db, provider }).migrateToLatest()).error;
    })().catch((err: unknown) => err);
    if (error) {
      await db.destroy();
      throw new Error(`database migration failed: ${(error as Error).message ?? String(error)}`);
    }
  }
  preparing.on = true;
  return {
    engine: options.engine,
    db,
    walSync,
    poolStats: () => poolStats(),
    migrationsCurrent: () => atLatestMigration(db, options.engine, provider),
    async close() {
      await db.destroy();
      await walSync?.close();
    },
  };
}

/** Distinct statements a connection prepares at most; others run unnamed (parsed each time). */
const PREPARED_PER_CONNECTION = 200;

/**
 * Sends the statements Kysely runs with parameters as named prepared statements: PostgreSQL then
 * parses and plans a statement once per connection, not at each request (most requests are one
 * or two short statements, where parsing and planning cost as much as running them). The name is
 * a hash of the text, so the same text gets the same name on every connection. Statements without
 * parameters (BEGIN, COMMIT) stay unnamed, and so do texts past the bound (lists of varying length
 * make new texts) and those with a `*`: PostgreSQL refuses to run a prepared `select *` once a
 * column was added (another replica's migration in a rolling upgrade) until the connection ends.
 */
function prepareStatementsOn(client: PgClient, preparing: { on: boolean }): void {
  const prepared = new Set<string>();
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as { query: unknown }).query = (...args: unknown[]) => {
    const [text, values] = args;
    if (!preparing.on || args.length !== 2 || typeof text !== 'string' || !Array.isArray(values) || values.length === 0 || text.includes('*')) return query(...args);
    const name = `w${createHash('sha1').update(text).digest('base64url').slice(0, 20)}`;
    if (!prepared.has(name)) {
      if (prepared.size >= PREPARED_PER_CONNECTION) return query(...args);
      prepared.add(name);
    }
    return query({ name, text, values });
  };
}

/**
 * True when the migrations recorded as run (Kysely's kysely_migration table) are exactly the
 * known ones, so the Migrator would have nothing to do. It would still take its lock and read
 * its tables, a good share of a warm start; any doubt (no table yet, a pending or an unknown
 * migration, an error) leaves the decision to the Migrator.
 */
async function atLatestMigration(db: Kysely<Database>, engine: Engine, provider: MigrationProvider): Promise<boolean> {
  try {
    if (!(await migrationTableExists(db, engine))) return false;
    const done = new Set((await sql<{ name: string }>`select name from kysely_migration`.execute(db)).rows.map((r) => r.name));
    const known = Object.keys(await provider.getMigrations());
    return done.size === known.length && known.every((name) => done.has(name));
  } catch {
    return false;
  }
}

/**
 * Kysely's SQLite driver, and a writer waits for its commit to be on disk (WalSync) after giving the
 * one connection back, so other requests go on meanwhile and share the next sync.
 */
class DurableSqliteDriver extends SqliteDriver {
  constructor(config: SqliteDialectConfig, private readonly statements: StatementCache, private readonly walSync: WalSync) {
    super(config);
  }

  override async releaseConnection(connection?: DatabaseConnection): Promise<void> {
    const wrote = this.statements.takeWrites();
    await (super.releaseConnection as (c?: DatabaseConnection) => Promise<void>)(connection);
    if (wrote) await this.walSync.sync();
  }
}

class DurableSqliteDialect extends SqliteDialect {
  constructor(private readonly config: SqliteDialectConfig, private readonly statements: StatementCache, private readonly walSync: WalSync) {
    super(config);
  }

  override createDriver(): Driver {
    return new DurableSqliteDriver(this.config, this.statements, this.walSync);
  }
}

interface StatementCache {
  database: SqliteDatabase;
  /** Whether a statement that writes ran since the last call. */
  takeWrites(): boolean;
}

/** Prepared statements kept at most; the registry issues a few dozen distinct SQL texts. */
const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely prepares every query anew; preparing costs more than running a point lookup. Statements
 * are reused by SQL text (parameters are bound per call). A statement still being iterated by a
 * streaming query is busy, so that caller gets a fresh one.
 */
function withStatementCache(sqlite: SQLite.Database): StatementCache {
  const cache = new Map<string, { statement: SQLite.Statement; writes: boolean }>();
  let nothing: SQLite.Statement | undefined;
  let wrote = false;
  const database: SqliteDatabase = {
    close: () => sqlite.close(),
    prepare(sqlText: string) {
      // SQLite rolls a transaction back by itself when a statement fails with SQLITE_FULL (also
      // IOERR, NOMEM, BUSY). Kysely then sends its own rollback, which would fail ("no transaction
      // is active") and replace the error that says what happened, so it becomes a no-op.
      if (sqlText === 'rollback' && !sqlite.inTransaction) return (nothing ??= sqlite.prepare('select 1 where 0'));
      const cached = cache.get(sqlText);
      if (cached && !cached.statement.busy) {
        wrote ||= cached.writes;
        return cached.statement;
      }
      const statement = sqlite.prepare(sqlText);
      // Statements that return no rows change something (transaction control and pragmas aside);
      // a RETURNING statement returns rows and writes, so it counts by its verb.
      const writes = (!statement.reader || /^\s*(insert|update|delete|replace)\b/i.test(sqlText)) && !/^\s*(begin|commit|end|rollback|savepoint|release|pragma)\b/i.test(sqlText);
      wrote ||= writes;
      if (!cached) {
        cache.set(sqlText, { statement, writes });
        if (cache.size > STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      }
      return statement;
    },
  };
  return {
    database,
    takeWrites() {
      const result = wrote;
      wrote = false;
      return result;
    },
  };
}

