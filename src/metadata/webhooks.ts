import { sql, type Kysely } from 'kysely';
import type { Database, DeliveryState, WebhookDeliveryTable, WebhookTable } from './schema.js';

type Db = Kysely<Database>;

export type WebhookRow = Omit<WebhookTable, 'id'> & { id: number; namespace: string | null };
export type DeliveryRow = Omit<WebhookDeliveryTable, 'id' | 'attempts'> & { id: number; attempts: number };

const webhookColumns = ['w.id', 'w.account_id', 'w.namespace_id', 'w.url', 'w.secret', 'w.format', 'w.repositories', 'w.events', 'w.created_by', 'w.created_at', 'n.name as namespace'] as const;

export async function insertWebhook(db: Db, row: Omit<WebhookTable, 'id'>): Promise<number> {
  const inserted = await db.insertInto('webhooks').values(row).returning('id').executeTakeFirstOrThrow();
  return Number(inserted.id);
}

export async function findWebhook(db: Db, id: number): Promise<WebhookRow | undefined> {
  return db.selectFrom('webhooks as w').leftJoin('namespaces as n', 'n.id', 'w.namespace_id')
    .select(webhookColumns).where('w.id', '=', id).executeTakeFirst();
}

export async function listWebhooks(db: Db, accountId: number): Promise<WebhookRow[]> {
  return db.selectFrom('webhooks as w').leftJoin('namespaces as n', 'n.id', 'w.namespace_id')
    .select(webhookColumns).where('w.account_id', '=', accountId).orderBy('w.id').execute();
}

/** Removes a webhook; its deliveries go with it (the foreign key cascades). */
export async function deleteWebhook(db: Db, id: number): Promise<void> {
  await db.deleteFrom('webhooks').where('id', '=', id).execute();
}

/** The webhooks that may hear of events in `namespace`: its own and its account's. */
export async function webhooksOfNamespace(db: Db, namespace: string): Promise<WebhookRow[]> {
  return db.selectFrom('namespaces as ns').innerJoin('webhooks as w', 'w.account_id', 'ns.account_id')
    .leftJoin('namespaces as n', 'n.id', 'w.namespace_id')
    .select(webhookColumns).where('ns.name', '=', namespace)
    .where((eb) => eb.or([eb('w.namespace_id', 'is', null), eb('w.namespace_id', '=', eb.ref('ns.id'))]))
    .orderBy('w.id').execute();
}

export interface NewDelivery {
  webhookId: number;
  eventId: string;
  eventType: string;
  repository: string;
  event: string;
  now: number;
}

export async function insertDeliveries(db: Db, deliveries: NewDelivery[]): Promise<void> {
  if (deliveries.length === 0) return;
  await db.insertInto('webhook_deliveries').values(deliveries.map((d) => ({
    webhook_id: d.webhookId, event_id: d.eventId, event_type: d.eventType, repository: d.repository, event: d.event,
    state: 'pending' as DeliveryState, next_attempt_at: d.now, lease_until: null, leased_by: null, last_error: null,
    response_status: null, created_at: d.now, finished_at: null,
  }))).execute();
}

/**
 * Due deliveries that head their (webhook, repository) queue: an earlier pending one of the same
 * queue holds them back, which keeps each repository's events in order.
 */
export async function dueDeliveries(db: Db, now: number, limit: number): Promise<Array<{ id: number }>> {
  return db.selectFrom('webhook_deliveries as d').select('d.id')
    .where('d.state', '=', 'pending').where('d.next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('d.lease_until', 'is', null), eb('d.lease_until', '<', now)]))
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('webhook_deliveries as e').select(sql.lit(1).as('one'))
      .where('e.state', '=', 'pending').whereRef('e.webhook_id', '=', 'd.webhook_id').whereRef('e.repository', '=', 'd.repository')
      .whereRef('e.id', '<', 'd.id'))))
    .orderBy('d.id').limit(limit).execute();
}

/**
 * Takes a due delivery for `worker` until `now + leaseMs`. The conditional update is the lock: of two
 * replicas racing for one delivery, exactly one updates the row.
 */
export async function leaseDelivery(db: Db, id: number, worker: string, now: number, leaseMs: number): Promise<DeliveryRow | undefined> {
  const result = await db.updateTable('webhook_deliveries').set({ lease_until: now + leaseMs, leased_by: worker })
    .where('id', '=', id).where('state', '=', 'pending')
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) return undefined;
  return db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst() as Promise<DeliveryRow | undefined>;
}

export interface AttemptOutcome {
  state: DeliveryState;
  responseStatus: number | null;
  error: string | null;
  /** When pending again: the next try. */
  nextAttemptAt: number;
  now: number;
}

/** Records one try of a delivery this worker holds (a lease taken over meanwhile is not overwritten). */
export async function recordAttempt(db: Db, id: number, worker: string, outcome: AttemptOutcome): Promise<void> {
  await db.updateTable('webhook_deliveries').set((eb) => ({
    state: outcome.state, attempts: eb('attempts', '+', 1), response_status: outcome.responseStatus, last_error: outcome.error,
    next_attempt_at: outcome.nextAttemptAt, lease_until: null, leased_by: null,
    finished_at: outcome.state === 'pending' ? null : outcome.now,
  })).where('id', '=', id).where('leased_by', '=', worker).execute();
}

/** A webhook's deliveries, newest first. */
export async function listDeliveries(db: Db, webhookId: number, limit: number, state?: DeliveryState): Promise<DeliveryRow[]> {
  let query = db.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', webhookId);
  if (state) query = query.where('state', '=', state);
  return query.orderBy('id', 'desc').limit(limit).execute() as Promise<DeliveryRow[]>;
}

export async function countPendingDeliveries(db: Db): Promise<number> {
  const row = await db.selectFrom('webhook_deliveries').select((eb) => eb.fn.countAll<number>().as('n')).where('state', '=', 'pending').executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** Removes finished deliveries (delivered or failed) that finished before `before`; answers how many. */
export async function pruneDeliveries(db: Db, before: number): Promise<number> {
  const result = await db.deleteFrom('webhook_deliveries').where('state', '!=', 'pending').where('finished_at', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}
