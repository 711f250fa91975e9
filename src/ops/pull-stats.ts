import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../metadata/schema.js';

/**
 * Counts manifest pulls in memory and adds them to the database in batches, so a pull costs no write
 * on its hot path. Increments (not overwrites) keep replicas from losing each other's counts.
 */
export class PullStats {
  private pending = new Map<string, { repository: string; digest: string; count: number; last: number }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly db: Kysely<Database>, private readonly log: Logger, private readonly now: () => number, private readonly intervalMs = 5000) {}

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.intervalMs);
    this.timer.unref();
  }

  record(repository: string, digest: string): void {
    const key = `${repository}@${digest}`;
    const entry = this.pending.get(key);
    if (entry) {
      entry.count++;
      entry.last = this.now();
    } else {
      this.pending.set(key, { repository, digest, count: 1, last: this.now() });
    }
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    try {
      for (const entry of batch) {
        await this.db.updateTable('manifests')
          .set((eb) => ({ pull_count: eb('pull_count', '+', entry.count), last_pulled_at: entry.last }))
          .where('digest', '=', entry.digest)
          .where('repository_id', '=', (eb) => eb.selectFrom('repositories').select('id').where('name', '=', entry.repository))
          .execute();
      }
    } catch (err) {
      this.log.warn({ err }, 'could not record pull statistics');
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }
}
