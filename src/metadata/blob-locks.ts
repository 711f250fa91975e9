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
  /**
   * The collector's batched removal. Takes the exclusive locks of those of `digests` that nobody holds
   * right now, never waiting for the others (holding many while waiting for more could deadlock with
   * a push that holds one and asks for another): they come back as `busy`, for `removing` one by one.
   * With the digests it got, in one transaction, `decide` re-checks which go; `release` removes their
   * bytes and says which are gone, and `forget` removes the rows of those. The bytes go while their
   * locks are still held: before the commit on PostgreSQL, whose locks end with the transaction (a
   * file that could not be removed keeps its row); after it on SQLite, whose in-process locks outlive
   * the transaction, so the only connection is not held during file I/O (there every doomed row goes,
   * and a file that could not be removed, or a crash in between, leaves a file without a row, which a
   * later collection sweeps).
   */
  removingMany(db: Db, digests: readonly string[], steps: RemovalSteps): Promise<{ busy: string[] }>;
}

export interface RemovalSteps {
  decide(trx: Db, held: string[]): Promise<string[]>;
  release(doomed: string[]): Promise<string[]>;
  forget(trx: Db, gone: string[]): Promise<void>;
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
  async removingMany(db, digests, steps) {
    const unique = [...new Set(digests)];
    if (unique.length === 0) return { busy: [] };
    // Distinct sorted keys, one try each (two digests may share a 32-bit key: that lock covers both).
    const keys = [...new Set(unique.map(lockKey))].sort((a, b) => a - b);
    try {
      return await db.transaction().execute(async (trx) => {
        const { rows } = await sql<{ k: number; ok: boolean }>`
          select k, pg_try_advisory_xact_lock(${BLOB_LOCK_CLASS}, k) as ok from unnest(${keys}::int[]) as k`.execute(trx);
        const got = new Set(rows.filter((r) => r.ok).map((r) => Number(r.k)));
        const held = unique.filter((d) => got.has(lockKey(d)));
        if (held.length > 0) {
          const doomed = await steps.decide(trx, held);
          const gone = doomed.length > 0 ? await steps.release(doomed) : [];
          if (gone.length > 0) await steps.forget(trx, gone);
        }
        return { busy: unique.filter((d) => !got.has(lockKey(d))) };
      });
    } catch (err) {
      // A statement that waited on a row a push holds while that push waited for one of these locks:
      // PostgreSQL ends one of the two, and when it is this batch its blobs are taken one by one.
      if ((err as { code?: string }).code === '40P01') return { busy: unique };
      throw err;
    }
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
    async removingMany(db, digests, steps) {
      const unique = [...new Set(digests)];
      return files.exclusiveWhereFree(unique, async (held) => {
        const got = new Set(held);
        const busy = unique.filter((d) => !got.has(d));
        if (held.length === 0) return { busy };
        const doomed = await db.transaction().execute(async (trx) => {
          const chosen = await steps.decide(trx, held);
          if (chosen.length > 0) await steps.forget(trx, chosen);
          return chosen;
        });
        if (doomed.length > 0) await steps.release(doomed);
        return { busy };
      });
    },
  };
}

export function blobLocks(engine: Engine): BlobLocks {
  return engine === 'postgres' ? postgresLocks : sqliteLocks();
}
