import { createHash, randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Engine } from '../metadata/migrations/index.js';
import type { Database } from '../metadata/schema.js';
import { insertDeliveries, webhooksOfNamespace, type WebhookRow } from '../metadata/webhooks.js';
import { compileGlob } from '../oci/globs.js';
import type { EventOrigin, NewEvent, RegistryEvent } from './types.js';

/**
 * The outbox: an event becomes one pending delivery per webhook that wants it, written with the
 * database handle it is given. Given the transaction of the change, the event exists exactly when the
 * change does: an acknowledged push is never without its event, a rolled-back one never has one.
 * An event no webhook wants is not kept.
 */
export async function recordEvent(db: Kysely<Database>, event: NewEvent, now: number, engine: Engine): Promise<RegistryEvent | undefined> {
  const namespace = event.repository.split('/')[0]!;
  const webhooks = (await webhooksOfNamespace(db, namespace)).filter((w) => wants(w, event));
  if (webhooks.length === 0) return undefined;
  if (engine === 'postgres') {
    // Deliveries go out in id order per repository, and ids are drawn at insert, not at commit: two
    // transactions of one repository could commit out of id order and the worker see the later one
    // first. Held to the commit, this lock makes the second draw its ids after the first committed.
    // (SQLite runs one write transaction at a time.)
    await sql`select pg_advisory_xact_lock(${OUTBOX_LOCK_CLASS}, ${lockKey(event.repository)})`.execute(db);
  }
  const full: RegistryEvent = { id: randomUUID(), time: new Date(now).toISOString(), ...event };
  const text = JSON.stringify(full);
  await insertDeliveries(db, webhooks.map((w) => ({ webhookId: w.id, eventId: full.id, eventType: full.type, repository: full.repository, event: text, now })));
  return full;
}

/** Advisory lock space of repository outboxes (two-key form: this class and 32 bits of the name). */
const OUTBOX_LOCK_CLASS = 0x57480002;

function lockKey(repository: string): number {
  return createHash('sha256').update(repository).digest().readInt32BE(0);
}

/** Whether the webhook subscribes to the event's type and repository. */
export function wants(webhook: Pick<WebhookRow, 'events' | 'repositories'>, event: Pick<NewEvent, 'type' | 'repository'>): boolean {
  const types = JSON.parse(webhook.events) as string[];
  return types.includes(event.type) && compileGlob(webhook.repositories).test(event.repository);
}

/**
 * For the policy engine: records that a policy refused `repository@digest` (an admission review, a
 * pull of an image that fails its namespace's policy). Call it with the transaction of the decision
 * when there is one, else with the database.
 */
export async function recordPolicyDenial(
  db: Kysely<Database>,
  denial: { repository: string; digest?: string; tag?: string; policy: string; reason: string; origin?: EventOrigin },
  engine: Engine,
  now: number = Date.now(),
): Promise<void> {
  await recordEvent(db, {
    type: 'policy.denied',
    repository: denial.repository,
    target: { ...(denial.digest ? { digest: denial.digest } : {}), ...(denial.tag ? { tag: denial.tag } : {}) },
    origin: denial.origin ?? { actor: null },
    detail: { policy: denial.policy, reason: denial.reason },
  }, now, engine);
}
