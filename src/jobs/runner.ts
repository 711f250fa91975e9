import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../metadata/schema.js';
import * as jobs from '../metadata/jobs.js';

export type JobHandler = (payload: unknown, job: jobs.JobRow) => Promise<void>;

export interface RunnerOptions {
  /** Jobs run at once by this process. */
  concurrency: number;
  /** How long a leased job may run before another replica may take it over. */
  leaseMs: number;
  pollMs: number;
  maxAttempts: number;
  /** Told how each job run ended and how long it took (metrics). */
  onJobDone?(kind: string, outcome: 'success' | 'failure', seconds: number): void;
}

/**
 * Runs durable jobs from the metadata store: any replica can take any job, a crashed one's jobs are
 * taken over when their lease expires, failures retry with backoff.
 */
export class JobRunner {
  private readonly handlers = new Map<string, JobHandler>();
  private readonly worker = randomUUID();
  private running = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly idle = new Set<() => void>();

  constructor(private readonly db: Kysely<Database>, private readonly log: Logger, private readonly now: () => number, private readonly options: RunnerOptions) {}

  register(kind: string, handler: JobHandler): void {
    this.handlers.set(kind, handler);
  }

  async enqueue(kind: string, payload: unknown, dedupeKey: string | null = null, delayMs = 0): Promise<void> {
    const now = this.now();
    await jobs.insertJob(this.db, { kind, dedupeKey, payload, runAfter: now + delayMs, now });
    this.poke();
  }

  start(): void {
    this.timer = setInterval(() => this.poke(), this.options.pollMs);
    this.timer.unref();
    this.poke();
  }

  /** Looks for work now instead of at the next poll. */
  poke(): void {
    if (this.stopped || !this.timer) return;
    while (this.running < this.options.concurrency) {
      this.running++;
      void this.runOne().catch((err: unknown) => {
        // The database went away mid-job (a restart, a failover): the lease expires and the job runs again.
        this.log.error({ err }, 'job bookkeeping failed');
      }).finally(() => {
        this.running--;
        if (this.running === 0) {
          for (const resolve of this.idle) resolve();
          this.idle.clear();
        }
      });
    }
  }

  private async runOne(): Promise<void> {
    let job: jobs.JobRow | undefined;
    try {
      job = await jobs.leaseJob(this.db, [...this.handlers.keys()], this.worker, this.now(), this.options.leaseMs);
    } catch (err) {
      this.log.error({ err }, 'could not lease a job');
      return;
    }
    if (!job) return;
    const handler = this.handlers.get(job.kind)!;
    const started = performance.now();
    try {
      await handler(JSON.parse(job.payload) as unknown, job);
      this.options.onJobDone?.(job.kind, 'success', (performance.now() - started) / 1000);
      await jobs.completeJob(this.db, job.id);
    } catch (err) {
      this.options.onJobDone?.(job.kind, 'failure', (performance.now() - started) / 1000);
      const message = (err as Error).message ?? String(err);
      const retry = job.attempts < this.options.maxAttempts ? this.now() + Math.min(2 ** job.attempts * 1000, 300_000) : null;
      this.log.warn({ job: job.id, kind: job.kind, attempts: job.attempts, err: message }, retry ? 'job failed; will retry' : 'job failed for good');
      await jobs.failJob(this.db, job.id, message.slice(0, 2000), retry).catch(() => undefined);
    }
    // There may be more work queued behind this one.
    setImmediate(() => this.poke());
  }

  /** Resolves when no job is running (tests). */
  async drain(): Promise<void> {
    for (;;) {
      while (this.running > 0) await new Promise<void>((resolve) => this.idle.add(resolve));
      const pending = await this.db.selectFrom('jobs').select('id').where('state', '=', 'pending').where('run_after', '<=', this.now())
        .where('kind', 'in', [...this.handlers.keys()]).limit(1).executeTakeFirst();
      if (!pending) return;
      this.poke();
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    while (this.running > 0) await new Promise<void>((resolve) => this.idle.add(resolve));
  }
}
