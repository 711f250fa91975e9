import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../../metadata/schema.js';
import { acquireLease, releaseLease } from '../../metadata/leases.js';
import { ecosystemsInUse, type PackageKey } from '../../metadata/scan-packages.js';
import * as sources from '../../metadata/vulndb-sources.js';
import type { VulnDb } from '../vulndb.js';
import { exportLocation, FeedError, fetchExport, withoutCredentials } from './download.js';
import { ZipReadError } from './zip-entries.js';

const LEASE = 'vulndb-sync';
/** Renewed before each export; longer than one big export's download and import, short enough that a dead replica's sync is taken over the same morning. */
const LEASE_MS = 30 * 60_000;

export interface FeedSettings {
  /** OSV's bucket, a mirror's URL, or a local directory (path or file:// URL). */
  feedBase: string;
  /** Ecosystems to fetch whatever the images contain; empty: those the scanned images contain. */
  ecosystems: string[];
}

export interface SourceOutcome {
  source: string;
  url: string;
  outcome: 'updated' | 'unchanged' | 'failed';
  records: number;
  changed: number;
  withdrawn: number;
  skipped: number;
  error?: string;
}

export interface SyncReport {
  sources: SourceOutcome[];
  /** Images queued for a rescan because a changed advisory names one of their packages. */
  rescansQueued: number;
  importId: number | null;
}

/** Another replica (or a `wharf vulndb sync`) is syncing now. */
export class FeedBusyError extends Error {}

/**
 * The folder of OSV's bucket an ecosystem's records are exported to: the ecosystem without its
 * release ("Debian:12" and "Debian:11" are both in Debian/all.zip; "Red Hat:enterprise_linux:9::appstream"
 * in "Red Hat"), since OSV exports only the main ecosystems (google/osv.dev#2969).
 */
export function exportFolder(ecosystem: string): string {
  return ecosystem.split(':')[0]!.trim();
}

/**
 * The advisory feed: fetches OSV's per-ecosystem exports the stored images need, imports each one
 * that changed in one transaction (a failed download or a damaged zip keeps the data there was),
 * and queues rescans of the images whose packages the changed advisories name. One replica at a
 * time (a lease in the database), whether scheduled or run by `wharf vulndb sync`.
 */
export class FeedSync {
  private readonly holder = `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly stopping = new AbortController();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly vulndb: VulnDb,
    private readonly rescan: (touched: PackageKey[]) => Promise<string[]>,
    private readonly log: Logger,
    private readonly now: () => number,
    private readonly settings: FeedSettings,
  ) {}

  /** Ends a sync in progress at its next record (the export being read is rolled back). */
  stop(): void {
    this.stopping.abort(new FeedError('the server is shutting down'));
  }

  /** The export folders a sync fetches: the configured ecosystems, else those of the scanned images. */
  async folders(): Promise<string[]> {
    const ecosystems = this.settings.ecosystems.length > 0 ? this.settings.ecosystems : await ecosystemsInUse(this.db);
    return [...new Set(ecosystems.map(exportFolder).filter((f) => f !== ''))].sort();
  }

  async sync(): Promise<SyncReport> {
    if (!(await acquireLease(this.db, LEASE, this.holder, this.now(), LEASE_MS))) {
      throw new FeedBusyError('another replica or wharf vulndb sync is updating the vulnerability data now; its result shows in wharf vulndb status');
    }
    try {
      const outcomes: SourceOutcome[] = [];
      const touched = new Map<string, PackageKey>();
      let changed = 0;
      for (const folder of await this.folders()) {
        if (this.stopping.signal.aborted) break;
        if (!(await acquireLease(this.db, LEASE, this.holder, this.now(), LEASE_MS))) {
          // Expired during a very long export and taken by another replica: it carries on from here.
          this.log.warn({ source: folder }, 'the vulnerability data sync lease was taken over; this sync stops');
          break;
        }
        const outcome = await this.syncSource(folder, touched);
        changed += outcome.changed;
        outcomes.push(outcome);
      }
      let importId: number | null = null;
      let rescans: string[] = [];
      if (changed > 0) {
        const imported = await this.vulndb.recordImport(`sync ${withoutCredentials(this.settings.feedBase)}`, {
          records: outcomes.reduce((n, o) => n + o.records, 0), changed, withdrawn: outcomes.reduce((n, o) => n + o.withdrawn, 0), skipped: [], touched: [],
        });
        importId = imported.importId;
        rescans = await this.rescan([...touched.values()]);
      }
      this.log.info({ sources: outcomes.map((o) => ({ source: o.source, outcome: o.outcome, changed: o.changed })), rescansQueued: rescans.length }, 'vulnerability data synced');
      return { sources: outcomes, rescansQueued: rescans.length, importId };
    } finally {
      await releaseLease(this.db, LEASE, this.holder);
    }
  }

  /**
   * Syncs when no sync began within `intervalMs` (on any replica, so restarts do not resync), or
   * at once when the images contain an ecosystem no sync has fetched yet (a fresh registry's first
   * images get their advisory data without waiting a day).
   */
  async syncIfDue(intervalMs: number): Promise<SyncReport | undefined> {
    const folders = await this.folders();
    if (folders.length === 0) return undefined;
    const known = new Set((await sources.listSources(this.db)).map((s) => s.name));
    const last = await sources.lastAttemptAt(this.db);
    const due = last === null || this.now() - last >= intervalMs || folders.some((f) => !known.has(f));
    return due ? this.sync() : undefined;
  }

  private async syncSource(folder: string, touched: Map<string, PackageKey>): Promise<SourceOutcome> {
    const location = exportLocation(this.settings.feedBase, folder);
    const url = withoutCredentials(location);
    const base = { source: folder, url, records: 0, changed: 0, withdrawn: 0, skipped: 0 };
    const startedAt = this.now();
    const previous = await sources.findSource(this.db, folder);
    // Validators belong to the place they came from: a new feedBase downloads everything once.
    const validators = previous && previous.url === url ? { etag: previous.etag, lastModified: previous.last_modified } : { etag: null, lastModified: null };
    try {
      const fetched = await fetchExport(location, validators, this.stopping.signal);
      if (fetched.unchanged) {
        await sources.saveSourceSuccess(this.db, folder, url, startedAt);
        return { ...base, outcome: 'unchanged', records: previous?.records ?? 0 };
      }
      try {
        const ingested = await this.vulndb.ingestZip(fetched.file, this.stopping.signal);
        for (const k of ingested.touched) touched.set(`${k.ecosystem}\u0000${k.name}`, k);
        await sources.saveSourceSuccess(this.db, folder, url, startedAt, { etag: fetched.etag, lastModified: fetched.lastModified, records: ingested.records, changed: ingested.changed });
        if (ingested.skipped.length > 0) this.log.warn({ source: folder, skipped: ingested.skipped.length, first: ingested.skipped[0] }, 'records of the export were skipped');
        return { ...base, outcome: 'updated', records: ingested.records, changed: ingested.changed, withdrawn: ingested.withdrawn, skipped: ingested.skipped.length };
      } finally {
        await fetched.discard();
      }
    } catch (err) {
      if (!(err instanceof FeedError) && !(err instanceof ZipReadError)) throw err;
      const error = err instanceof ZipReadError ? `${url}: ${err.message}; nothing of it was imported, the previous data is kept` : `${err.message}; the previous data is kept`;
      await sources.saveSourceError(this.db, folder, url, startedAt, error);
      this.log.warn({ source: folder, err: error }, 'vulnerability data source not updated');
      return { ...base, outcome: 'failed', error };
    }
  }
}
