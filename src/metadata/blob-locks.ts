import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Engine } from './migrations/index.js';
import type { Database } from './schema.js';

/**
 * Per-digest locks that order everything making a blob live (an upload's commit, a mount, a manifest
 * that references it) against the garbage collector deleting it. Taken inside a transaction and
 * held until it ends.
 *
 * PostgreSQL: transaction-level advisory locks, shared for those who make a blob live, exclusive for
 * the collector, so they work across replicas and for digests that have no row yet. Statements run
 * after the lock see what the other side committed (READ COMMITTED takes a snapshot per statement).
 * SQLite: one process holds the only connection for a whole transaction, so transactions never
 * interleave and there is nothing to take.
 */
export interface BlobLocks {
  /** Lets no collector delete these blobs (or their links) until the transaction ends. */
  shared(trx: Kysely<Database>, digests: readonly string[]): Promise<void>;
  /** Waits for every transaction holding `digest` shared to end, then keeps new ones out. */
  exclusive(trx: Kysely<Database>, digest: string): Promise<void>;
}

/** Advisory lock space of blob digests (two-key form: this class and 32 bits of the digest). */
const BLOB_LOCK_CLASS = 0x57480001;

function lockKey(digest: string): number {
  return createHash('sha256').update(digest).digest().readInt32BE(0);
}

const postgresLocks: BlobLocks = {
  async shared(trx, digests) {
    if (digests.length === 0) return;
    // Sorted and distinct, so two transactions never wait on each other in opposite orders.
    const keys = [...new Set(digests.map(lockKey))].sort((a, b) => a - b);
    await sql`select pg_advisory_xact_lock_shared(${BLOB_LOCK_CLASS}, k) from unnest(${keys}::int[]) as k`.execute(trx);
  },
  async exclusive(trx, digest) {
    await sql`select pg_advisory_xact_lock(${BLOB_LOCK_CLASS}, ${lockKey(digest)})`.execute(trx);
  },
};

const serializedLocks: BlobLocks = {
  async shared() {},
  async exclusive() {},
};

export function blobLocks(engine: Engine): BlobLocks {
  return engine === 'postgres' ? postgresLocks : serializedLocks;
}
