import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, DeliveryState } from '../metadata/schema.js';
import * as rows from '../metadata/webhooks.js';
import { compileGlob } from '../oci/globs.js';
import { PAYLOAD_FORMATS, type EventSource, type PayloadFormat } from './payloads.js';
import { newWebhookSecret } from './signature.js';
import { sendEvent, type SendOptions } from './delivery-worker.js';
import { DEFAULT_EVENT_TYPES, EVENT_TYPES, isEventType, type EventType, type RegistryEvent } from './types.js';

export interface WebhookSpec {
  url: string;
  /** The namespace whose events are sent; absent: every namespace of the account. */
  namespace?: string;
  format?: PayloadFormat;
  /** Glob over full repository names (`team-a/app*`, `**`). */
  repositories?: string;
  events?: string[];
}

export interface WebhookView {
  id: number;
  url: string;
  namespace: string | null;
  format: string;
  repositories: string;
  events: string[];
  createdBy: string;
  created: string;
}

export interface DeliveryView {
  id: number;
  eventId: string;
  eventType: string;
  repository: string;
  state: DeliveryState;
  attempts: number;
  responseStatus: number | null;
  lastError: string | null;
  created: string;
  nextAttempt: string | null;
  finished: string | null;
}

/** A webhook that cannot be made as asked; the message says what to change. */
export class WebhookSpecError extends Error {}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(Number(ms)).toISOString());

export function webhookView(row: rows.WebhookRow): WebhookView {
  return {
    id: Number(row.id), url: row.url, namespace: row.namespace, format: row.format, repositories: row.repositories,
    events: JSON.parse(row.events) as string[], createdBy: row.created_by, created: iso(row.created_at)!,
  };
}

function deliveryView(row: rows.DeliveryRow): DeliveryView {
  return {
    id: Number(row.id), eventId: row.event_id, eventType: row.event_type, repository: row.repository, state: row.state,
    attempts: Number(row.attempts), responseStatus: row.response_status === null ? null : Number(row.response_status),
    lastError: row.last_error, created: iso(row.created_at)!, nextAttempt: row.state === 'pending' ? iso(row.next_attempt_at) : null,
    finished: iso(row.finished_at),
  };
}

/** Checks a spec and fills its defaults; throws WebhookSpecError naming what is wrong. */
export function normalizeSpec(spec: WebhookSpec): Required<Omit<WebhookSpec, 'namespace'>> & { namespace?: string } {
  let url: URL;
  try {
    url = new URL(spec.url);
  } catch {
    throw new WebhookSpecError(`"${spec.url}" is not a URL: give the receiver's full address, such as https://ci.example.com/hooks/wharf`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new WebhookSpecError(`the receiver URL must be http:// or https://, not ${url.protocol}`);
  if (url.username || url.password) throw new WebhookSpecError('the receiver URL must not carry credentials: receivers check the X-Wharf-Signature header instead');
  const repositories = spec.repositories ?? '**';
  compileGlob(repositories);
  if (spec.namespace && !repositories.startsWith('*') && !repositories.startsWith(`${spec.namespace}/`)) {
    throw new WebhookSpecError(`the repository pattern "${repositories}" can never match a repository of namespace ${spec.namespace}: patterns match full names, such as ${spec.namespace}/app*`);
  }
  const events = spec.events && spec.events.length > 0 ? [...new Set(spec.events)] : DEFAULT_EVENT_TYPES;
  const unknown = events.find((e) => !isEventType(e));
  if (unknown) throw new WebhookSpecError(`"${unknown}" is not an event type: choose from ${EVENT_TYPES.join(', ')}`);
  const format = spec.format ?? 'distribution';
  if (!PAYLOAD_FORMATS.includes(format)) throw new WebhookSpecError(`"${format}" is not a payload format: choose ${PAYLOAD_FORMATS.join(' or ')}`);
  return { url: url.toString(), format, repositories, events: events as EventType[], ...(spec.namespace ? { namespace: spec.namespace } : {}) };
}

/** Webhook subscriptions and their delivery log. Who may do what is the HTTP layer's to check. */
export class WebhookService {
  constructor(private readonly db: Kysely<Database>, private readonly source: EventSource, private readonly now: () => number, private readonly sending: SendOptions) {}

  /** Creates a webhook; the answer holds its secret, which is never shown again. */
  async create(accountId: number, namespaceId: number | null, spec: ReturnType<typeof normalizeSpec>, createdBy: string): Promise<WebhookView & { secret: string }> {
    const secret = newWebhookSecret();
    const id = await rows.insertWebhook(this.db, {
      account_id: accountId, namespace_id: namespaceId, url: spec.url, secret, format: spec.format,
      repositories: spec.repositories, events: JSON.stringify(spec.events), created_by: createdBy, created_at: this.now(),
    });
    return { ...webhookView((await rows.findWebhook(this.db, id))!), secret };
  }

  async list(accountId: number): Promise<rows.WebhookRow[]> {
    return rows.listWebhooks(this.db, accountId);
  }

  async find(id: number): Promise<rows.WebhookRow | undefined> {
    return rows.findWebhook(this.db, id);
  }

  async remove(id: number): Promise<void> {
    await rows.deleteWebhook(this.db, id);
  }

  async deliveries(id: number, limit: number, state?: DeliveryState): Promise<DeliveryView[]> {
    return (await rows.listDeliveries(this.db, id, limit, state)).map(deliveryView);
  }

  /**
   * Sends a `webhook.test` event now, signed like every delivery, and answers how the receiver took
   * it; the try is kept in the delivery log.
   */
  async test(webhook: rows.WebhookRow, actor: string): Promise<DeliveryView> {
    const now = this.now();
    const repository = webhook.namespace ? `${webhook.namespace}/webhook-test` : 'webhook-test';
    const event: RegistryEvent = { id: randomUUID(), type: 'webhook.test', time: new Date(now).toISOString(), repository, target: {}, origin: { actor }, detail: { webhook: Number(webhook.id) } };
    const sent = await sendEvent(webhook, `test-${event.id}`, event, this.source, this.sending, now);
    const id = await this.db.insertInto('webhook_deliveries').values({
      webhook_id: webhook.id, event_id: event.id, event_type: event.type, repository, event: JSON.stringify(event),
      state: sent.ok ? 'delivered' : 'failed', attempts: 1, next_attempt_at: now, lease_until: null, leased_by: null,
      last_error: sent.error, response_status: sent.responseStatus, created_at: now, finished_at: this.now(),
    }).returning('id').executeTakeFirstOrThrow();
    return deliveryView((await rows.listDeliveries(this.db, webhook.id, 1)).find((d) => Number(d.id) === Number(id.id))!);
  }
}
