import { text } from 'node:stream/consumers';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../metadata/schema.js';
import * as scans from '../metadata/scans.js';
import { parseManifest, type ParsedManifest } from '../oci/manifest.js';
import { isIndexMediaType } from '../oci/media-types.js';
import type { BlobStore } from '../storage/ports.js';
import type { JobRunner } from '../jobs/runner.js';
import { findManifestByDigest, findManifestByTag } from '../metadata/manifests.js';
import { ProblemError } from '../errors/problem.js';
import { RegistryError } from '../oci/errors.js';
import { cycloneDx } from './sbom.js';
import { ScanError } from './errors.js';
import type { ExemptionService } from './exemptions.js';
import { emptySeverityCounts, issueCountOf, securityStatus, viewReport, worstStatus, type Exemption, type ReportView, type ScanReport, type SecurityStatus } from './report.js';
import { isScannableImage } from './scannable.js';
import { indexName, type VulnDb } from './vulndb.js';
import { digestsTouching, replaceScanPackages, type PackageKey } from '../metadata/scan-packages.js';
import { SecurityCache, type ImageSecurity, type ReportSummary } from './security-cache.js';
import { compareSeverity, SEVERITY_ORDER, type SeverityLevel } from './osv/schema.js';
import { yieldToRequests } from '../metadata/yield.js';

export const SCAN_JOB = 'scan';

/** Reports read per statement when summaries are worked out (a report is some tens of kilobytes of JSON). */
const REPORT_PAGE = 20;

/** Image configs are small JSON documents; a bigger one is not an image config. */
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/**
 * The Vulnerability Advisor's orchestration: every pushed image manifest gets a durable scan job;
 * the job reads the layers as streams, detects packages and configuration issues, matches them
 * against the imported advisories and stores the report by digest.
 */
export class ScanService {
  private readonly security = new SecurityCache();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly store: BlobStore,
    private readonly vulndb: VulnDb,
    private readonly exemptions: ExemptionService,
    private readonly jobs: JobRunner,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {
    jobs.register(SCAN_JOB, async (payload) => {
      const { digest } = payload as { digest: string };
      await this.run(digest);
      // The result is stored: who listens (webhooks) hears of it; their failure is no scan failure.
      await this.onScanned?.(digest).catch((err: unknown) => this.log.error({ err, digest }, 'could not tell of a finished scan'));
    });
  }

  /** Told when a scan job has stored its result (scan.completed webhook events). */
  onScanned?: (digest: string) => Promise<void>;

  /**
   * Queues a scan of a pushed manifest unless it was scanned against the current advisory data.
   * An artifact (a signature, an SBOM, a Helm chart…) is recorded as such and never queued.
   */
  async enqueue(digest: string): Promise<void> {
    const existing = await scans.findScan(this.db, digest);
    if (existing?.state === 'artifact') return;
    if (await this.isArtifact(digest)) {
      // Also replaces the "Scan failed" an artifact got before artifacts were told apart.
      await scans.saveScan(this.db, digest, { state: 'artifact', report: null, error: null, scannedAt: this.now(), vulndbImportId: null });
      return;
    }
    if (existing && existing.state !== 'scanning' && existing.vulndb_import_id === await this.vulndb.currentImportId()) return;
    await scans.markScanning(this.db, digest);
    await this.jobs.enqueue(SCAN_JOB, { digest }, `scan:${digest}`);
  }

  /** A stored manifest that is neither an image nor an index of images; false when it is not stored (anymore). */
  private async isArtifact(digest: string): Promise<boolean> {
    const repository = await scans.repositoryHolding(this.db, digest);
    const manifest = repository ? await findManifestByDigest(this.db, repository, digest) : undefined;
    if (!manifest || isIndexMediaType(manifest.media_type)) return false;
    return !isScannableImage(parseManifest(manifest.content, manifest.media_type));
  }

  /** After new advisory data: every scanned image is scanned again (its old report stays until then). */
  async rescanAll(): Promise<number> {
    const digests = await scans.scannedDigests(this.db);
    for (const digest of digests) await this.jobs.enqueue(SCAN_JOB, { digest }, `scan:${digest}`);
    return digests.length;
  }

  /**
   * After advisories changed: only the scanned images containing a package the changes name are
   * scanned again (and those scanned before packages were indexed). The digests queued.
   */
  async rescanTouched(touched: PackageKey[]): Promise<string[]> {
    const digests = await digestsTouching(this.db, touched);
    for (const digest of digests) await this.jobs.enqueue(SCAN_JOB, { digest }, `scan:${digest}`);
    return digests;
  }

  private async run(digest: string): Promise<void> {
    const repository = await scans.repositoryHolding(this.db, digest);
    if (!repository) {
      // Deleted meanwhile: nothing to scan, and no result to keep.
      await this.db.deleteFrom('scan_results').where('digest', '=', digest).execute();
      return;
    }
    const manifest = await findManifestByDigest(this.db, repository, digest);
    if (!manifest) return;
    const importId = await this.vulndb.currentImportId();
    const scannedAt = this.now();
    if (isIndexMediaType(manifest.media_type)) {
      // An index has no layers of its own: its platforms are scanned as the images they are.
      await scans.saveScan(this.db, digest, { state: 'done', report: null, error: null, scannedAt, vulndbImportId: importId });
      return;
    }
    const parsed = parseManifest(manifest.content, manifest.media_type);
    if (!isScannableImage(parsed)) {
      // Queued before artifacts were told apart: a signature's JSON layer is no filesystem to read.
      await scans.saveScan(this.db, digest, { state: 'artifact', report: null, error: null, scannedAt, vulndbImportId: null });
      return;
    }
    try {
      const { report, lookedUp } = await this.scanImage(digest, parsed);
      const unsupported = report.os === null && report.packageCount === 0;
      // One transaction: a feed sync reading which ecosystems and packages the images hold never sees
      // this image between its old package index and its new one (it would skip the ecosystem).
      await this.db.transaction().execute(async (trx) => {
        await scans.saveScan(trx, digest, { state: unsupported ? 'unsupported' : 'done', report: JSON.stringify(report), error: null, scannedAt, vulndbImportId: importId });
        await replaceScanPackages(trx, digest, lookedUp);
      });
      this.log.info({ digest, packages: report.packageCount, vulnerabilities: report.vulnerabilities.length, configurationIssues: report.configurationIssues.length }, 'image scanned');
    } catch (err) {
      if (!(err instanceof ScanError)) throw err;
      // Bad content is a result, not a retry: the image cannot be scanned as it is.
      await scans.saveScan(this.db, digest, { state: 'failed', report: null, error: err.message, scannedAt, vulndbImportId: importId });
      this.log.warn({ digest, err: err.message }, 'image could not be scanned');
    }
  }

  private async scanImage(digest: string, parsed: ParsedManifest): Promise<{ report: ScanReport; lookedUp: PackageKey[] }> {
    let config: Record<string, unknown> = {};
    if (parsed.config && parsed.config.size <= MAX_CONFIG_BYTES && /json/.test(parsed.config.mediaType)) {
      try {
        config = JSON.parse(await text(await this.store.read(parsed.config.digest))) as Record<string, unknown>;
      } catch (err) {
        throw new ScanError('invalid-archive', `the image config ${parsed.config.digest} is not readable JSON: ${(err as Error).message}`);
      }
    }
    const layers = parsed.blobs.filter((b) => b !== parsed.config).map((layer) => ({
      digest: layer.digest, mediaType: layer.mediaType, size: layer.size, open: () => this.store.read(layer.digest),
    }));
    // The layer readers, detectors and version schemes load with the first scan, not at start-up.
    const [{ analyzeImage }, { findVulnerabilities }] = await Promise.all([import('./analyze.js'), import('./findings.js')]);
    const analysis = await analyzeImage({ layers, config });
    // What the matching asked for is what an advisory change can touch (see rescanTouched).
    const lookedUp: PackageKey[] = [];
    const matched = await findVulnerabilities(analysis.packages, analysis.os, (ecosystem, name) => {
      lookedUp.push({ ecosystem, name: indexName(ecosystem, name) });
      return this.vulndb.lookup(ecosystem, name);
    }, (ids) => this.vulndb.aliases(ids));
    const status = await this.vulndb.status();
    const report: ScanReport = {
      digest,
      os: analysis.os ?? null,
      packageCount: analysis.packages.length,
      vulnerabilities: matched.findings,
      configurationIssues: analysis.configIssues,
      undetermined: matched.undetermined,
      warnings: analysis.warnings,
      vulndbDate: status.dataDate,
      scannedAt: new Date(this.now()).toISOString(),
      packages: analysis.packages,
    };
    return { report, lookedUp };
  }

  /**
   * The security status and highest open severity of images (the image list), with the account's
   * exemptions applied. One query for where their scans stand; a report is read and applied only
   * when the cache has no answer for its current scan and exemptions.
   */
  async statuses(images: Array<{ name: string; digest: string; media_type?: string }>, accountId: number | null): Promise<Map<string, ImageSecurity>> {
    const exemptions = accountId === null ? [] : await this.exemptions.forAccount(accountId);
    const { summaries, progress } = await this.summaries(images, exemptions);
    const out = new Map<string, ImageSecurity>();
    for (const [key, summary] of summaries) out.set(key, { status: summary.status, highestSeverity: summary.highestSeverity });
    // Images not scanned yet, failed scans and indexes: no report to read. Only an index needs more
    // than its scan's state (its platforms' reports); the list knows which rows are indexes.
    for (const image of images) {
      const key = `${image.name}@${image.digest}`;
      if (out.has(key)) continue;
      const scan = progress.get(image.digest);
      const known = !scan?.hasReport && image.media_type !== undefined && !isIndexMediaType(image.media_type);
      out.set(key, known
        ? { status: securityStatus(scan && { state: scan.state, hasReport: false }, 0), highestSeverity: null }
        : await this.securityOf(image.name, image.digest, exemptions));
    }
    return out;
  }

  /**
   * Open vulnerabilities by severity over images, each counted as its own report counts them (the
   * account's exemptions applied), and how many of the images have a report (the console's overview).
   */
  async openVulnerabilities(images: Array<{ name: string; digest: string }>, accountId: number): Promise<{ severityCounts: Record<SeverityLevel, number>; scannedImages: number }> {
    const { summaries } = await this.summaries(images, await this.exemptions.forAccount(accountId));
    const severityCounts = emptySeverityCounts();
    for (const summary of summaries.values()) {
      for (const level of SEVERITY_ORDER) severityCounts[level] += summary.severityCounts[level];
    }
    return { severityCounts, scannedImages: summaries.size };
  }

  /**
   * The report summaries (`name@digest`) of those images that have a report, and where each image's
   * scan stands. Reports the cache has no answer for are read and applied a page at a time, letting
   * requests run between pages: an account's overview asks for all of its images, and on SQLite
   * reading and parsing a thousand reports in one go held the event loop for half a second.
   */
  private async summaries(images: Array<{ name: string; digest: string }>, exemptions: Exemption[]): Promise<{ summaries: Map<string, ReportSummary>; progress: Map<string, scans.ScanProgress> }> {
    const exempted = exemptions.map((e) => e.id).join(',');
    const progress = await scans.findScanStates(this.db, [...new Set(images.map((i) => i.digest))]);
    const versionOf = (digest: string) => {
      const p = progress.get(digest);
      return p?.hasReport ? `${p.state}|${p.scanned_at}|${exempted}` : undefined;
    };
    const out = new Map<string, ReportSummary>();
    const unread = new Map<string, Array<{ name: string; digest: string }>>();
    for (const image of images) {
      const key = `${image.name}@${image.digest}`;
      const version = versionOf(image.digest);
      if (version === undefined || out.has(key)) continue;
      const cached = this.security.get(key, version);
      if (cached) out.set(key, cached);
      else if (unread.has(image.digest)) unread.get(image.digest)!.push(image);
      else unread.set(image.digest, [image]);
    }
    const digests = [...unread.keys()];
    for (let i = 0; i < digests.length; i += REPORT_PAGE) {
      if (i > 0) await yieldToRequests();
      const reports = await scans.findReports(this.db, digests.slice(i, i + REPORT_PAGE));
      for (const [digest, text] of reports) {
        const report = JSON.parse(text) as ScanReport;
        for (const image of unread.get(digest)!) {
          const key = `${image.name}@${image.digest}`;
          if (out.has(key)) continue;
          const view = viewReport(report, progress.get(digest)!.state, image.name, exemptions);
          const summary = { status: view.status, highestSeverity: view.highestSeverity, severityCounts: view.severityCounts };
          this.security.set(key, versionOf(digest)!, summary);
          out.set(key, summary);
        }
      }
    }
    return { summaries: out, progress };
  }

  private async securityOf(name: string, digest: string, exemptions: Awaited<ReturnType<ExemptionService['forAccount']>>): Promise<ImageSecurity> {
    const row = await scans.findScan(this.db, digest);
    if (row?.report) {
      const view = viewReport(JSON.parse(row.report) as ScanReport, row.state, name, exemptions);
      return { status: view.status, highestSeverity: view.highestSeverity };
    }
    // Only an index (done, or waiting for its job) has no report and no error state.
    if (row && row.state !== 'done' && row.state !== 'scanning') return { status: securityStatus({ state: row.state, hasReport: false }, 0), highestSeverity: null };
    const manifest = await findManifestByDigest(this.db, name, digest);
    if (manifest && isIndexMediaType(manifest.media_type)) {
      // An index has no report of its own: it is as bad as the worst of its platforms.
      const children = parseManifest(manifest.content, manifest.media_type).manifests;
      const platforms: ImageSecurity[] = [];
      for (const child of children) platforms.push(await this.securityOf(name, child.digest, exemptions));
      const severities = platforms.map((p) => p.highestSeverity).filter((s): s is SeverityLevel => s !== null);
      return { status: worstStatus(platforms.map((p) => p.status)), highestSeverity: severities.length ? severities.reduce((a, b) => (compareSeverity(a, b) >= 0 ? a : b)) : null };
    }
    return { status: securityStatus(row && { state: row.state, hasReport: false }, 0), highestSeverity: null };
  }

  private async statusOf(name: string, digest: string, exemptions: Awaited<ReturnType<ExemptionService['forAccount']>>): Promise<SecurityStatus> {
    return (await this.securityOf(name, digest, exemptions)).status;
  }

  async report(name: string, digest: string, accountId: number | null): Promise<ReportView> {
    const freshness = await this.vulndb.freshness();
    const staleness = { stale: freshness.stale, staleNote: freshness.note };
    const row = await scans.findScan(this.db, digest);
    const exemptions = accountId === null ? [] : await this.exemptions.forAccount(accountId);
    if (!row || !row.report) {
      const status = await this.statusOf(name, digest, exemptions);
      return { digest, status, issueCount: issueCountOf(status), exemptCount: 0, os: null, undetermined: [], vulndbDate: null, severityCounts: emptySeverityCounts(), highestSeverity: null, scannedAt: row?.scanned_at ? new Date(Number(row.scanned_at)).toISOString() : null, error: row?.error ?? null, ...staleness, vulnerabilities: [], configurationIssues: [] };
    }
    return { ...viewReport(JSON.parse(row.report) as ScanReport, row.state, name, exemptions), ...staleness };
  }

  /** Whether the advisory data every status is computed against is too old to trust "No Issues". */
  async dataFreshness(): Promise<{ stale: boolean; note: string | null }> {
    const { stale, note } = await this.vulndb.freshness();
    return { stale, note };
  }

  /** The manifest digest an image reference names (a tag is resolved). */
  async digestOf(ref: { name: string; tag?: string; digest?: string }): Promise<string> {
    if (ref.digest) {
      if (!(await findManifestByDigest(this.db, ref.name, ref.digest))) throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${ref.digest} is not in repository ${ref.name}`, null);
      return ref.digest;
    }
    const row = await findManifestByTag(this.db, ref.name, ref.tag ?? 'latest');
    if (!row) throw new RegistryError('MANIFEST_UNKNOWN', `tag ${ref.tag ?? 'latest'} is not in repository ${ref.name}`, null);
    return row.digest;
  }

  async sbom(name: string, digest: string): Promise<unknown> {
    const row = await scans.findScan(this.db, digest);
    if (row?.state === 'artifact') {
      throw new ProblemError('conflict', `${name}@${digest} is an artifact (a signature, an SBOM, a chart…), not a container image: it has no packages to list; ask for the SBOM of the image it belongs to`);
    }
    if (!row?.report) return undefined;
    const report = JSON.parse(row.report) as ScanReport;
    return cycloneDx({ imageDigest: digest, imageName: name, ...(report.os ? { os: report.os } : {}), packages: report.packages });
  }
}
