import { sql } from 'kysely';

export type Engine = 'sqlite' | 'postgres';

/**
 * Migrations are written once for both engines: only column types differ (bytewise "C" collation
 * for names in PostgreSQL, so tags and catalog sort lexically like SQLite).
 */
export function columnTypes(engine: Engine) {
  return {
    id: engine === 'postgres' ? 'bigserial' : 'integer',
    name: engine === 'postgres' ? sql`text collate "C"` : sql`text`,
    bytes: engine === 'postgres' ? 'bytea' : 'blob',
    big: 'bigint',
  } as const;
}
