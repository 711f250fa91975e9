import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { acquireLease, deleteExpiredLeases, releaseLease } from '../metadata/leases.js';
import type { Database } from '../metadata/schema.js';

const PREFIX = 'upload:';
/** Long enough to outlive a slow request's pauses; short enough that a replica killed mid-chunk blocks its upload only briefly. */
const LEASE_MS = 30_000;
const RENEW_MS = 10_000;

/**
 * One writer per upload across replicas. The staged bytes of an upload (on S3: its segments and
 * their state object) are not protected by the database's size check alone: two requests writing
 * the same chunk at once on two replicas both write the store, and the one the database refuses
 * may be the one whose staged state is left, so the upload would hold bytes its session never
 * counted. A lease in the metadata store, renewed while the request streams, lets one request at a
 * time touch an upload; a second is refused at once and told to resume. A replica that dies holding
 * a lease holds it until it expires.
 */
export class UploadWriters {
  constructor(private readonly db: Kysely<Database>, private readonly now: () => number) {}

  /** Runs `task` holding the upload's lease; `busy()` is thrown when another request holds it. */
  async hold<T>(uploadId: string, busy: () => Error, task: () => Promise<T>): Promise<T> {
    const name = PREFIX + uploadId;
    const holder = randomUUID();
    if (!(await acquireLease(this.db, name, holder, this.now(), LEASE_MS))) throw busy();
    const renewal = setInterval(() => {
      acquireLease(this.db, name, holder, this.now(), LEASE_MS).catch(() => undefined);
    }, RENEW_MS);
    renewal.unref();
    try {
      return await task();
    } finally {
      clearInterval(renewal);
      await releaseLease(this.db, name, holder).catch(() => undefined);
    }
  }

  /** Leases of dead writers (the purge of abandoned uploads calls this). */
  purgeExpired(): Promise<number> {
    return deleteExpiredLeases(this.db, PREFIX, this.now());
  }
}
