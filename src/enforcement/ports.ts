/**
 * What enforcement needs from the rest of the registry, as ports: the evaluator is tested with
 * in-memory implementations and the server wires the real ones.
 */

import type { SignatureVerdict } from '../trust/verify-image.js';

export type { SignatureVerdict };

/** The verified signatures of an image, as its account's trusted keys judge them. */
export interface SignatureChecker {
  verdicts(accountId: number, repository: string, digest: string): Promise<SignatureVerdict[]>;
}


export type Severity = 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW' | 'NEGLIGIBLE' | 'UNKNOWN';

/** An issue of a Vulnerability Advisor report, as much of it as a policy looks at. */
export interface ReportIssue {
  id: string;
  severity: Severity;
  exempt: boolean;
  /** The package (vulnerability) or the check's title (configuration issue), for messages. */
  what: string;
}

/** What the Vulnerability Advisor says about one image (never an index: its platforms are asked). */
export interface ImageReport {
  /** The scanner's security status ("No Issues", "3 Issues", "Not scanned", "Scanning", "Scan failed", "Unsupported OS", "Not scannable"). */
  status: string;
  scannedAt: string | null;
  issues: ReportIssue[];
}

/** A manifest an image reference resolved to, as the evaluating principal may read it. */
export interface ResolvedImage {
  digest: string;
  /** For an index: the digests of its platform images (artifacts such as attestations left out). */
  platforms: string[];
}

/** The registry as enforcement reads it: references resolved with the caller's rights, reports with its exemptions. */
export interface ImageFacts {
  /**
   * The manifest `repository` `reference` (a tag or a digest) names, when the principal may pull it;
   * undefined alike for a missing image and another tenant's, so a denial tells nothing about either.
   */
  resolve(repository: string, reference: { tag?: string; digest?: string }): Promise<ResolvedImage | undefined>;
  /** The Vulnerability Advisor's report of an image, with the account's exemptions applied. */
  report(repository: string, digest: string): Promise<ImageReport>;
}
