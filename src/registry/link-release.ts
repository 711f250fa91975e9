import type { Kysely } from 'kysely';
import type { BlobLocks } from '../metadata/blob-locks.js';
import { removeStaleLink, type LinkKey } from '../metadata/garbage.js';
import { findRepositoryId } from '../metadata/repositories.js';
import type { Database } from '../metadata/schema.js';
import type { RegistryContext } from './context.js';
import { yieldToRequests } from '../metadata/yield.js';

/**
 * Removes the link if nothing in its repository uses it and it is older than `before`, under the
 * blob's exclusive lock (see GarbageCollector for the protocol); true when it did.
 */
export async function removeLinkIfStale(db: Kysely<Database>, locks: BlobLocks, link: LinkKey, before: number): Promise<boolean> {
  return locks.removing(db, link.digest, (trx) => removeStaleLink(trx, link, before));
}

/**
 * Releases the links of images that just left the trash, so the account's storage usage (what its
 * repositories link) goes down at once; the bytes themselves go at the next garbage collection.
 */
export async function releaseUnusedLinks(ctx: RegistryContext, released: Map<string, string[]>): Promise<number> {
  const before = ctx.now() - ctx.settings.gcGracePeriod * 1000;
  let removed = 0;
  for (const [name, digests] of released) {
    const repositoryId = await findRepositoryId(ctx.db, name);
    if (repositoryId === undefined) continue;
    for (const digest of new Set(digests)) {
      if (await removeLinkIfStale(ctx.db, ctx.locks, { repositoryId, digest }, before)) removed++;
      await yieldToRequests();
    }
  }
  return removed;
}
