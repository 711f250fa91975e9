import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { WharfConfig } from '../config/schema.js';
import type { Database } from '../metadata/schema.js';
import type { Registry } from '../registry/registry.js';
import { GcBusyError, type GarbageCollector } from '../registry/garbage-collector.js';
import { FeedBusyError, type FeedSync } from '../scanner/feed/sync.js';
import type { AuditLog } from '../iam/audit-log.js';
import { PeriodicTask } from './periodic-task.js';
import type { RetentionService } from './retention.js';
import { recordStorageSnapshots } from './storage-snapshots.js';

/** How often the storage snapshots are recorded (at most: with the maintenance runs). */
const SNAPSHOT_EVERY_MS = 3600_000;

export interface ScheduleDeps {
  config: WharfConfig;
  logger: Logger;
  now: () => number;
  db: Kysely<Database>;
  registry: Registry;
  retention: RetentionService;
  gc: GarbageCollector;
  feed: FeedSync;
  audit: AuditLog;
}

/**
 * The registry's housekeeping on its schedules: abandoned uploads, expired trash, retention runs,
 * storage snapshots and audit pruning, garbage collection and the advisory feed. Work that must
 * happen once across replicas takes a lease inside the task; the schedules run on every replica.
 */
export function startSchedules({ config, logger, now, db, registry, retention, gc, feed, audit }: ScheduleDeps): { stop(): Promise<void> } {
  const purge = async (): Promise<void> => {
    try {
      const purged = await registry.uploads.purgeExpired();
      if (purged > 0) logger.info({ purged }, 'removed abandoned upload sessions');
    } catch (err) {
      logger.error({ err }, 'purging abandoned uploads failed');
    }
  };
  // Periodic tasks never overlap themselves (a slow purge or retention run is not joined by the next).
  const purgeTask = new PeriodicTask(Math.max(config.registry.uploadPurgeInterval, 1) * 1000, purge);
  purgeTask.start(true);

  // Expired trash goes, and retention policies whose daily run is due run (one replica each).
  let lastSnapshot = Number.NEGATIVE_INFINITY;
  const maintain = async (): Promise<void> => {
    try {
      const purged = await registry.images.purgeExpiredTrash();
      if (purged > 0) logger.info({ purged }, 'purged expired images from the trash');
      await retention.runScheduled();
      // The console's storage picture is daily: an hourly figure is plenty, and the walk over every
      // blob link is not free on a large registry.
      if (now() - lastSnapshot >= SNAPSHOT_EVERY_MS) {
        await recordStorageSnapshots(db, now());
        lastSnapshot = now();
      }
      if (config.audit.retention > 0) {
        const pruned = await audit.prune(config.audit.retention * 1000);
        if (pruned > 0) logger.info({ pruned }, 'deleted audit events older than audit.retention');
      }
    } catch (err) {
      logger.error({ err }, 'maintenance failed');
    }
  };
  const maintenanceTask = new PeriodicTask(Math.max(config.registry.maintenanceInterval, 1) * 1000, maintain);
  maintenanceTask.start();
  // Garbage collection on its schedule: one replica at a time (the lease), never two runs here at once.
  const gcTask = config.storage.gcInterval > 0
    ? new PeriodicTask(config.storage.gcInterval * 1000, async () => {
      try {
        await gc.run({ trigger: 'schedule' });
      } catch (err) {
        if (!(err instanceof GcBusyError) && !gc.stopping) logger.error({ err }, 'garbage collection failed');
      }
    })
    : undefined;
  gcTask?.start();
  // The advisory feed on its schedule (FeedSync.syncIfDue says when a sync is due), looked at every
  // five minutes at most; the lease keeps it to one replica.
  const feedTask = config.scanner.enabled && config.scanner.syncInterval > 0
    ? new PeriodicTask(Math.min(config.scanner.syncInterval, 300) * 1000, async () => {
      try {
        await feed.syncIfDue(config.scanner.syncInterval * 1000);
      } catch (err) {
        if (!(err instanceof FeedBusyError)) logger.error({ err }, 'syncing the vulnerability data failed');
      }
    })
    : undefined;
  feedTask?.start(true);
  return {
    async stop() {
      await Promise.all([purgeTask.stop(), maintenanceTask.stop(), gcTask?.stop(), feedTask?.stop()]);
    },
  };
}
