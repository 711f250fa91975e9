import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../metadata/schema.js';
import * as webhooks from '../metadata/webhooks.js';
import { formatPayload, type EventSource, type PayloadFormat } from './payloads.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, signDelivery } from './signature.js';
import type { RegistryEvent } from './types.js';
import { assertPublicLiteral, publicOnlyLookup, ReceiverAddressError } from './receiver-address.js';

export interface DeliveryOptions {
  /** Deliveries in flight at once from this process. */
  concurrency: number;
  timeoutMs: number;
  maxAttempts: number;
  /** Wait after the first failure; doubled after each further one, up to MAX_BACKOFF_MS. */
  backoffMs: number;
  pollMs: number;
  allowPrivateNetworks: boolean;
  /** How long finished deliveries stay in the log. */
  logRetentionMs: number;
  /** Told how each try ended (metrics). */
  onAttempt?(outcome: AttemptResult['outcome']): void;
}

export const MAX_BACKOFF_MS = 3_600_000;
const PRUNE_INTERVAL_MS = 3_600_000;
/** Bytes of a receiver's error answer kept in the delivery log. */
const ERROR_BODY_BYTES = 200;

export interface AttemptResult {
  /** delivered: a 2xx answer. retry: anything else, tried again later. failed: out of attempts. */
  outcome: 'delivered' | 'retry' | 'failed';
  responseStatus: number | null;
  error: string | null;
}

/** The webhook fields a delivery needs. */
export interface Destination {
  url: string;
  secret: string;
  format: string;
}

/**
 * Sends one event to one receiver, signed; never throws. Redirects are not followed (a receiver
 * moved is an error to fix in the webhook, and a redirect must not point a signed body elsewhere).
 * Unless `allowPrivateNetworks`, a receiver at a private or loopback address is not called.
 */
export async function sendEvent(destination: Destination, deliveryId: string, event: RegistryEvent, source: EventSource, options: SendOptions, now: number): Promise<Omit<AttemptResult, 'outcome'> & { ok: boolean }> {
  const payload = formatPayload(destination.format as PayloadFormat, event, source);
  const timestamp = Math.floor(now / 1000);
  try {
    const url = new URL(destination.url);
    if (!options.allowPrivateNetworks) assertPublicLiteral(url);
    const response = await post(url, {
      'Content-Type': payload.contentType,
      'User-Agent': 'Wharf-Webhooks/1',
      [SIGNATURE_HEADER]: signDelivery(destination.secret, timestamp, payload.body),
      [TIMESTAMP_HEADER]: String(timestamp),
      'X-Wharf-Delivery': deliveryId,
      'X-Wharf-Event': event.type,
      'X-Wharf-Event-Id': event.id,
    }, payload.body, options);
    const ok = response.status >= 200 && response.status < 300;
    const text = response.text.slice(0, ERROR_BODY_BYTES).replace(/\s+/g, ' ').trim();
    return { ok, responseStatus: response.status, error: ok ? null : `the receiver answered ${response.status}${text ? `: ${text}` : ''}` };
  } catch (err) {
    return { ok: false, responseStatus: null, error: describeSendError(err, options.timeoutMs) };
  }
}

export interface SendOptions {
  timeoutMs: number;
  /** webhooks.allowPrivateNetworks: receivers on loopback and private addresses may be called. */
  allowPrivateNetworks: boolean;
}

class ReceiverTimeout extends Error {}

/** One POST, the whole exchange bounded by the timeout; only the start of the answer is kept. */
function post(url: URL, headers: Record<string, string>, body: string, options: SendOptions): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const request = send(url, {
      method: 'POST',
      headers: { ...headers, 'Content-Length': Buffer.byteLength(body) },
      ...(options.allowPrivateNetworks ? {} : { lookup: publicOnlyLookup }),
    }, (response) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      response.on('data', (chunk: Buffer) => {
        if (kept < ERROR_BODY_BYTES) {
          chunks.push(chunk);
          kept += chunk.length;
        }
      });
      response.on('end', () => {
        clearTimeout(timer);
        resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
      });
      response.on('error', (err) => { clearTimeout(timer); reject(err); });
    });
    const timer = setTimeout(() => request.destroy(new ReceiverTimeout()), options.timeoutMs);
    request.on('error', (err) => { clearTimeout(timer); reject(err); });
    request.end(body);
  });
}

function describeSendError(err: unknown, timeoutMs: number): string {
  if (err instanceof ReceiverTimeout) return `no answer within ${timeoutMs / 1000} s (webhooks.timeout)`;
  if (err instanceof ReceiverAddressError) return `the receiver was not called: ${err.message}`;
  if (err instanceof TypeError && (err as { code?: string }).code === 'ERR_INVALID_URL') return `the webhook URL is not valid: ${err.message}`;
  const code = (err as { code?: string }).code;
  return `could not reach the receiver: ${code ? `${code} ` : ''}${(err as Error).message}`;
}

/** The wait before try `attempt + 1` after `attempt` failed ones. */
export function backoff(attempt: number, baseMs: number): number {
  return Math.min(baseMs * 2 ** Math.max(attempt - 1, 0), MAX_BACKOFF_MS);
}

/**
 * Delivers pending events from the outbox: any replica may, a lease on each delivery makes sure one
 * does; a crashed replica's leases expire and another takes over. Each (webhook, repository) is a
 * queue delivered in order: only its oldest pending delivery is tried, so a receiver that is down
 * holds back that repository's later events instead of receiving them out of order. Pushes never
 * wait for any of this: they only write the outbox rows.
 */
export class DeliveryWorker {
  private readonly worker = randomUUID();
  private running = 0;
  private timer: NodeJS.Timeout | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private polling = false;
  private again = false;
  private readonly idle = new Set<() => void>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly source: EventSource,
    private readonly log: Logger,
    private readonly now: () => number,
    private readonly options: DeliveryOptions,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.poke(), this.options.pollMs);
    this.timer.unref();
    // The log keeps finished deliveries for a while, not forever; any replica may prune (idempotent).
    this.pruneTimer = setInterval(() => void this.prune(), PRUNE_INTERVAL_MS);
    this.pruneTimer.unref();
    this.poke();
  }

  async prune(): Promise<number> {
    try {
      return await webhooks.pruneDeliveries(this.db, this.now() - this.options.logRetentionMs);
    } catch (err) {
      this.log.error({ err }, 'could not prune the webhook delivery log');
      return 0;
    }
  }

  /** Looks for due deliveries now (after a commit that wrote some) instead of at the next poll. */
  poke(): void {
    if (this.stopped || !this.timer) return;
    if (this.polling) {
      this.again = true;
      return;
    }
    this.polling = true;
    void this.fill().catch((err: unknown) => {
      this.log.error({ err }, 'could not look for webhook deliveries');
    }).finally(() => {
      this.polling = false;
      if (this.again) {
        this.again = false;
        this.poke();
      }
    });
  }

  private async fill(): Promise<void> {
    const free = this.options.concurrency - this.running;
    if (free <= 0) return;
    const now = this.now();
    for (const { id } of await webhooks.dueDeliveries(this.db, now, free)) {
      const delivery = await webhooks.leaseDelivery(this.db, id, this.worker, now, this.options.timeoutMs + 60_000);
      if (!delivery) continue;
      this.running++;
      void this.deliver(delivery).catch((err: unknown) => {
        // The database went away while recording the outcome: the lease expires and the delivery is tried again.
        this.log.error({ err, delivery: id }, 'could not record a webhook delivery');
      }).finally(() => {
        this.running--;
        if (this.running === 0) {
          for (const resolve of this.idle) resolve();
          this.idle.clear();
        }
        this.poke();
      });
    }
  }

  private async deliver(delivery: webhooks.DeliveryRow): Promise<void> {
    const webhook = await webhooks.findWebhook(this.db, delivery.webhook_id);
    if (!webhook) return;
    const event = JSON.parse(delivery.event) as RegistryEvent;
    const sent = await sendEvent(webhook, String(delivery.id), event, this.source, this.options, this.now());
    const attempts = delivery.attempts + 1;
    const outcome: AttemptResult['outcome'] = sent.ok ? 'delivered' : attempts >= this.options.maxAttempts ? 'failed' : 'retry';
    const now = this.now();
    await webhooks.recordAttempt(this.db, delivery.id, this.worker, {
      state: outcome === 'retry' ? 'pending' : outcome,
      responseStatus: sent.responseStatus,
      error: sent.error,
      nextAttemptAt: outcome === 'retry' ? now + backoff(attempts, this.options.backoffMs) : now,
      now,
    });
    this.options.onAttempt?.(outcome);
    if (outcome !== 'delivered') {
      // The URL without its query: a token in it is not for the log.
      const receiver = webhook.url.split('?')[0];
      this.log.warn({ webhook: webhook.id, delivery: delivery.id, receiver, attempts, err: sent.error }, outcome === 'retry' ? 'webhook delivery failed; will retry' : 'webhook delivery failed for good');
    }
  }

  /** Resolves when nothing is due and nothing is in flight (tests). */
  async drain(): Promise<void> {
    for (;;) {
      while (this.running > 0) await new Promise<void>((resolve) => this.idle.add(resolve));
      if ((await webhooks.dueDeliveries(this.db, this.now(), 1)).length === 0 && this.running === 0) return;
      this.poke();
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    while (this.running > 0) await new Promise<void>((resolve) => this.idle.add(resolve));
  }
}
