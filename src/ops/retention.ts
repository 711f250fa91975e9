import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../metadata/schema.js';
import { imagesByRepository } from '../metadata/images.js';
import * as retention from '../metadata/retention.js';
import { yieldToRequests } from '../metadata/yield.js';
import type { ImageService } from '../registry/images.js';
import { describeRule, ImmutableTags } from '../registry/immutability.js';

export interface RetentionPolicy {
  /** Newest images kept per repository; null keeps all. */
  keepImages: number | null;
  removeUntagged: boolean;
}

export interface RemovedImage {
  name: string;
  digest: string;
  tags: string[];
}

/** An image a run would have removed but kept, because one of its tags is immutable. */
export interface KeptImmutableImage extends RemovedImage {
  reason: string;
}

export interface RetentionOutcome {
  removed: RemovedImage[];
  keptImmutable: KeptImmutableImage[];
}

const DAY_MS = 24 * 3600 * 1000;

type RepositoryImage = { digest: string; tags: string[] };

/**
 * Retention per namespace: keep the newest N images of each repository, optionally remove untagged
 * ones. Removed images go to the trash. Runs on demand (with a dry run) and once a day on a schedule.
 */
export class RetentionService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly images: ImageService,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {}

  async get(namespaceId: number): Promise<RetentionPolicy> {
    const row = await retention.findRetention(this.db, namespaceId);
    return { keepImages: row?.keep_images ?? null, removeUntagged: row?.remove_untagged === 1 };
  }

  async set(namespaceId: number, policy: RetentionPolicy): Promise<RetentionPolicy> {
    await retention.upsertRetention(this.db, namespaceId, policy.keepImages, policy.removeUntagged);
    return this.get(namespaceId);
  }

  /** What the policy removes from the namespace now; with dryRun, only the list. */
  async run(namespace: string, policy: RetentionPolicy, dryRun: boolean, actor: string): Promise<RetentionOutcome> {
    return this.removeWhere(namespace, dryRun, actor, (images) => {
      // The count is of images that stay: an untagged image the policy removes anyway must not
      // take the place of a tagged one among the newest N.
      const candidates = policy.removeUntagged ? images.filter((i) => i.tags.length > 0) : images;
      const kept = new Set(policy.keepImages === null ? candidates : candidates.slice(0, policy.keepImages));
      return images.filter((i) => !kept.has(i));
    });
  }

  /** Removes the untagged images of a namespace (to the trash). */
  async pruneUntagged(namespace: string, dryRun: boolean, actor: string): Promise<RetentionOutcome> {
    return this.removeWhere(namespace, dryRun, actor, (images) => images.filter((i) => i.tags.length === 0));
  }

  /** `select` picks, from one repository's images (newest first), those to remove. */
  private async removeWhere(namespace: string, dryRun: boolean, actor: string, select: (images: RepositoryImage[]) => RepositoryImage[]): Promise<RetentionOutcome> {
    const removed: RemovedImage[] = [];
    const keptImmutable: KeptImmutableImage[] = [];
    const rules = await ImmutableTags.of(this.db, namespace);
    for (const [name, list] of await imagesByRepository(this.db, namespace)) {
      for (const image of select(list)) {
        // Immutable images stay and take no one's place: the policy still removes what it selected.
        const held = rules.firstImmutable(name, image.tags);
        if (held) keptImmutable.push({ name, digest: image.digest, tags: image.tags, reason: `tag ${held.tag} is immutable (rule: ${describeRule(held.rule)})` });
        else removed.push({ name, digest: image.digest, tags: image.tags });
      }
    }
    if (!dryRun) {
      for (const image of removed) {
        await this.images.remove({ name: image.name, digest: image.digest }, actor);
        await yieldToRequests();
      }
    }
    return { removed, keptImmutable };
  }

  /** Runs every namespace's policy whose daily run is due; one replica wins each run. */
  async runScheduled(): Promise<void> {
    for (const policy of await retention.listRetentionPolicies(this.db)) {
      if (policy.keep_images === null && policy.remove_untagged !== 1) continue;
      if (!(await retention.claimScheduledRun(this.db, policy.namespace_id, this.now(), DAY_MS))) continue;
      try {
        const { removed } = await this.run(policy.name, { keepImages: policy.keep_images, removeUntagged: policy.remove_untagged === 1 }, false, 'retention policy');
        if (removed.length > 0) this.log.info({ namespace: policy.name, removed: removed.length }, 'retention policy moved images to the trash');
      } catch (err) {
        this.log.error({ err, namespace: policy.name }, 'retention run failed');
      }
    }
  }
}
