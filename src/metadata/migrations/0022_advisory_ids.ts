import { sql, type Kysely, type Migration } from 'kysely';
import type { Engine } from './column-types.js';

/** Every ID an advisory record goes by: its own, its aliases and its upstream IDs. */
function idsOfRecord(text: string, id: string): string[] {
  try {
    const json = JSON.parse(text) as { aliases?: unknown; upstream?: unknown };
    const list = (x: unknown): string[] => (Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string' && s !== '') : []);
    return [...new Set([id, ...list(json.aliases), ...list(json.upstream)])];
  } catch {
    return [id];
  }
}

export function migration(_engine: Engine): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // Records of one vulnerability from different databases find each other through the IDs
      // they share (a DSA's CVE alias is a DEBIAN-CVE record's upstream ID): the index for
      // merging findings and borrowing a severity from an alias record.
      await db.schema.createTable('advisory_ids')
        .addColumn('alias_id', 'text', (c) => c.notNull())
        .addColumn('advisory_id', 'text', (c) => c.notNull().references('advisories.id').onDelete('cascade'))
        .addPrimaryKeyConstraint('advisory_ids_pk', ['alias_id', 'advisory_id'])
        .execute();
      await db.schema.createIndex('advisory_ids_advisory').on('advisory_ids').column('advisory_id').execute();
      // Advisories imported before this index existed, read a page at a time.
      let after = '';
      for (;;) {
        const page = await sql<{ id: string; record: string }>`SELECT id, record FROM advisories WHERE id > ${after} ORDER BY id LIMIT 500`.execute(db);
        if (page.rows.length === 0) break;
        const rows = page.rows.flatMap((r) => idsOfRecord(r.record, r.id).map((alias) => ({ alias_id: alias, advisory_id: r.id })));
        await (db as Kysely<{ advisory_ids: { alias_id: string; advisory_id: string } }>).insertInto('advisory_ids').values(rows).execute();
        after = page.rows[page.rows.length - 1]!.id;
      }
    },
  };
}
