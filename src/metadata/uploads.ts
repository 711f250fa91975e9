import type { Kysely } from 'kysely';
import type { Database, UploadTable } from './schema.js';

type Db = Kysely<Database>;

export interface UploadSession {
  id: string;
  repositoryId: number;
  repositoryName: string;
  size: number;
  createdAt: number;
  updatedAt: number;
}

export async function insertUpload(db: Db, upload: UploadTable): Promise<void> {
  await db.insertInto('uploads').values(upload).execute();
}

export async function findUpload(db: Db, repositoryName: string, id: string): Promise<UploadSession | undefined> {
  const row = await db.selectFrom('uploads as u')
    .innerJoin('repositories as r', 'r.id', 'u.repository_id')
    .select(['u.id', 'u.repository_id', 'r.name', 'u.size', 'u.created_at', 'u.updated_at'])
    .where('u.id', '=', id)
    .where('r.name', '=', repositoryName)
    .executeTakeFirst();
  return row && { id: row.id, repositoryId: row.repository_id, repositoryName: row.name, size: row.size, createdAt: row.created_at, updatedAt: row.updated_at };
}

/** Records the new size only if nobody else moved the upload meanwhile (compare-and-set on size). */
export async function advanceUpload(db: Db, id: string, fromSize: number, toSize: number, now: number): Promise<boolean> {
  const result = await db.updateTable('uploads').set({ size: toSize, updated_at: now })
    .where('id', '=', id).where('size', '=', fromSize).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function deleteUpload(db: Db, id: string): Promise<boolean> {
  const result = await db.deleteFrom('uploads').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function listExpiredUploads(db: Db, updatedBefore: number, limit: number): Promise<string[]> {
  const rows = await db.selectFrom('uploads').select('id').where('updated_at', '<', updatedBefore).limit(limit).execute();
  return rows.map((r) => r.id);
}

export async function uploadExists(db: Db, id: string): Promise<boolean> {
  return (await db.selectFrom('uploads').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
}
