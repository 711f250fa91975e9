import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../metadata/schema.js';
import { insertAuditEvent, listAuditEvents } from '../metadata/audit.js';
import { principalLabel, type Principal } from './principal.js';

export interface AuditEntry {
  accountId: number | null;
  actor: Principal | string;
  action: string;
  resource: string;
  outcome: 'allow' | 'deny' | 'success' | 'failure';
  source: string;
  detail?: Record<string, unknown>;
}

/** Who did what, when, from where, with what outcome. Writing never fails the request it records. */
export class AuditLog {
  private readonly listeners: Array<(entry: AuditEntry) => void> = [];

  constructor(private readonly db: Kysely<Database>, private readonly log: Logger, private readonly now: () => number) {}

  /** Told of every entry as it is recorded (metrics count them). */
  onRecord(listener: (entry: AuditEntry) => void): void {
    this.listeners.push(listener);
  }

  record(entry: AuditEntry): void {
    for (const listener of this.listeners) listener(entry);
    const actor = typeof entry.actor === 'string' ? entry.actor : principalLabel(entry.actor);
    insertAuditEvent(this.db, {
      account_id: entry.accountId,
      at: this.now(),
      actor: actor.slice(0, 200),
      action: entry.action,
      resource: entry.resource.slice(0, 500),
      outcome: entry.outcome,
      source: entry.source.slice(0, 100),
      detail: entry.detail ? JSON.stringify(entry.detail) : null,
    }).catch((err: unknown) => this.log.error({ err }, 'could not write an audit event'));
  }

  async list(accountId: number, limit: number, before?: number) {
    const rows = await listAuditEvents(this.db, accountId, limit, before);
    return rows.map((r) => ({
      id: r.id, at: new Date(r.at).toISOString(), actor: r.actor, action: r.action, resource: r.resource,
      outcome: r.outcome, source: r.source, detail: r.detail ? JSON.parse(r.detail) as unknown : null,
    }));
  }
}
