import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

type Db = Kysely<Database>;

export interface ImmutableTagRuleRow {
  repository: string;
  tags: string;
}

/** The rules of a namespace, found by its name (what a push knows), in their order. */
export async function rulesOfNamespace(db: Db, namespace: string): Promise<ImmutableTagRuleRow[]> {
  return db.selectFrom('immutable_tag_rules as r').innerJoin('namespaces as n', 'n.id', 'r.namespace_id')
    .select(['r.repository', 'r.tags']).where('n.name', '=', namespace).orderBy('r.position').execute();
}

/** Replaces the namespace's rules with `rules`, in one transaction. */
export async function replaceRules(db: Db, namespaceId: number, rules: ImmutableTagRuleRow[]): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('immutable_tag_rules').where('namespace_id', '=', namespaceId).execute();
    if (rules.length === 0) return;
    await trx.insertInto('immutable_tag_rules')
      .values(rules.map((r, position) => ({ namespace_id: namespaceId, position, repository: r.repository, tags: r.tags })))
      .execute();
  });
}

/**
 * The tags that name `digest` in the repository: its own, and those of the indexes that list it as
 * a platform (deleting a platform would break the tagged index).
 */
export async function tagsHoldingManifest(db: Db, repositoryId: number, digest: string): Promise<string[]> {
  const own = await db.selectFrom('tags').select('name').where('repository_id', '=', repositoryId).where('manifest_digest', '=', digest).execute();
  const viaIndex = await db.selectFrom('manifest_references as mr').innerJoin('manifests as m', 'm.id', 'mr.manifest_id')
    .innerJoin('tags as t', (join) => join.onRef('t.repository_id', '=', 'm.repository_id').onRef('t.manifest_digest', '=', 'm.digest'))
    .select('t.name').where('m.repository_id', '=', repositoryId).where('mr.digest', '=', digest).where('mr.kind', '=', 'manifest')
    .execute();
  return [...new Set([...own, ...viaIndex].map((r) => r.name))].sort();
}
