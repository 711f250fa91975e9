import type { Logger } from 'pino';
import type { Kysely } from 'kysely';
import type { Database } from '../metadata/schema.js';
import type { BlobLocks } from '../metadata/blob-locks.js';
import type { BlobStore } from '../storage/ports.js';
import type { EventOrigin, NewEvent } from '../events/types.js';

/** What every registry service works with. */
export interface RegistryContext {
  db: Kysely<Database>;
  store: BlobStore;
  /** Taken by whatever makes a blob live, so the garbage collector never removes it meanwhile. */
  locks: BlobLocks;
  log: Logger;
  now(): number;
  settings: RegistrySettings;
  hooks: RegistryHooks;
}

/**
 * Where other modules take part in registry operations without the registry knowing them:
 * quotas refuse a store or a pull, usage statistics count pulls. Each may throw a RegistryError.
 */
export interface RegistryHooks {
  /** Before a blob of `size` bytes becomes part of `repository` (upload completion, mount). */
  beforeBlobStored?(repository: string, digest: string, size: number): Promise<void>;
  /** Before `bytes` of a blob are served from `repository` to `puller`. */
  beforeBlobServed?(repository: string, bytes: number, puller: Puller): Promise<void>;
  /**
   * After a manifest was stored (push, tag, restore), before the client hears of it: the scanner records
   * its job durably here, so an acknowledged push is never left unscanned by a crash. Must not throw.
   */
  manifestPushed?(repository: string, digest: string, mediaType: string): Promise<void>;
  /** After a manifest was served by GET (a pull). */
  manifestPulled?(repository: string, digest: string, pull?: PullOrigin): void;
  /**
   * Inside the transaction of a change (push, tag move, delete), with that transaction: the outbox
   * of webhook events, so an event exists exactly when its change committed. May throw, which rolls
   * the change back: a change whose event cannot be recorded is not acknowledged.
   */
  changed?(trx: Kysely<Database>, event: NewEvent): Promise<void>;
  /** After a transaction that called `changed` committed: the delivery worker can look now. */
  committed?(): void;
}

/** What a pull event tells of the request: its tag (when pulled by tag), its media type and size. */
export interface PullOrigin {
  tag?: string;
  mediaType: string;
  size: number;
  origin: EventOrigin;
}

/** Who a blob is served to: the account of the principal pulling, or null for an anonymous client. */
export interface Puller {
  accountId: number | null;
}

export interface RegistrySettings {
  deleteEnabled: boolean;
  /** Seconds after which an untouched upload session is abandoned. */
  uploadExpiry: number;
  maxPageSize: number;
  /** Seconds a deleted image stays restorable in the trash. */
  trashRetention: number;
  /** Seconds a blob link is left alone after it was made (storage.gcGracePeriod). */
  gcGracePeriod: number;
}
