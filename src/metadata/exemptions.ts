import type { Insertable, Kysely } from 'kysely';
import type { Database, ExemptionTable } from './schema.js';

type Db = Kysely<Database>;

export async function insertExemption(db: Db, row: Insertable<ExemptionTable>): Promise<number> {
  return (await db.insertInto('exemptions').values(row).returning('id').executeTakeFirstOrThrow()).id;
}

export async function listExemptions(db: Db, accountId: number) {
  return db.selectFrom('exemptions').selectAll().where('account_id', '=', accountId).orderBy('id').execute();
}

export async function findExemption(db: Db, id: number) {
  return db.selectFrom('exemptions').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function deleteExemption(db: Db, id: number): Promise<void> {
  await db.deleteFrom('exemptions').where('id', '=', id).execute();
}
