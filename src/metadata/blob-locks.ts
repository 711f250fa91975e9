import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Engine } from './migrations/index.js';
import type { Database } from './schema.js';
import { KeyedRwLock } from './keyed-rw-lock.js';

type Db = Kysely<Database>;

/**
 * Per-digest locks that order everything making a blob live (an upload's commit, a mount, a manifest
 * that references it) against the garbage collector removing it.
 *
 * PostgreSQL: transaction-level advisory locks, shared for those who make a blob live, exclusive for
 * the collector, so they work across replicas and for digests that have no row yet. Statements run
 * after the lock see what the other side committed (READ COMMITTED takes a snapshot per statement).
 * SQLite: one process holds the only connection for a whole transaction, so transactions never
 * interleave; what happens outside a transaction (a file's rename into place) is ordered by an
 * in-process read-write lock per digest instead, so the one connection is not held during file I/O.
 */
export interface BlobLocks {
  /** Inside a transaction: no collector removes these blobs (or their links) until it ends. */
  shared(trx: Db, digests: readonly string[]): Promise<void>;
  /**
   * Stores a blob: `outside` (the file's rename into place) and then `inside` (the rows that make it
   * live, in a transaction) both run under the digest's shared lock.
   */
  storing<T>(db: Db, digest: string, outside: () => Promise<void>, inside: (trx: Db) => Promise<T>): Promise<T>;
  /** The collector's removal: `remove` runs in a transaction that excludes every holder of the digest. */
  removing<T>(db: Db, digest: string, remove: (trx: Db) => Promise<T>): Promise<T>;
}

/** Advisory lock space of blob digests (two-key form: this class and 32 bits of the digest). */
const BLOB_LOCK_CLASS = 0x57480001;

function lockKey(digest: string): number {
  return createHash('sha256').update(digest).digest().readInt32BE(0);
}

async function advisoryShared(trx: Db, digests: readonly string[]): Promise<void> {
  if (digests.length === 0) return;
  // Sorted and distinct, so two transactions never wait on each other in opposite orders.
  const keys = [...new Set(digests.map(lockKey))].sort((a, b) => a - b);
  await sql`select pg_advisory_xact_lock_shared(${BLOB_LOCK_CLASS}, k) from unnest(${keys}::int[]) as k`.execute(trx);
}

const postgresLocks: BlobLocks = {
  shared: advisoryShared,
  storing(db, digest, outside, inside) {
    // The rename happens inside the transaction, after the lock: other connections go on meanwhile.
    return db.transaction().execute(async (trx) => {
      await advisoryShared(trx, [digest]);
      await outside();
      return inside(trx);
    });
  },
  removing(db, digest, remove) {
    return db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${BLOB_LOCK_CLASS}, ${lockKey(digest)})`.execute(trx);
      return remove(trx);
    });
  },
};

function sqliteLocks(): BlobLocks {
  const files = new KeyedRwLock();
  return {
    async shared() {},
    storing(db, digest, outside, inside) {
      return files.shared(digest, async () => {
        await outside();
        return db.transaction().execute(inside);
      });
    },
    removing(db, digest, remove) {
      return files.exclusive(digest, () => db.transaction().execute(remove));
    },
  };
}

export function blobLocks(engine: Engine): BlobLocks {
  return engine === 'postgres' ? postgresLocks : sqliteLocks();
}
