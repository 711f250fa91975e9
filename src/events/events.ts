import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../metadata/schema.js';
import { findNamespace } from '../metadata/namespaces.js';
import type { Engine } from '../metadata/migrations/index.js';
import type { PullOrigin } from '../registry/context.js';
import { DeliveryWorker, type DeliveryOptions } from './delivery-worker.js';
import { recordEvent, recordPolicyDenial } from './outbox.js';
import type { EventSource } from './payloads.js';
import type { NewEvent } from './types.js';
import { WebhookService } from './webhooks.js';

/** How long the answer to "does any webhook want pulls?" is reused: pulls are many, subscriptions few. */
const PULL_SUBSCRIBERS_TTL_MS = 5000;

/**
 * Events and webhooks of one process: the registry's hooks write the outbox, the worker delivers,
 * the service manages subscriptions.
 */
export class Events {
  readonly source: EventSource;
  readonly worker: DeliveryWorker;
  readonly webhooks: WebhookService;
  private pullSubscribers: { at: number; any: Promise<boolean> } | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly engine: Engine,
    private readonly log: Logger,
    private readonly now: () => number,
    options: DeliveryOptions & { publicUrl: string },
  ) {
    this.source = { publicUrl: options.publicUrl, instanceId: randomUUID(), addr: '' };
    this.worker = new DeliveryWorker(db, this.source, log, now, options);
    this.webhooks = new WebhookService(db, this.source, now, options);
  }

  /** The RegistryHooks.changed hook: records the event in the change's transaction. */
  async changed(trx: Kysely<Database>, event: NewEvent): Promise<void> {
    await recordEvent(trx, event, this.now(), this.engine);
  }

  /** A pull is no transaction of its own: its event is recorded after the answer, and a failure only logged. */
  pulled(repository: string, digest: string, pull: PullOrigin | undefined): void {
    if (!pull) return;
    void (async () => {
      if (!(await this.anyPullSubscriber())) return;
      await recordEvent(this.db, { type: 'pull', repository, target: { digest, mediaType: pull.mediaType, size: pull.size, ...(pull.tag ? { tag: pull.tag } : {}) }, origin: pull.origin }, this.now(), this.engine);
      this.worker.poke();
    })().catch((err: unknown) => this.log.error({ err, repository, digest }, 'could not record a pull event'));
  }

  /** Records an event outside a registry transaction (scan results, quota warnings) and wakes the worker. */
  async record(event: NewEvent): Promise<void> {
    await recordEvent(this.db, event, this.now(), this.engine);
    this.worker.poke();
  }

  /**
   * A scan finished: a scan.completed event for each repository holding the image, with the status
   * its account sees (its exemptions applied). `status` is the scanner's.
   */
  async scanned(digest: string, status: (name: string, accountId: number | null) => Promise<string>): Promise<void> {
    const holders = await this.db.selectFrom('manifests as m').innerJoin('repositories as r', 'r.id', 'm.repository_id')
      .select(['r.name', 'm.media_type', 'm.size']).where('m.digest', '=', digest).execute();
    for (const holder of holders) {
      const namespace = await findNamespace(this.db, holder.name.split('/')[0]!);
      await this.record({
        type: 'scan.completed', repository: holder.name,
        target: { digest, mediaType: holder.media_type, size: Number(holder.size) },
        origin: { actor: null },
        detail: { status: await status(holder.name, namespace ? Number(namespace.account_id) : null) },
      });
    }
  }

  /**
   * For the policy engine: a policy refused an image (see recordPolicyDenial, which takes the
   * transaction of the decision when there is one).
   */
  async policyDenied(denial: Parameters<typeof recordPolicyDenial>[1]): Promise<void> {
    await recordPolicyDenial(this.db, denial, this.engine, this.now());
    this.worker.poke();
  }

  private anyPullSubscriber(): Promise<boolean> {
    const now = this.now();
    if (!this.pullSubscribers || now - this.pullSubscribers.at > PULL_SUBSCRIBERS_TTL_MS) {
      const any = this.db.selectFrom('webhooks').select('id').where('events', 'like', '%"pull"%').limit(1).executeTakeFirst().then((row) => row !== undefined);
      this.pullSubscribers = { at: now, any };
      any.catch(() => { this.pullSubscribers = undefined; });
    }
    return this.pullSubscribers.any;
  }
}
