import { sql, type Kysely, type Migration } from 'kysely';
import type { Engine } from './column-types.js';

export function migration(_engine: Engine): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // The garbage collector asks, per link, whether a manifest of the link's repository references
      // the digest. Through manifests that walked either every manifest of the repository (a
      // repository of many images) or every reference of the digest in every repository (a base layer
      // shared by many repositories): quadratic either way, a stall of seconds at 5,000 repositories.
      // The repository on the reference itself makes it one index probe.
      await db.schema.alterTable('manifest_references').addColumn('repository_id', 'integer').execute();
      await sql`UPDATE manifest_references SET repository_id = (SELECT m.repository_id FROM manifests m WHERE m.id = manifest_references.manifest_id)`.execute(db);
      await db.schema.createIndex('manifest_references_repository_digest').on('manifest_references').columns(['repository_id', 'digest']).execute();
    },
  };
}
