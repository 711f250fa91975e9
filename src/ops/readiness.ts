import { sql } from 'kysely';
import type { MetadataDb } from '../metadata/connect.js';
import type { BlobStore } from '../storage/ports.js';

export interface ReadinessReport {
  ready: boolean;
  checks: {
    database: CheckResult;
    migrations: CheckResult;
    storage: CheckResult;
  };
}

export interface CheckResult {
  ok: boolean;
  /** Why not, when not: what an operator reads in a probe's failure. */
  reason?: string;
}

/** A check that takes longer than this is a failure: a probe must answer before its own timeout. */
const CHECK_TIMEOUT_MS = 2000;

/**
 * Whether this process can serve requests now: the metadata database answers, it has exactly the
 * migrations this version knows (another replica may have migrated further, or not yet), and the
 * blob store can be written. For Kubernetes readiness probes and HAProxy health checks.
 */
export class Readiness {
  constructor(private readonly metadata: MetadataDb, private readonly store: BlobStore) {}

  async check(): Promise<ReadinessReport> {
    const [database, migrations, storage] = await Promise.all([
      timed('database', async () => { await sql`select 1`.execute(this.metadata.db); }),
      timed('migrations', async () => {
        if (!(await this.metadata.migrationsCurrent())) throw new Error('the database schema is not the one this version of Wharf expects: run the matching version, or restart to migrate');
      }),
      timed('storage', () => this.store.check()),
    ]);
    return { ready: database.ok && migrations.ok && storage.ok, checks: { database, migrations, storage } };
  }
}

async function timed(what: string, check: () => Promise<void>): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not answer within ${CHECK_TIMEOUT_MS / 1000} s`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { ok: true };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { ok: false, reason: `${(err as Error).message ?? String(err)}${code && !(err as Error).message?.includes(code) ? ` (${code})` : ''}`.slice(0, 300) };
  } finally {
    clearTimeout(timer);
  }
}
