import type { ExemptionTable } from '../metadata/schema.js';
import type { ConfigIssue } from './config-checks/types.js';
import type { OsRelease } from './detectors/os-release.js';
import type { DetectedPackage } from './detectors/types.js';
import type { Finding, UndeterminedMatch } from './findings.js';

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

export type Exemption = Pick<ExemptionTable, 'issue_id' | 'scope' | 'namespace' | 'repository' | 'digest' | 'reason' | 'created_by' | 'created_at'> & { id: number };

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

export type SecurityStatus = 'Not scanned' | 'Scanning' | 'No Issues' | `${number} Issues` | '1 Issue' | 'Unsupported OS' | 'Scan failed';

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
  vulnerabilities: Array<VulnerabilityFinding & { exempt: boolean; exemption?: { id: number; reason: string; by: string } }>;
  configurationIssues: Array<ConfigurationFinding & { exempt: boolean; exemption?: { id: number; reason: string; by: string } }>;
}

export function issuesLabel(count: number): SecurityStatus {
  if (count === 0) return 'No Issues';
  return count === 1 ? '1 Issue' : `${count} Issues`;
}

/** The report as one repository's users see it: exemptions applied, issues counted. */
export function viewReport(report: ScanReport, repository: string, exemptions: Exemption[]): ReportView {
  const mark = <T>(item: T, ids: string[]) => {
    const exemption = exemptions.find((e) => exempts(e, ids, repository, report.digest));
    return { ...item, exempt: exemption !== undefined, ...(exemption ? { exemption: { id: exemption.id, reason: exemption.reason, by: exemption.created_by } } : {}) };
  };
  const vulnerabilities = report.vulnerabilities.map((v) => mark(v, [v.advisoryId, ...v.aliases, ...v.cves]));
  const configurationIssues = report.configurationIssues.map((c) => mark(c, [c.checkId]));
  const open = vulnerabilities.filter((v) => !v.exempt).length + configurationIssues.filter((c) => !c.exempt).length;
  const exemptCount = vulnerabilities.length + configurationIssues.length - open;
  return {
    digest: report.digest, status: issuesLabel(open), issueCount: open, exemptCount, os: report.os, undetermined: report.undetermined ?? [], vulndbDate: report.vulndbDate,
    scannedAt: report.scannedAt, error: null, vulnerabilities, configurationIssues,
  };
}
