import type { Kysely } from 'kysely';
import type { Database } from '../metadata/schema.js';
import { findNamespace } from '../metadata/namespaces.js';
import * as quotas from '../metadata/quotas.js';
import { namespaceOf } from '../iam/namespace-names.js';
import { RegistryError } from '../oci/errors.js';
import type { Puller } from '../registry/context.js';

export interface QuotaView {
  storage: { limit: number | null; used: number };
  pullTraffic: { limit: number | null; used: number; month: string };
  /** Pulls from the account's public namespaces by anyone outside it: never part of pullTraffic. */
  publicPullTraffic: { limit: number | null; used: number; month: string };
}

export type QuotaChange = {
  storageBytes?: number | null;
  pullBytesPerMonth?: number | null;
  publicPullBytesPerMonth?: number | null;
};

/** How long a count of an account's storage is trusted (with what was admitted since) before new blobs count it again. */
const STORAGE_RECOUNT_MS = 10_000;

/** Percentages of a quota whose crossing is told to webhooks. */
export const QUOTA_THRESHOLDS = [80, 100] as const;

export interface QuotaWarning {
  repository: string;
  quota: 'storage' | 'pullTraffic';
  threshold: typeof QUOTA_THRESHOLDS[number];
  used: number;
  requested: number;
  limit: number;
  /** The store or pull was refused: the limit would have been passed. */
  refused: boolean;
}

function month(now: number): string {
  return new Date(now).toISOString().slice(0, 7);
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

/**
 * Per-account storage and monthly pull-traffic quotas. Enforced through the registry hooks: a push
 * that would exceed the storage quota and a pull over the traffic quota are refused with DENIED.
 *
 * Pulls by the account's own principals count against its pull quota. Pulls from its public
 * namespaces by anyone else (anonymous clients, other tenants) count separately, against the public
 * pull limit, so public traffic can never stop the account's own pulls; and what those clients are
 * told names no usage, limit or account.
 */
export class QuotaService {
  /** Per account: its storage as last counted, when, and what this process admitted since. */
  private readonly usage = new Map<number, { counted: number; at: number; admitted: number }>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number,
    private readonly countStorage: (db: Kysely<Database>, accountId: number) => Promise<number> = quotas.storageUsed,
  ) {}

  async view(accountId: number): Promise<QuotaView> {
    const quota = await quotas.findQuota(this.db, accountId);
    const currentMonth = month(this.now());
    const pulled = await quotas.pullBytes(this.db, accountId, currentMonth);
    return {
      storage: { limit: quota?.storage_bytes ?? null, used: await quotas.storageUsed(this.db, accountId) },
      pullTraffic: { limit: quota?.pull_bytes_per_month ?? null, used: pulled.own, month: currentMonth },
      publicPullTraffic: { limit: quota?.public_pull_bytes_per_month ?? null, used: pulled.public, month: currentMonth },
    };
  }

  async set(accountId: number, change: QuotaChange): Promise<QuotaView> {
    const current = await quotas.findQuota(this.db, accountId);
    await quotas.upsertQuota(this.db, accountId, {
      storage_bytes: change.storageBytes !== undefined ? change.storageBytes : current?.storage_bytes ?? null,
      pull_bytes_per_month: change.pullBytesPerMonth !== undefined ? change.pullBytesPerMonth : current?.pull_bytes_per_month ?? null,
      public_pull_bytes_per_month: change.publicPullBytesPerMonth !== undefined ? change.publicPullBytesPerMonth : current?.public_pull_bytes_per_month ?? null,
    });
    return this.view(accountId);
  }

  /** Told when a store or a pull takes an account's usage across a warning threshold (quota.warning webhook events). */
  onWarning?: (warning: QuotaWarning) => void;

  /** 80 % and 100 % of a limit: crossed by the bytes about to be added, or refused for lack of room (100). */
  private warnOnCrossing(repository: string, quota: QuotaWarning['quota'], used: number, adding: number, limit: number): void {
    if (!this.onWarning) return;
    const crossed = QUOTA_THRESHOLDS.filter((t) => used < (limit * t) / 100 && used + adding >= (limit * t) / 100).at(-1);
    if (crossed !== undefined) this.onWarning({ repository, quota, threshold: crossed, used, requested: adding, limit, refused: used + adding > limit });
  }

  private async accountOf(repository: string): Promise<number | undefined> {
    return (await findNamespace(this.db, namespaceOf(repository).namespace))?.account_id;
  }

  async beforeBlobStored(repository: string, digest: string, size: number): Promise<void> {
    const accountId = await this.accountOf(repository);
    if (accountId === undefined) return;
    const quota = await quotas.findQuota(this.db, accountId);
    if (quota?.storage_bytes == null) return;
    if (await quotas.accountHasBlob(this.db, accountId, digest)) return;
    // Counting an account's storage aggregates every link of its repositories (32 ms at 20,000
    // repositories), too much for each new layer. A count stays good for a few seconds plus what
    // this process admits since; a store it would refuse is always counted afresh first, so freed
    // space counts at once. Replicas storing into one account in the same seconds can pass its
    // quota by what the others store meanwhile, as uploads in flight always could.
    let usage = this.usage.get(accountId);
    const at = this.now();
    if (!usage || at - usage.at > STORAGE_RECOUNT_MS || usage.counted + usage.admitted + size > quota.storage_bytes) {
      usage = { counted: await this.countStorage(this.db, accountId), at, admitted: 0 };
      this.usage.set(accountId, usage);
    }
    const used = usage.counted + usage.admitted;
    this.warnOnCrossing(repository, 'storage', used, size, quota.storage_bytes);
    if (used + size <= quota.storage_bytes) usage.admitted += size;
    else {
      throw new RegistryError('DENIED',
        `storage quota exceeded: the account uses ${formatBytes(used)} of its ${formatBytes(quota.storage_bytes)} storage quota and this layer needs ${formatBytes(size)} more; free space by removing images you no longer need and then removing them from the trash (wharf image rm, then wharf trash rm: trashed images still count), or ask an account Manager to raise the quota`,
        { quota: 'storage', used, limit: quota.storage_bytes, requested: size });
    }
  }

  async beforeBlobServed(repository: string, bytes: number, puller: Puller): Promise<void> {
    const accountId = await this.accountOf(repository);
    if (accountId === undefined) return;
    const quota = await quotas.findQuota(this.db, accountId);
    const currentMonth = month(this.now());
    if (puller.accountId !== accountId) {
      const limit = quota?.public_pull_bytes_per_month;
      if (limit != null && (await quotas.pullBytes(this.db, accountId, currentMonth)).public + bytes > limit) {
        // The puller is outside the account: no figures, no account, only what they can do.
        throw new RegistryError('DENIED', `public pulls of ${namespaceOf(repository).namespace} have reached their limit for this month; try again next month or ask the namespace's owner for access`, null);
      }
      await quotas.addPublicPullBytes(this.db, accountId, currentMonth, bytes);
      return;
    }
    if (quota?.pull_bytes_per_month != null) {
      const used = (await quotas.pullBytes(this.db, accountId, currentMonth)).own;
      this.warnOnCrossing(repository, 'pullTraffic', used, bytes, quota.pull_bytes_per_month);
      if (used + bytes > quota.pull_bytes_per_month) {
        throw new RegistryError('DENIED',
          `pull traffic quota exceeded: the account pulled ${formatBytes(used)} of its ${formatBytes(quota.pull_bytes_per_month)} for ${currentMonth} and this layer is ${formatBytes(bytes)}; wait for next month or ask an account Manager to raise the quota`,
          { quota: 'pullTraffic', used, limit: quota.pull_bytes_per_month, requested: bytes, month: currentMonth });
      }
    }
    await quotas.addPullBytes(this.db, accountId, currentMonth, bytes);
  }
}
