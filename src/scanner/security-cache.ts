import { VersionedCache } from '../cache/versioned-cache.js';
import type { SeverityLevel } from './osv/schema.js';
import type { SecurityStatus } from './report.js';

/** What the image list shows of an image's scan: its status and the most severe open vulnerability. */
export interface ImageSecurity {
  status: SecurityStatus;
  highestSeverity: SeverityLevel | null;
}

/** An image's stored report as its account sees it: the list's status, and its open vulnerabilities by severity (the console's overview). */
export interface ReportSummary extends ImageSecurity {
  severityCounts: Record<SeverityLevel, number>;
}

/**
 * Report summaries already worked out from stored reports, by `repository@digest`. Reading and
 * applying a report costs about a millisecond (its package list is most of it), so a list of 1,000
 * images, or an account's overview of all of them, would spend seconds redoing what only changes
 * when the image is rescanned or the account's exemptions change: the version says both. A replica
 * that has not seen an image works it out once.
 */
export class SecurityCache extends VersionedCache<ReportSummary> {
  constructor(max = 20_000) {
    super(max);
  }
}
