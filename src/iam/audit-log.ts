import { AsyncLocalStorage } from 'node:async_hooks';
import type { Insertable, Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { AuditEventTable, Database } from '../metadata/schema.js';
import { deleteAuditEventsBefore, insertAuditEvents, listAuditEvents, type AuditFilter } from '../metadata/audit.js';
import { PeriodicTask } from '../ops/periodic-task.js';
import { yieldToRequests } from '../metadata/yield.js';
import { principalLabel, type Principal } from './principal.js';

export interface AuditEntry {
  accountId: number | null;
  actor: Principal | string;
  action: string;
  resource: string;
  outcome: 'allow' | 'deny' | 'success' | 'failure';
  source: string;
  detail?: Record<string, unknown>;
  /** Defaults to the request the entry is recorded in (see auditRequests). */
  requestId?: string;
  /** Defaults to the namespace named by `resource` (`repository ns/app`, `namespace ns`, `ns/app:v1`). */
  namespace?: string | null;
}

/** Audit rows per insert statement of a flush. */
export const AUDIT_WRITE_CHUNK = 200;

/**
 * The request an entry is recorded in, so that every record call, deep in IAM or in a route, carries
 * its request ID without each caller passing it along. The HTTP layer enters it per request.
 */
export const auditRequests = new AsyncLocalStorage<{ requestId: string }>();

/** The namespace a resource string names, in the forms the audit records use. */
export function namespaceOfResource(resource: string): string | null {
  const part = '[a-z0-9]+(?:[._-][a-z0-9]+)*';
  const match = new RegExp(`^(?:repository|namespace|image) (${part})(?:[/:@ ]|$)`).exec(resource) ?? new RegExp(`^(${part})/`).exec(resource);
  return match ? match[1]! : null;
}

/**
 * Who did what, when, from where, with what outcome. Writing never fails the request it records.
 * Frequent, identical events (pulls of one image by one principal, repeated logins) are batched:
 * counted in memory and written as one row with a count at each flush, so a rollout of a thousand
 * pulls writes one row, not a thousand.
 */
export class AuditLog {
  private readonly listeners: Array<(entry: AuditEntry) => void> = [];
  private readonly writing = new Set<Promise<void>>();
  private pending = new Map<string, Insertable<AuditEventTable>>();
  private task: PeriodicTask | undefined;

  constructor(private readonly db: Kysely<Database>, private readonly log: Logger, private readonly now: () => number) {}

  /** Told of every entry as it is recorded (metrics count them). */
  onRecord(listener: (entry: AuditEntry) => void): void {
    this.listeners.push(listener);
  }

  /** Writes batched events every `intervalMs`. */
  start(intervalMs: number): void {
    this.task ??= new PeriodicTask(intervalMs, () => this.writePending());
    this.task.start();
  }

  record(entry: AuditEntry): void {
    for (const listener of this.listeners) listener(entry);
    this.write([this.row(entry)]);
  }

  /** Counted with identical entries (same account, actor, action, resource, outcome and source) until the next flush. */
  recordBatched(entry: AuditEntry): void {
    for (const listener of this.listeners) listener(entry);
    const row = this.row(entry);
    const key = JSON.stringify([row.account_id, row.actor, row.action, row.resource, row.outcome, row.source]);
    const seen = this.pending.get(key);
    // The row keeps the first request's ID and time, and the count of all of them.
    if (seen) seen.count = (seen.count as number) + 1;
    else this.pending.set(key, { ...row, count: 1 });
  }

  /** Writes what is batched and waits for every write in progress (tests, shutdown). */
  async flush(): Promise<void> {
    await (this.task ? this.task.runNow() : this.writePending());
    await Promise.all([...this.writing]);
  }

  async stop(): Promise<void> {
    await this.task?.stop();
    await this.writePending();
    await Promise.all([...this.writing]);
  }

  /** Removes events older than `retentionMs`; returns how many. */
  prune(retentionMs: number): Promise<number> {
    return deleteAuditEventsBefore(this.db, this.now() - retentionMs);
  }

  /** One page, newest first, and the cursor of the next when there may be more. */
  async list(accountId: number, limit: number, filter: AuditFilter = {}) {
    const rows = await listAuditEvents(this.db, accountId, limit + 1, filter);
    const page = rows.slice(0, limit);
    const events = page.map((r) => ({
      id: r.id, at: new Date(r.at).toISOString(), actor: r.actor, action: r.action, resource: r.resource,
      outcome: r.outcome, source: r.source, requestId: r.request_id, namespace: r.namespace, count: r.count,
      detail: r.detail ? JSON.parse(r.detail) as unknown : null,
    }));
    return { events, next: rows.length > limit ? String(page[page.length - 1]!.id) : undefined };
  }

  private row(entry: AuditEntry): Insertable<AuditEventTable> {
    const actor = typeof entry.actor === 'string' ? entry.actor : principalLabel(entry.actor);
    const requestId = entry.requestId ?? auditRequests.getStore()?.requestId ?? null;
    const namespace = entry.namespace !== undefined ? entry.namespace : namespaceOfResource(entry.resource);
    return {
      account_id: entry.accountId,
      at: this.now(),
      actor: actor.slice(0, 200),
      action: entry.action,
      resource: entry.resource.slice(0, 500),
      outcome: entry.outcome,
      source: entry.source.slice(0, 100),
      detail: entry.detail ? JSON.stringify(entry.detail) : null,
      request_id: requestId?.slice(0, 64) ?? null,
      namespace: namespace?.slice(0, 200) ?? null,
    };
  }

  private async writePending(): Promise<void> {
    if (this.pending.size === 0) return;
    const rows = [...this.pending.values()];
    this.pending = new Map();
    // One chunk at a time, requests served between them: on SQLite statements run on the event loop,
    // and the chunks of a flush after pulls of thousands of repositories (one batched row each), sent
    // all at once, held it for over 100 ms (the benchmark's scale item, 50,000 repositories).
    for (let i = 0; i < rows.length; i += AUDIT_WRITE_CHUNK) {
      if (i > 0) await yieldToRequests();
      await this.write(rows.slice(i, i + AUDIT_WRITE_CHUNK));
    }
  }

  private write(rows: Insertable<AuditEventTable>[]): Promise<void> {
    const done: Promise<void> = insertAuditEvents(this.db, rows)
      .catch((err: unknown) => this.log.error({ err, events: rows.length }, 'could not write audit events'))
      .finally(() => this.writing.delete(done));
    this.writing.add(done);
    return done;
  }
}
