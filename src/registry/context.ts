import type { Logger } from 'pino';
import type { Kysely } from 'kysely';
import type { Database } from '../metadata/schema.js';
import type { BlobStore } from '../storage/ports.js';

/** What every registry service works with. */
export interface RegistryContext {
  db: Kysely<Database>;
  store: BlobStore;
  log: Logger;
  now(): number;
  settings: RegistrySettings;
}

export interface RegistrySettings {
  deleteEnabled: boolean;
  /** Seconds after which an untouched upload session is abandoned. */
  uploadExpiry: number;
  maxPageSize: number;
}
