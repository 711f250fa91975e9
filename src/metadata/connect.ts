import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, type SqliteDatabase } from 'kysely';
import type { Database } from './schema.js';
import { WharfMigrations, type Engine } from './migrations.js';

export interface MetadataOptions {
  engine: Engine;
  sqlitePath: string;
  url: string;
  poolSize: number;
  /** Told when PostgreSQL ends an idle pooled connection (the pool replaces it). */
  onConnectionError?: (err: Error) => void;
}

export interface MetadataDb {
  readonly engine: Engine;
  readonly db: Kysely<Database>;
  close(): Promise<void>;
}

// bigint columns (sizes, times) fit in a double for any realistic registry; read them as numbers.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export async function connectMetadata(options: MetadataOptions): Promise<MetadataDb> {
  let db: Kysely<Database>;
  if (options.engine === 'sqlite') {
    mkdirSync(path.dirname(options.sqlitePath), { recursive: true });
    const sqlite = new SQLite(options.sqlitePath);
    // WAL + synchronous=NORMAL: readers never block the writer, and a committed transaction
    // survives a process crash (only an OS crash can lose the last commits, never corrupt).
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  } else {
    const pool = new pg.Pool({ connectionString: options.url, max: options.poolSize });
    // An idle connection that PostgreSQL ends (restart, failover, pg_terminate_backend, idle timeouts)
    // is an 'error' event on the pool; unheard, it would kill the process. The pool drops that
    // connection and the next query opens a new one, so it is only worth a log line.
    pool.on('error', (err) => options.onConnectionError?.(err));
    // A connection that drops while checked out (between the queries of a transaction, say) emits
    // 'error' on its client, not the pool; without a listener that would end the process. The query
    // in progress fails on its own and the pool discards the client.
    pool.on('connect', (client) => client.on('error', (err) => options.onConnectionError?.(err)));
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  }
  const migrator = new Migrator({ db, provider: new WharfMigrations(options.engine) });
  const { error } = await migrator.migrateToLatest();
  if (error) {
    await db.destroy();
    throw new Error(`database migration failed: ${(error as Error).message ?? String(error)}`);
  }
  return { engine: options.engine, db, close: () => db.destroy() };
}

/** Prepared statements kept at most; the registry issues a few dozen distinct SQL texts. */
const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely prepares every query anew; preparing costs more than running a point lookup. Statements
 * are reused by SQL text (parameters are bound per call). A statement still being iterated by a
 * streaming query is busy, so that caller gets a fresh one.
 */
function withStatementCache(sqlite: SQLite.Database): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sqlText: string) {
      const cached = cache.get(sqlText);
      if (cached && !cached.busy) return cached;
      const statement = sqlite.prepare(sqlText);
      if (!cached) {
        cache.set(sqlText, statement);
        if (cache.size > STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      }
      return statement;
    },
  };
}

