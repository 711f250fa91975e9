import { sql, type Kysely, type Migration } from 'kysely';
import type { Engine } from './column-types.js';

/**
 * Leaves the unique (repository_id, digest) index as the only index of manifests that a lookup by
 * repository and digest can use. PostgreSQL estimates `repository_id = $1` at the average
 * repository, about one manifest when most repositories hold one image; it then took any index
 * leading with repository_id, the narrowest first, and filtered on the digest: 30,000 manifests
 * read to serve one pull from a repository with 30,000 tags.
 * - manifests_repository_created: no query needs it (the image lists sort after joining tags and
 *   repositories; retention reads whole namespaces).
 * - manifests_subject now holds only referrers (subject_digest set), so only the referrers query,
 *   whose `subject_digest = $2` implies it, can use it.
 */
export function migration(_engine: Engine): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.dropIndex('manifests_repository_created').execute();
      await db.schema.dropIndex('manifests_subject').execute();
      await db.schema.createIndex('manifests_subject').on('manifests').columns(['repository_id', 'subject_digest'])
        .where(sql.ref('subject_digest'), 'is not', null).execute();
    },
  };
}
