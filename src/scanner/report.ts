import type { ExemptionTable, ScanState } from '../metadata/schema.js';
import type { ConfigIssue } from './config-checks/types.js';
import type { OsRelease } from './detectors/os-release.js';
import type { DetectedPackage } from './detectors/types.js';
import type { Finding, UndeterminedMatch } from './findings.js';
import { countVulnerabilities, groupBySharedIds } from './osv/aliases.js';
import { compareSeverity, SEVERITY_ORDER, type SeverityLevel } from './osv/schema.js';

export type VulnerabilityFinding = Finding;
export type ConfigurationFinding = ConfigIssue;

/** Stored per image digest when its scan is done. */
export interface ScanReport {
  digest: string;
  os: OsRelease | null;
  packageCount: number;
  vulnerabilities: VulnerabilityFinding[];
  configurationIssues: ConfigurationFinding[];
  /** Advisories whose version ranges could not be compared with what is installed: shown, not counted. */
  undetermined: UndeterminedMatch[];
  /** Files the scan skipped (over a size cap), so a reader knows what was not looked at. */
  warnings: string[];
  /** The vulnerability data the scan used. */
  vulndbDate: string | null;
  scannedAt: string;
  packages: Array<DetectedPackage & { location?: string }>;
}

export type Exemption = Pick<ExemptionTable, 'issue_id' | 'scope' | 'namespace' | 'repository' | 'digest' | 'reason' | 'created_by' | 'created_at'> & { id: number; expires_at?: number | null };

/** Whether an exemption still exempts at `now`: one past its expiry is kept for the record but counts for nothing. */
export function isInForce(exemption: Pick<Exemption, 'expires_at'>, now: number): boolean {
  return exemption.expires_at === null || exemption.expires_at === undefined || Number(exemption.expires_at) > now;
}

/** Whether an exemption covers an issue (by its ID, an alias or its CVE) of an image in a repository. */
export function exempts(exemption: Exemption, issueIds: string[], repository: string, digest: string): boolean {
  if (!issueIds.includes(exemption.issue_id)) return false;
  const namespace = repository.split('/')[0];
  switch (exemption.scope) {
    case 'account': return true;
    case 'namespace': return exemption.namespace === namespace;
    case 'repository': return `${exemption.namespace}/${exemption.repository}` === repository;
    case 'image': return `${exemption.namespace}/${exemption.repository}` === repository && exemption.digest === digest;
  }
}

export type SecurityStatus = 'Not scanned' | 'Scanning' | 'No Issues' | `${number} Issues` | '1 Issue' | 'Unsupported OS' | 'Scan failed' | 'Not scannable';

export interface ReportView {
  digest: string;
  status: SecurityStatus;
  issueCount: number;
  exemptCount: number;
  os: ScanReport['os'];
  undetermined: UndeterminedMatch[];
  vulndbDate: string | null;
  scannedAt: string | null;
  error: string | null;
  /** Open (not exempt) distinct vulnerabilities by severity: what "nothing above HIGH" is checked against. */
  severityCounts: Record<SeverityLevel, number>;
  /** The most severe open vulnerability; null when none is open. */
  highestSeverity: SeverityLevel | null;
  /** The advisory data is older than scanner.staleAfter (or none is loaded): the status may miss issues; `staleNote` says why. */
  stale?: boolean;
  staleNote?: string | null;
  vulnerabilities: Array<VulnerabilityFinding & { exempt: boolean; exemption?: { id: number; reason: string; by: string; expiresAt: string | null } }>;
  configurationIssues: Array<ConfigurationFinding & { exempt: boolean; exemption?: { id: number; reason: string; by: string; expiresAt: string | null } }>;
}

/** Every ID a finding goes by; reports stored before findings were merged have no `ids`. */
export function findingIds(v: Pick<VulnerabilityFinding, 'advisoryId' | 'aliases' | 'cves'> & { ids?: string[] }): string[] {
  return [...new Set([v.advisoryId, ...(v.ids ?? []), ...v.aliases, ...v.cves])];
}

export function emptySeverityCounts(): Record<SeverityLevel, number> {
  return Object.fromEntries(SEVERITY_ORDER.map((l) => [l, 0])) as Record<SeverityLevel, number>;
}

/**
 * Distinct vulnerabilities by severity, counted as countVulnerabilities counts them (each CVE
 * once, each CVE-less group once), each at the highest severity any of its findings has.
 */
export function severityCountsOf(findings: readonly VulnerabilityFinding[]): Record<SeverityLevel, number> {
  const counts = emptySeverityCounts();
  for (const group of groupBySharedIds(findings, findingIds)) {
    const level = group.map((f) => f.severity ?? 'UNKNOWN').reduce((a, b) => (compareSeverity(a, b) >= 0 ? a : b));
    counts[level] += countVulnerabilities(group, findingIds);
  }
  return counts;
}

/** Whether a severity is above a threshold ("nothing above HIGH": isAbove(s, 'HIGH') must be false). UNKNOWN is above nothing. */
export function isAbove(level: SeverityLevel, threshold: SeverityLevel): boolean {
  return level !== 'UNKNOWN' && compareSeverity(level, threshold) > 0;
}

export interface VulnerabilityFilter {
  /** Only findings at this severity or more severe. */
  minSeverity?: SeverityLevel;
  /** Only findings with a fixed version to upgrade to. */
  fixable?: boolean;
}

/** The report with only the vulnerabilities a reader asked for; status and counts stay the image's. */
export function filterVulnerabilities(view: ReportView, filter: VulnerabilityFilter): ReportView {
  const keep = (v: ReportView['vulnerabilities'][number]): boolean =>
    (!filter.minSeverity || compareSeverity(v.severity ?? 'UNKNOWN', filter.minSeverity) >= 0) && (!filter.fixable || v.fixedVersion !== null);
  return { ...view, vulnerabilities: view.vulnerabilities.filter(keep) };
}

export function issuesLabel(count: number): SecurityStatus {
  if (count === 0) return 'No Issues';
  return count === 1 ? '1 Issue' : `${count} Issues`;
}

/** The stored result of one manifest's scan, as securityStatus reads it. */
export interface ScanOutcome {
  state: ScanState;
  hasReport: boolean;
}

/**
 * The one place a scan result becomes the status users see: the image list, its securityStatus
 * filter and the report (`wharf va`) all ask here, so they cannot disagree. Open issues count
 * whatever the OS: a configuration issue is found without package data, so an image of an OS
 * the advisory data does not cover is "Unsupported OS" only when nothing else is wrong with it.
 */
export function securityStatus(scan: ScanOutcome | undefined, openIssues: number): SecurityStatus {
  if (!scan) return 'Not scanned';
  if (scan.state === 'artifact') return 'Not scannable';
  if (scan.state === 'failed') return 'Scan failed';
  // A rescan keeps the previous report until the new one replaces it.
  if (!scan.hasReport) return scan.state === 'scanning' ? 'Scanning' : 'Not scanned';
  if (openIssues > 0) return issuesLabel(openIssues);
  return scan.state === 'unsupported' ? 'Unsupported OS' : 'No Issues';
}

/** Open issues a status names (0 for a status without a count). */
export function issueCountOf(status: SecurityStatus): number {
  const m = /^(\d+) Issues?$/.exec(status);
  return m ? Number(m[1]) : 0;
}

/** From most to least alarming; a status with issues outranks all of these. */
const STATUS_RANK: readonly SecurityStatus[] = ['Scan failed', 'Scanning', 'Not scanned', 'Unsupported OS', 'No Issues', 'Not scannable'];

/**
 * An index's status: the worst of its platforms' (the most issues first, then a failed or pending
 * scan), so an index never looks cleaner than an image it serves. Artifacts inside it (buildx
 * attestations) rank last; an index of nothing but artifacts is itself not scannable.
 */
export function worstStatus(statuses: readonly SecurityStatus[]): SecurityStatus {
  let worst: SecurityStatus = 'Not scannable';
  const rank = (s: SecurityStatus): number => issueCountOf(s) > 0 ? -issueCountOf(s) : STATUS_RANK.indexOf(s);
  for (const status of statuses) if (rank(status) < rank(worst)) worst = status;
  return worst;
}

/** The report as one repository's users see it: exemptions applied, issues counted. */
export function viewReport(report: ScanReport, state: ScanState, repository: string, exemptions: Exemption[]): ReportView {
  const mark = <T>(item: T, ids: string[]) => {
    const exemption = exemptions.find((e) => exempts(e, ids, repository, report.digest));
    const expiresAt = exemption?.expires_at ? new Date(Number(exemption.expires_at)).toISOString() : null;
    return { ...item, exempt: exemption !== undefined, ...(exemption ? { exemption: { id: exemption.id, reason: exemption.reason, by: exemption.created_by, expiresAt } } : {}) };
  };
  const vulnerabilities = report.vulnerabilities.map((v) => mark(v, findingIds(v)));
  const configurationIssues = report.configurationIssues.map((c) => mark(c, [c.checkId]));
  // One vulnerability counts once however many packages or databases report it.
  const openVulnerabilities = vulnerabilities.filter((v) => !v.exempt);
  const open = countVulnerabilities(openVulnerabilities, findingIds) + configurationIssues.filter((c) => !c.exempt).length;
  const exemptCount = countVulnerabilities(vulnerabilities.filter((v) => v.exempt), findingIds) + configurationIssues.filter((c) => c.exempt).length;
  const severityCounts = severityCountsOf(openVulnerabilities);
  const highestSeverity = SEVERITY_ORDER.find((l) => severityCounts[l] > 0) ?? null;
  return {
    digest: report.digest, status: securityStatus({ state, hasReport: true }, open), issueCount: open, exemptCount, os: report.os, undetermined: report.undetermined ?? [], vulndbDate: report.vulndbDate,
    scannedAt: report.scannedAt, error: null, severityCounts, highestSeverity, vulnerabilities, configurationIssues,
  };
}
