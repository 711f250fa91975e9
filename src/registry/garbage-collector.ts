import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { BlobLocks } from '../metadata/blob-locks.js';
import * as garbage from '../metadata/garbage.js';
import * as gcRuns from '../metadata/gc-runs.js';
import { acquireLease, releaseLease } from '../metadata/leases.js';
import type { Database } from '../metadata/schema.js';
import { deleteBlobs } from '../storage/delete-blobs.js';
import type { BlobStore } from '../storage/ports.js';
import { removeLinkIfStale } from './link-release.js';
import { yieldToRequests } from '../metadata/yield.js';

export interface GcReport {
  id: number;
  dryRun: boolean;
  trigger: string;
  started: string;
  durationMs: number;
  /** Repository links of blobs no image of the repository uses any more. */
  linksRemoved: number;
  blobsRemoved: number;
  bytesFreed: number;
  /** Files in the blob store that no blob row knew (a crash between the rename and the commit). */
  orphansRemoved: number;
  orphanBytesFreed: number;
}

export interface GcSettings {
  /** Seconds a link or a stored file must have existed before the collector may remove it. */
  gracePeriod: number;
  /** Told how each run ended (metrics). */
  onRun?(outcome: 'success' | 'failure' | 'busy', report?: GcReport): void;
}

/** Another replica (or this one) is collecting now. */
export class GcBusyError extends Error {
  constructor() {
    super('garbage collection is already running on this registry: wait for it to finish');
    this.name = 'GcBusyError';
  }
}

const LEASE = 'garbage-collection';
const LEASE_MS = 5 * 60_000;
const BATCH = 500;
/** Links or blobs checked per statement at most: the sweeps' queries stay short, whatever the registry's size. */
const SCAN_WINDOW = 2000;

/**
 * Online mark and sweep over the metadata store, while pushes, pulls and deletes go on.
 *
 * Protocol: whatever makes a blob live (an upload's commit, a mount, a manifest referencing it, an
 * image moved to the trash) does so in a transaction holding the blob's shared lock; the collector
 * removes a link or a blob only while holding its exclusive lock, re-checking in one statement that
 * nothing references it, and deletes the bytes while it still holds that lock. So a push that
 * committed first is seen by the re-check, and a push that comes after finds the blob gone (an upload
 * stores it again; a manifest is refused with MANIFEST_BLOB_UNKNOWN and the client pushes the blob
 * again). Young links and files are left alone (the grace period), so a push between its blob uploads
 * and its manifest is not disturbed at all. One collector runs at a time across replicas (a lease in
 * the database).
 *
 * The sweeps work in batches of BATCH candidates: one statement tries the exclusive locks of the
 * whole batch without waiting (BlobLocks.removingMany), one statement re-checks the ones it got and
 * one removes their rows, in one transaction, and their bytes go together (several unlinks in
 * flight, or S3 DeleteObjects) under the same locks (removingMany says when). A candidate whose
 * lock a push holds right now is removed on its own afterwards, waiting for that push as before.
 * Between batches the run lets queued requests in, so on SQLite pulls and pushes are not held up
 * behind a long run.
 */
export class GarbageCollector {
  private readonly holder = randomUUID();
  /** Set when the process shuts down: a run stops at its next batch. */
  stopping = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly store: BlobStore,
    private readonly locks: BlobLocks,
    private readonly log: Logger,
    private readonly now: () => number,
    private readonly settings: GcSettings,
  ) {}

  async run(options: { dryRun?: boolean; trigger?: string } = {}): Promise<GcReport> {
    const dryRun = options.dryRun ?? false;
    const trigger = (options.trigger ?? 'schedule').slice(0, 200);
    if (!(await acquireLease(this.db, LEASE, this.holder, this.now(), LEASE_MS))) {
      this.settings.onRun?.('busy');
      throw new GcBusyError();
    }
    const startedAt = this.now();
    const id = await gcRuns.startRun(this.db, trigger, dryRun, startedAt);
    const report: GcReport = {
      id, dryRun, trigger, started: new Date(startedAt).toISOString(), durationMs: 0,
      linksRemoved: 0, blobsRemoved: 0, bytesFreed: 0, orphansRemoved: 0, orphanBytesFreed: 0,
    };
    const before = startedAt - this.settings.gracePeriod * 1000;
    try {
      const staleLinks = await this.sweepLinks(before, dryRun, report);
      await this.sweepBlobs(before, dryRun, staleLinks, report);
      await this.sweepOrphans(before, dryRun, report);
      report.durationMs = this.now() - startedAt;
      await gcRuns.finishRun(this.db, id, this.now(), report, null);
      this.settings.onRun?.('success', report);
      this.log.info({ gc: report }, dryRun ? 'garbage collection dry run finished' : 'garbage collection finished');
      return report;
    } catch (err) {
      report.durationMs = this.now() - startedAt;
      await gcRuns.finishRun(this.db, id, this.now(), report, (err as Error).message ?? String(err)).catch(() => undefined);
      this.settings.onRun?.('failure', report);
      throw err;
    } finally {
      await releaseLease(this.db, LEASE, this.holder).catch(() => undefined);
    }
  }

  stop(): void {
    this.stopping = true;
  }

  /** Keeps the lease while a long run goes on; stops the run if another replica took it over. */
  private async renewLease(): Promise<void> {
    if (this.stopping) throw new Error('garbage collection stopped: the server is shutting down; the next run continues');
    if (!(await acquireLease(this.db, LEASE, this.holder, this.now(), LEASE_MS))) {
      throw new Error('garbage collection lost its lease to another replica (a pause longer than 5 minutes?): stopped; the next run continues');
    }
  }

  /** Links nothing uses any more. In a dry run, the set of links that would go (the blob sweep needs it). */
  private async sweepLinks(before: number, dryRun: boolean, report: GcReport): Promise<Set<string>> {
    const wouldGo = new Set<string>();
    await this.eachPage<garbage.LinkKey, garbage.LinkKey>(
      (after) => garbage.linkWindowEdge(this.db, SCAN_WINDOW, after),
      (after, upTo) => garbage.staleLinks(this.db, before, BATCH, after, upTo),
      (link) => link,
      async (page) => {
        await this.removeLinks(page, before, dryRun, report, wouldGo);
        await this.renewLease();
      },
    );
    return wouldGo;
  }

  /**
   * Hands `handle` the candidates in pages of at most BATCH, looking at a window of SCAN_WINDOW keys
   * at a time (`edgeOf` finds a window's last key, `page` the candidates after a key and up to
   * another), so each statement stays short whatever the registry's size, and requests are served
   * between windows.
   */
  private async eachPage<K, T>(
    edgeOf: (after: K | undefined) => Promise<K | undefined>,
    page: (after: K | undefined, upTo: K | undefined) => Promise<T[]>,
    keyOf: (item: T) => K,
    handle: (items: T[]) => Promise<void>,
  ): Promise<void> {
    let after: K | undefined;
    for (;;) {
      const edge = await edgeOf(after);
      let cursor = after;
      for (;;) {
        const items = await page(cursor, edge);
        if (items.length === 0) break;
        await handle(items);
        cursor = keyOf(items[items.length - 1]!);
        if (items.length < BATCH) break;
      }
      if (edge === undefined) return;
      after = edge;
      await yieldToRequests();
    }
  }

  private async removeLinks(page: garbage.LinkKey[], before: number, dryRun: boolean, report: GcReport, wouldGo: Set<string>): Promise<void> {
    if (dryRun) {
      for (const link of page) wouldGo.add(linkId(link));
      report.linksRemoved += page.length;
      return;
    }
    const digests = [...new Set(page.map((link) => link.digest))];
    let removed = 0;
    const { busy } = await this.locks.removingMany(this.db, digests, {
      decide: async (trx, held) => {
        removed = await garbage.removeStaleLinksOf(trx, held, before);
        return [];
      },
      release: async () => [],
      forget: async () => {},
    });
    if (busy.length < digests.length) report.linksRemoved += removed;
    // Digests a push holds now: wait for each, as an unbatched removal does.
    const waitFor = new Set(busy);
    for (const link of page) {
      if (!waitFor.has(link.digest)) continue;
      if (await removeLinkIfStale(this.db, this.locks, link, before)) report.linksRemoved++;
    }
    await yieldToRequests();
  }

  private async sweepBlobs(before: number, dryRun: boolean, staleLinks: Set<string>, report: GcReport): Promise<void> {
    if (dryRun) return this.countBlobsThatWouldGo(before, staleLinks, report);
    await this.eachPage<string, garbage.BlobKey>(
      (after) => garbage.blobWindowEdge(this.db, SCAN_WINDOW, after),
      (after, upTo) => garbage.unreferencedBlobs(this.db, before, BATCH, after, upTo),
      (blob) => blob.digest,
      async (page) => {
        await this.removeBlobs(page, report);
        await this.renewLease();
      },
    );
  }

  private async removeBlobs(page: garbage.BlobKey[], report: GcReport): Promise<void> {
    let freed: garbage.BlobKey[] = [];
    const { busy } = await this.locks.removingMany(this.db, page.map((blob) => blob.digest), {
      decide: async (trx, held) => (await garbage.stillUnreferenced(trx, held)).map((blob) => blob.digest),
      release: (doomed) => this.deleteBytes(doomed),
      forget: async (trx, gone) => {
        freed = await garbage.removeUnreferencedBlobs(trx, gone);
      },
    });
    for (const blob of freed) {
      report.blobsRemoved++;
      report.bytesFreed += blob.size;
    }
    // Blobs a push holds now: wait for each, as an unbatched removal does.
    for (const digest of busy) {
      const size = await this.locks.removing(this.db, digest, async (trx) => {
        const removed = await garbage.removeUnreferencedBlob(trx, digest);
        // The bytes go before the row's removal commits: should the commit fail, the row stays
        // (unreferenced, for the next run) and a later upload of the blob puts the bytes back.
        if (removed !== undefined) await this.store.delete(digest);
        return removed;
      });
      if (size !== undefined) {
        report.blobsRemoved++;
        report.bytesFreed += size;
      }
    }
    await yieldToRequests();
  }

  /** Removes the bytes of `digests` together; the ones that are gone (a failure is logged and left for the next run). */
  private async deleteBytes(digests: string[]): Promise<string[]> {
    const failed = await deleteBlobs(this.store, digests);
    if (failed.size > 0) {
      const [digest, err] = failed.entries().next().value!;
      this.log.warn({ digest, failures: failed.size, err: err.message }, 'garbage collection could not delete some blobs from storage: they stay until the next run');
    }
    return digests.filter((digest) => !failed.has(digest));
  }

  private async countBlobsThatWouldGo(before: number, staleLinks: Set<string>, report: GcReport): Promise<void> {
    await this.eachPage<string, garbage.BlobKey>(
      (after) => garbage.blobWindowEdge(this.db, SCAN_WINDOW, after),
      (after, upTo) => garbage.blobsWithoutImages(this.db, before, BATCH, after, upTo),
      (blob) => blob.digest,
      async (page) => {
        const links = await garbage.linksOf(this.db, page.map((b) => b.digest));
        for (const blob of page) {
          if ((links.get(blob.digest) ?? []).every((repositoryId) => staleLinks.has(linkId({ repositoryId, digest: blob.digest })))) {
            report.blobsRemoved++;
            report.bytesFreed += blob.size;
          }
        }
      },
    );
  }

  private async sweepOrphans(before: number, dryRun: boolean, report: GcReport): Promise<void> {
    let batch: Array<{ digest: string; size: number; modifiedAt: number }> = [];
    const flush = async () => {
      const known = await garbage.knownBlobs(this.db, batch.map((f) => f.digest));
      const candidates = batch.filter((file) => !known.has(file.digest) && file.modifiedAt < before);
      if (dryRun) {
        for (const file of candidates) {
          report.orphansRemoved++;
          report.orphanBytesFreed += file.size;
        }
      } else if (candidates.length > 0) {
        const sizes = new Map(candidates.map((file) => [file.digest, file.size]));
        let removed: string[] = [];
        // A file whose digest a push holds is being stored right now (it comes back busy): the next
        // run looks at it again.
        await this.locks.removingMany(this.db, [...sizes.keys()], {
          // A file that got its row meanwhile (an upload committed it again) stays.
          decide: async (trx, held) => {
            const nowKnown = await garbage.knownBlobs(trx, held);
            return held.filter((digest) => !nowKnown.has(digest));
          },
          release: async (doomed) => {
            removed = await this.deleteBytes(doomed);
            return removed;
          },
          forget: async () => {},
        });
        for (const digest of removed) {
          report.orphansRemoved++;
          report.orphanBytesFreed += sizes.get(digest)!;
        }
        await yieldToRequests();
      }
      batch = [];
      await this.renewLease();
    };
    for await (const file of this.store.listBlobs()) {
      batch.push(file);
      if (batch.length >= BATCH) await flush();
    }
    if (batch.length > 0) await flush();
  }
}

function linkId(link: garbage.LinkKey): string {
  return `${link.repositoryId}\u0000${link.digest}`;
}
