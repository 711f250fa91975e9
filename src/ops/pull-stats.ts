import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../metadata/schema.js';
import { addPullCounts, type PullCount } from '../metadata/manifests.js';
import { addDailyPulls, dayOf, type DailyPulls } from '../metadata/activity.js';
import { findNamespace } from '../metadata/namespaces.js';
import { namespaceOf } from '../iam/namespace-names.js';
import { yieldToRequests } from '../metadata/yield.js';
import { PeriodicTask } from './periodic-task.js';

/**
 * Images per transaction of a flush. On SQLite statements run on the event loop (better-sqlite3 is
 * synchronous), so this bounds the pause a flush imposes on requests to a few milliseconds; the
 * flush yields to them between transactions.
 */
export const PULL_FLUSH_BATCH = 100;

/**
 * Counts manifest pulls in memory and adds them to the database in batches, so a pull costs no write
 * on its hot path. Flushes never overlap: the next starts an interval after the previous ended.
 */
export class PullStats {
  private pending = new Map<string, PullCount>();
  private readonly task: PeriodicTask;

  constructor(private readonly db: Kysely<Database>, private readonly log: Logger, private readonly now: () => number, intervalMs = 5000, private readonly batchSize = PULL_FLUSH_BATCH) {
    this.task = new PeriodicTask(intervalMs, () => this.writePending());
  }

  start(): void {
    this.task.start();
  }

  record(repository: string, digest: string): void {
    const key = `${repository}@${digest}`;
    const entry = this.pending.get(key);
    if (entry) {
      entry.count++;
      entry.lastPulledAt = this.now();
    } else {
      this.pending.set(key, { repository, digest, count: 1, lastPulledAt: this.now() });
    }
  }

  /** Writes the counts recorded so far (after a flush in progress, never beside it). */
  flush(): Promise<void> {
    return this.task.runNow();
  }

  private async writePending(): Promise<void> {
    if (this.pending.size === 0) return;
    const counts = [...this.pending.values()];
    this.pending = new Map();
    for (let i = 0; i < counts.length; i += this.batchSize) {
      const batch = counts.slice(i, i + this.batchSize);
      try {
        await addPullCounts(this.db, batch);
      } catch (err) {
        // The transaction is atomic: none of this batch was counted, so it and the rest wait for the next flush.
        for (const entry of counts.slice(i)) this.restore(entry);
        this.log.warn({ err, images: counts.length - i }, 'could not record pull statistics; will retry at the next flush');
        return;
      }
      await this.countDays(batch);
      await yieldToRequests();
    }
  }

  /**
   * The batch's pulls by namespace and day, for the console's pictures. Best effort: the pull counts
   * are already written, so a failure here loses these daily figures rather than count pulls twice.
   */
  private async countDays(batch: PullCount[]): Promise<void> {
    try {
      const owners = new Map<string, number | undefined>();
      const days = new Map<string, DailyPulls>();
      for (const pull of batch) {
        const namespace = namespaceOf(pull.repository).namespace;
        if (!owners.has(namespace)) owners.set(namespace, (await findNamespace(this.db, namespace))?.account_id);
        const accountId = owners.get(namespace);
        if (accountId === undefined) continue;
        const day = dayOf(pull.lastPulledAt);
        const key = `${accountId} ${namespace} ${day}`;
        const entry = days.get(key);
        if (entry) entry.pulls += pull.count;
        else days.set(key, { accountId, namespace, day, pulls: pull.count });
      }
      await addDailyPulls(this.db, [...days.values()]);
    } catch (err) {
      this.log.warn({ err }, 'could not record pulls per day (the pull counts are recorded)');
    }
  }

  private restore(entry: PullCount): void {
    const key = `${entry.repository}@${entry.digest}`;
    const newer = this.pending.get(key);
    if (newer) newer.count += entry.count;
    else this.pending.set(key, entry);
  }

  async stop(): Promise<void> {
    await this.task.stop();
    await this.writePending();
  }
}
