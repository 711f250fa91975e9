import type { BlobStore } from './ports.js';

/** Deletes a driver without deleteMany keeps in flight at once: the disk overlaps them, and the libuv pool stays free for reads. */
const DELETES_IN_FLIGHT = 16;

/** Deletes many blobs (garbage collection); what could not be deleted, by digest, with why. */
export async function deleteBlobs(store: BlobStore, digests: readonly string[]): Promise<Map<string, Error>> {
  if (store.deleteMany) return store.deleteMany(digests);
  const failed = new Map<string, Error>();
  let next = 0;
  const worker = async () => {
    while (next < digests.length) {
      const digest = digests[next++]!;
      try {
        await store.delete(digest);
      } catch (err) {
        failed.set(digest, err as Error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(DELETES_IN_FLIGHT, digests.length) }, worker));
  return failed;
}
