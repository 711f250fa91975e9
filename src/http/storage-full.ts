import type { FastifyBaseLogger } from 'fastify';
import { RegistryError } from '../oci/errors.js';
import { storageFullError } from '../storage/full.js';
import type { BlobStore } from '../storage/ports.js';

const MiB = 1024 * 1024;

/**
 * The answer to a request that failed for lack of space (see isStorageFull), and the log line
 * that tells the operator where space ran out and how much is left, so the fix (free space, grow
 * the volume) is clear from the log alone. The original failure is what gets logged.
 */
export async function reportStorageFull(error: unknown, log: FastifyBaseLogger, store: BlobStore): Promise<RegistryError> {
  const answer = error instanceof RegistryError && error.status === 507 ? error : storageFullError(error);
  const cause = answer.cause ?? error;
  const space = await store.space?.().catch(() => undefined);
  const where = space
    ? `${space.location} has ${(space.freeBytes / MiB).toFixed(1)} MiB free of ${(space.totalBytes / MiB).toFixed(1)} MiB`
    : `the ${store.name} store reports no free space figure`;
  log.error(
    { err: cause, dataDir: space?.location, freeBytes: space?.freeBytes, totalBytes: space?.totalBytes },
    `storage is full: ${where}; free space there (or grow the volume) and writes work again at once`,
  );
  return answer;
}
