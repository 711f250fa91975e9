import type { Migration, MigrationProvider } from 'kysely';
import type { Engine } from './column-types.js';
import { migration as registryCore } from './0001_registry_core.js';
import { migration as iam } from './0002_iam.js';
import { migration as management } from './0003_management.js';
import { migration as scanner } from './0004_scanner.js';
import { migration as loginThrottle } from './0006_login_throttle.js';
import { migration as scaleIndexes } from './0007_scale_indexes.js';
import { migration as storageLifecycle } from './0008_storage_lifecycle.js';
import { migration as immutableTags } from './0010_immutable_tags.js';
import { migration as webhooks } from './0011_webhooks.js';
import { migration as auditTrail } from './0013_audit_trail.js';
import { migration as signatures } from './0015_signatures.js';
import { migration as trustKeys } from './0016_trust_keys.js';
import { migration as imagePolicies } from './0017_image_policies.js';
import { migration as dailyUsage } from './0019_daily_usage.js';
import { migration as vulndbFeed } from './0020_vulndb_feed.js';
import { migration as advisoryIds } from './0022_advisory_ids.js';
import { migration as vaExtras } from './0024_va_extras.js';
import { migration as referenceRepositories } from './0025_reference_repositories.js';
import { migration as scanReports } from './0026_scan_reports.js';

export type { Engine } from './column-types.js';

/** Every migration in order, one file each (Kysely's convention); a new one is a new file listed here. */
const all: Record<string, (engine: Engine) => Migration> = {
  '0001_registry_core': registryCore,
  '0002_iam': iam,
  '0003_management': management,
  '0004_scanner': scanner,
  '0006_login_throttle': loginThrottle,
  '0007_scale_indexes': scaleIndexes,
  '0008_storage_lifecycle': storageLifecycle,
  '0010_immutable_tags': immutableTags,
  '0011_webhooks': webhooks,
  '0013_audit_trail': auditTrail,
  '0015_signatures': signatures,
  '0016_trust_keys': trustKeys,
  '0017_image_policies': imagePolicies,
  '0019_daily_usage': dailyUsage,
  '0020_vulndb_feed': vulndbFeed,
  '0022_advisory_ids': advisoryIds,
  '0024_va_extras': vaExtras,
  '0025_reference_repositories': referenceRepositories,
  '0026_scan_reports': scanReports,
};

export class WharfMigrations implements MigrationProvider {
  constructor(private readonly engine: Engine) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return Object.fromEntries(Object.entries(all).map(([name, make]) => [name, make(this.engine)]));
  }
}
