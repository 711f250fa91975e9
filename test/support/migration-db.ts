import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import { WharfMigrations } from '../../src/metadata/migrations/index.js';
import type { Database } from '../../src/metadata/schema.js';
import { createTestDatabase, type EngineName } from './server.js';

/** An empty metadata database of `engine` with Wharf's migrator, for tests that migrate step by step. */
export async function migrationTestDatabase(engine: EngineName): Promise<{ db: Kysely<Database>; migrator: Migrator; cleanup: () => Promise<void> }> {
  let db: Kysely<Database>;
  let cleanup: () => Promise<void>;
  if (engine === 'sqlite') {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wharf-migration-'));
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: new SQLite(path.join(dir, 'meta.db')) }) });
    cleanup = async () => { await db.destroy(); rmSync(dir, { recursive: true, force: true }); };
  } else {
    const created = await createTestDatabase();
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: created.url, max: 2 }) }) });
    cleanup = async () => { await db.destroy(); await created.drop(); };
  }
  return { db, migrator: new Migrator({ db, provider: new WharfMigrations(engine) }), cleanup };
}
