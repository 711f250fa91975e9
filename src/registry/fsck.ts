import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { BlobLocks } from '../metadata/blob-locks.js';
import { findBlob } from '../metadata/blobs.js';
import * as fsck from '../metadata/fsck.js';
import { knownBlobs } from '../metadata/garbage.js';
import { storageUsed } from '../metadata/quotas.js';
import type { Database } from '../metadata/schema.js';
import { tryParseDigest } from '../oci/digest.js';
import { parseManifest, type ParsedManifest } from '../oci/manifest.js';
import type { BlobStore } from '../storage/ports.js';
import { ownImageSize } from './manifests.js';

/** What a problem is; `severity` says whether the registry is wrong or only untidy. */
export type FsckCheck =
  | 'blob-bytes-missing' | 'blob-size-differs' | 'blob-digest-differs'
  | 'manifest-unreadable' | 'reference-blob-unknown' | 'reference-blob-unlinked' | 'reference-row-missing'
  | 'index-child-missing' | 'referrer-subject-missing'
  | 'tag-manifest-missing' | 'trash-blob-missing'
  | 'orphan-file' | 'image-size-differs';

export interface FsckProblem {
  check: FsckCheck;
  /** `error`: something a pull, a restore or the quota gets wrong. `info`: allowed, or left for the garbage collector. */
  severity: 'error' | 'info';
  /** The repository it is in, when it is in one. */
  repository?: string;
  digest: string;
  message: string;
  /** Fixed by this run (--repair). */
  repaired: boolean;
}

export interface FsckOptions {
  /** Re-hash every blob's bytes (else only their presence and size are checked). */
  content?: boolean;
  /** Fix what can be fixed: manifests' image sizes. */
  repair?: boolean;
  /** Told of each problem as it is found, so a long run reports as it goes. */
  onProblem?: (problem: FsckProblem) => void;
}

export interface FsckReport {
  content: boolean;
  repair: boolean;
  durationMs: number;
  blobs: number;
  bytesHashed: number;
  manifests: number;
  tags: number;
  trashReferences: number;
  files: number;
  /** Errors left (repaired ones are not counted): 0 means the registry is consistent. */
  errors: number;
  infos: number;
  repaired: number;
  /** The first problems found; the rest only went to onProblem (problemsOmitted says how many). */
  problems: FsckProblem[];
  problemsOmitted: number;
  /** Each account's storage usage recounted from its links (computed live, so nothing to repair). */
  usage: Array<{ account: string; storageBytes: number }>;
}

const BATCH = 500;
/** Manifests are up to 4 MiB each: fewer to a page. */
const MANIFEST_BATCH = 100;
const KEPT_PROBLEMS = 1000;

/**
 * `wharf fsck`: checks that the metadata store and the blob store agree. Every blob row has its
 * bytes, of its size and (unless told otherwise) of its digest; every manifest's references resolve
 * in its repository and are written down as reference rows (the garbage collector goes by those);
 * every tag points at a manifest; every blob a trashed image needs has its row; every manifest's
 * image size matches a recount. Stored files no row knows are reported for information: the
 * collector removes them after its grace period. It reads in pages and hashes blobs as streams, so
 * its memory stays flat however large the registry; it can run while the registry serves (a
 * problem seen in passing is checked again before it is reported).
 */
export class Fsck {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly store: BlobStore,
    private readonly locks: BlobLocks,
    private readonly now: () => number = Date.now,
  ) {}

  async run(options: FsckOptions = {}): Promise<FsckReport> {
    const startedAt = this.now();
    const report: FsckReport = {
      content: options.content ?? true, repair: options.repair ?? false, durationMs: 0,
      blobs: 0, bytesHashed: 0, manifests: 0, tags: 0, trashReferences: 0, files: 0,
      errors: 0, infos: 0, repaired: 0, problems: [], problemsOmitted: 0, usage: [],
    };
    const found = (problem: Omit<FsckProblem, 'repaired'> & { repaired?: boolean }) => {
      const full: FsckProblem = { ...problem, repaired: problem.repaired ?? false };
      if (full.repaired) report.repaired++;
      else if (full.severity === 'error') report.errors++;
      else report.infos++;
      if (report.problems.length < KEPT_PROBLEMS) report.problems.push(full);
      else report.problemsOmitted++;
      options.onProblem?.(full);
    };
    await this.checkBlobs(report, found);
    await this.checkManifests(report, found);
    await this.checkTags(report, found);
    await this.checkTrash(report, found);
    await this.checkFiles(report, found);
    await this.recountUsage(report);
    report.durationMs = this.now() - startedAt;
    return report;
  }

  private async checkBlobs(report: FsckReport, found: Found): Promise<void> {
    let after: string | undefined;
    for (;;) {
      const page = await fsck.blobPage(this.db, BATCH, after);
      if (page.length === 0) break;
      for (const blob of page) {
        report.blobs++;
        let stat = await this.store.stat(blob.digest);
        if (stat?.size !== blob.size) {
          // The collector deletes the bytes just before the row's removal commits: look again
          // under the blob's lock, which it holds until then.
          const confirmed = await this.confirmBlob(blob.digest);
          if (!confirmed) continue;
          stat = confirmed.stat;
        }
        if (stat === null) {
          found({ check: 'blob-bytes-missing', severity: 'error', digest: blob.digest, message: `blob ${blob.digest} has a row (${blob.size} bytes) but no bytes in the blob store: pulls of it fail; push it again to restore it` });
          continue;
        }
        if (stat.size !== blob.size) {
          found({ check: 'blob-size-differs', severity: 'error', digest: blob.digest, message: `blob ${blob.digest} is stored with ${stat.size} bytes, its row says ${blob.size}: the stored file is damaged; delete it and push the blob again` });
          continue;
        }
        if (report.content) {
          const actual = await this.hash(blob.digest, report);
          if (actual !== undefined && actual !== blob.digest) {
            found({ check: 'blob-digest-differs', severity: 'error', digest: blob.digest, message: `blob ${blob.digest}: its stored bytes hash to ${actual}, so they are damaged; delete the file and push the blob again` });
          }
        }
      }
      after = page[page.length - 1]!.digest;
    }
  }

  /** The blob's row and bytes as they are once no one makes it live or removes it; null when the row is gone. */
  private async confirmBlob(digest: string): Promise<{ stat: { size: number } | null } | null> {
    return this.db.transaction().execute(async (trx) => {
      await this.locks.shared(trx, [digest]);
      if (!(await findBlob(trx, digest))) return null;
      return { stat: await this.store.stat(digest) };
    });
  }

  /** The digest of the stored bytes, in the blob's own algorithm, read as a stream. */
  private async hash(digest: string, report: FsckReport): Promise<string | undefined> {
    const parsed = tryParseDigest(digest);
    if (!parsed) return undefined;
    const hash = createHash(parsed.algorithm);
    for await (const chunk of await this.store.read(digest)) {
      hash.update(chunk as Buffer);
      report.bytesHashed += (chunk as Buffer).length;
    }
    return `${parsed.algorithm}:${hash.digest('hex')}`;
  }

  private async checkManifests(report: FsckReport, found: Found): Promise<void> {
    // Image sizes as recounted, for the manifests whose stored one is wrong: an index's recount
    // adds up its children's. Children come before their index in id order (they must exist first).
    const recounted = new Map<string, number>();
    let afterId = 0;
    for (;;) {
      const page = await fsck.manifestPage(this.db, MANIFEST_BATCH, afterId);
      if (page.length === 0) break;
      const parsed = new Map<number, ParsedManifest>();
      for (const manifest of page) {
        report.manifests++;
        try {
          parsed.set(manifest.id, parseManifest(manifest.content, manifest.mediaType));
        } catch (err) {
          found({ check: 'manifest-unreadable', severity: 'error', repository: manifest.repository, digest: manifest.digest, message: `manifest ${manifest.digest} in ${manifest.repository} does not parse as ${manifest.mediaType}: ${(err as Error).message}; delete it and push the image again` });
        }
      }
      const pending: Array<{ manifestId: number; problem: Parameters<Found>[0] }> = [];
      await this.checkReferences(page, parsed, (manifestId, problem) => pending.push({ manifestId, problem }));
      // A manifest deleted meanwhile takes its references with it: only what still stands is reported.
      for (const { manifestId, problem } of pending) {
        if (await fsck.manifestExists(this.db, manifestId)) found(problem);
      }
      await this.checkImageSizes(page, parsed, recounted, report.repair, found);
      afterId = page[page.length - 1]!.id;
    }
  }

  private async checkReferences(page: fsck.ManifestRow[], parsed: Map<number, ParsedManifest>, report: (manifestId: number, problem: Parameters<Found>[0]) => void): Promise<void> {
    const repositoryIds = [...new Set(page.map((m) => m.repositoryId))];
    const digests = new Set<string>();
    for (const [id, p] of parsed) {
      for (const d of [...p.blobs, ...p.manifests]) digests.add(d.digest);
      const subject = page.find((m) => m.id === id)!.subjectDigest;
      if (subject) digests.add(subject);
    }
    const list = [...digests];
    const [rows, links, blobRows, manifests] = await Promise.all([
      fsck.referenceRows(this.db, [...parsed.keys()]),
      fsck.linkPairs(this.db, repositoryIds, list),
      fsck.blobRowsAmong(this.db, list),
      fsck.manifestSizes(this.db, repositoryIds, list),
    ]);
    for (const manifest of page) {
      const p = parsed.get(manifest.id);
      if (!p) continue;
      const where = { repository: manifest.repository, digest: manifest.digest };
      const recorded = rows.get(manifest.id) ?? new Set<string>();
      for (const blob of new Set(p.blobs.map((b) => b.digest))) {
        if (!blobRows.has(blob)) {
          report(manifest.id, { check: 'reference-blob-unknown', severity: 'error', ...where, message: `manifest ${manifest.digest} in ${manifest.repository} references blob ${blob}, which the registry does not have: pulls of the image fail; push the image again` });
        } else if (!links.has(`${manifest.repositoryId}:${blob}`)) {
          report(manifest.id, { check: 'reference-blob-unlinked', severity: 'error', ...where, message: `manifest ${manifest.digest} in ${manifest.repository} references blob ${blob}, which is not linked in the repository: pulls of it answer 404; push the image again` });
        }
        if (!recorded.has(`blob:${blob}`)) {
          report(manifest.id, { check: 'reference-row-missing', severity: 'error', ...where, message: `manifest ${manifest.digest} in ${manifest.repository} uses blob ${blob} but has no reference row for it, so the garbage collector may remove it; push the image again` });
        }
      }
      for (const child of new Set(p.manifests.map((m) => m.digest))) {
        if (!manifests.has(`${manifest.repositoryId}:${child}`)) {
          report(manifest.id, { check: 'index-child-missing', severity: 'error', ...where, message: `index ${manifest.digest} in ${manifest.repository} lists manifest ${child}, which is not in the repository: that platform cannot be pulled; push it again` });
        }
        if (!recorded.has(`manifest:${child}`)) {
          report(manifest.id, { check: 'reference-row-missing', severity: 'error', ...where, message: `index ${manifest.digest} in ${manifest.repository} lists manifest ${child} but has no reference row for it; push the index again` });
        }
      }
      if (manifest.subjectDigest && !manifests.has(`${manifest.repositoryId}:${manifest.subjectDigest}`)) {
        report(manifest.id, { check: 'referrer-subject-missing', severity: 'info', ...where, message: `manifest ${manifest.digest} in ${manifest.repository} refers to subject ${manifest.subjectDigest}, which is not in the repository (the spec allows this)` });
      }
    }
  }

  private async checkImageSizes(page: fsck.ManifestRow[], parsed: Map<number, ParsedManifest>, recounted: Map<string, number>, repair: boolean, found: Found): Promise<void> {
    const repositoryIds = [...new Set(page.map((m) => m.repositoryId))];
    const children = [...new Set([...parsed.values()].flatMap((p) => (p.isIndex ? p.manifests.map((m) => m.digest) : [])))];
    const stored = await fsck.manifestSizes(this.db, repositoryIds, children);
    for (const manifest of page) {
      const p = parsed.get(manifest.id);
      if (!p) continue;
      const key = `${manifest.repositoryId}:${manifest.digest}`;
      // Sizes of this page's children: their recount when wrong (the page's own, just made), else as stored.
      const sizeOf = (digest: string) => recounted.get(`${manifest.repositoryId}:${digest}`) ?? stored.get(`${manifest.repositoryId}:${digest}`) ?? 0;
      const expected = p.isIndex
        ? [...new Set(p.manifests.map((m) => m.digest))].reduce((sum, d) => sum + sizeOf(d), 0)
        : ownImageSize(p);
      if (expected === manifest.imageSize) continue;
      recounted.set(key, expected);
      const repaired = repair && await fsck.repairImageSize(this.db, manifest.id, manifest.imageSize, expected);
      found({
        check: 'image-size-differs', severity: 'error', repository: manifest.repository, digest: manifest.digest, repaired,
        message: `manifest ${manifest.digest} in ${manifest.repository} has image size ${manifest.imageSize}, the recount gives ${expected}${repaired ? ': repaired' : ': image lists show the wrong size; run wharf fsck --repair'}`,
      });
    }
  }

  private async checkTags(report: FsckReport, found: Found): Promise<void> {
    report.tags = await fsck.countRows(this.db, 'tags');
    let after: fsck.TagKey | undefined;
    for (;;) {
      const page = await fsck.danglingTags(this.db, BATCH, after);
      if (page.length === 0) break;
      for (const tag of page) {
        found({ check: 'tag-manifest-missing', severity: 'error', repository: tag.repository, digest: tag.manifestDigest, message: `tag ${tag.repository}:${tag.name} points at manifest ${tag.manifestDigest}, which is not in the repository: pulls of the tag fail; push the image again or delete the tag` });
      }
      after = page[page.length - 1];
    }
  }

  private async checkTrash(report: FsckReport, found: Found): Promise<void> {
    report.trashReferences = await fsck.countRows(this.db, 'trash_references');
    let after: fsck.TrashReferenceKey | undefined;
    for (;;) {
      const page = await fsck.trashReferencesWithoutBlob(this.db, BATCH, after);
      if (page.length === 0) break;
      for (const ref of page) {
        found({ check: 'trash-blob-missing', severity: 'error', repository: ref.repository, digest: ref.digest, message: `trashed image ${ref.repository}@${ref.image} needs blob ${ref.digest}, which the registry does not have: a restore of it would not pull; remove it from the trash` });
      }
      after = page[page.length - 1];
    }
  }

  private async checkFiles(report: FsckReport, found: Found): Promise<void> {
    let batch: Array<{ digest: string; size: number }> = [];
    const flush = async () => {
      const known = await knownBlobs(this.db, batch.map((f) => f.digest));
      for (const file of batch) {
        if (known.has(file.digest)) continue;
        found({ check: 'orphan-file', severity: 'info', digest: file.digest, message: `stored file ${file.digest} (${file.size} bytes) has no blob row; garbage collection removes it once it is older than storage.gcGracePeriod` });
      }
      batch = [];
    };
    for await (const file of this.store.listBlobs()) {
      report.files++;
      batch.push(file);
      if (batch.length >= BATCH) await flush();
    }
    if (batch.length > 0) await flush();
  }

  private async recountUsage(report: FsckReport): Promise<void> {
    let afterId = 0;
    for (;;) {
      const page = await fsck.accountPage(this.db, BATCH, afterId);
      if (page.length === 0) break;
      for (const account of page) report.usage.push({ account: account.name, storageBytes: await storageUsed(this.db, account.id) });
      afterId = page[page.length - 1]!.id;
    }
  }
}

type Found = (problem: Omit<FsckProblem, 'repaired'> & { repaired?: boolean }) => void;
