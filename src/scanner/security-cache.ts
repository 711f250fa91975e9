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
 * Report summaries already worked out from stored reports. Reading and applying a report costs
 * about a millisecond (its package list is most of it), so a list of 1,000 images, or an account's
 * overview of all of them, would spend seconds redoing what only changes when the image is
 * rescanned or the account's exemptions change: each entry is kept with that version and used only
 * while it still matches. Per process, bounded; a replica that has not seen an image works it out once.
 */
export class SecurityCache {
  private readonly entries = new Map<string, { version: string; value: ReportSummary }>();

  constructor(private readonly max = 20_000) {}

  get(image: string, version: string): ReportSummary | undefined {
    const entry = this.entries.get(image);
    return entry?.version === version ? entry.value : undefined;
  }

  set(image: string, version: string, value: ReportSummary): void {
    this.entries.delete(image);
    this.entries.set(image, { version, value });
    // Maps keep insertion order: the first key is the one written longest ago.
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
  }
}
