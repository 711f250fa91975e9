import type { Command } from 'commander';
import { ApiClient } from '../api-client.js';
import { examples, formatOption, integerArg, type OutputFormat } from '../command-kit.js';
import { UsageError, writeJson, type CliContext } from '../context.js';
import { table } from '../format.js';
import { apiReference, referencePath } from './image-reference.js';

interface Vulnerability {
  advisoryId: string; aliases: string[]; cves: string[]; package: string; installedPackage: string; installedVersion: string;
  fixedVersion: string | null; severity: string; severitySource?: string; cvssScore?: number; ids?: string[]; summary: string; fix: string; exempt: boolean;
}
interface ConfigurationIssue { checkId: string; title: string; severity: string; remediation: string; detail: string; exempt: boolean }
interface Report {
  name: string; digest: string; status: string; issueCount: number; exemptCount: number; severityCounts?: Record<string, number>;
  os: { prettyName?: string; id: string; versionId?: string } | null; vulndbDate: string | null; scannedAt: string | null; error: string | null; stale?: boolean; staleNote?: string | null;
  vulnerabilities: Vulnerability[]; configurationIssues: ConfigurationIssue[];
}
interface Exemption { id: number; issueId: string; scope: string; namespace: string | null; repository: string | null; digest: string | null; reason: string; createdBy: string; created: string; expiresAt?: string | null; expired?: boolean }

const DAY_MS = 86_400_000;

/** `--expires`: a duration from now (30d, 12w) or an ISO date (2027-01-31, 2027-01-31T12:00:00Z), as ISO text. */
export function expiryFrom(text: string, now: number): string {
  const relative = /^(\d{1,5})\s*([dw])$/.exec(text.trim());
  if (relative) return new Date(now + Number(relative[1]) * (relative[2] === 'w' ? 7 : 1) * DAY_MS).toISOString();
  if (!/^\d{4}-\d{2}-\d{2}/.test(text.trim()) || Number.isNaN(Date.parse(text))) {
    throw new UsageError(`--expires "${text}" is neither a duration (30d, 12w) nor a date (2027-01-31, 2027-01-31T12:00:00Z)`);
  }
  return new Date(Date.parse(text)).toISOString();
}

function printReport(ctx: CliContext, report: Report): void {
  const os = report.os ? (report.os.prettyName ?? `${report.os.id} ${report.os.versionId ?? ''}`.trim()) : 'unknown';
  ctx.stdout.write(`Image:            ${report.name}@${report.digest}\n`);
  ctx.stdout.write(`Security status:  ${report.status}${report.exemptCount > 0 ? ` (${report.exemptCount} exempt)` : ''}\n`);
  ctx.stdout.write(`Operating system: ${os}\n`);
  if (report.scannedAt) ctx.stdout.write(`Scanned:          ${report.scannedAt}${report.vulndbDate ? ` (advisory data of ${report.vulndbDate})` : ''}\n`);
  if (report.stale && report.staleNote) ctx.stdout.write(`Stale data:       ${report.staleNote}\n`);
  if (report.error) ctx.stdout.write(`Scan error:       ${report.error}\n`);
  const counts = Object.entries(report.severityCounts ?? {}).filter(([, n]) => n > 0);
  if (counts.length > 0) ctx.stdout.write(`Vulnerabilities:  ${counts.map(([level, n]) => `${n} ${level}`).join(', ')}\n`);
  ctx.stdout.write('\n');
  if (report.vulnerabilities.length > 0) {
    ctx.stdout.write('Vulnerable packages\n');
    ctx.stdout.write(table(['Advisory', 'CVE', 'Severity', 'Package', 'Installed', 'Fixed in', 'Fix', 'Exempt'], report.vulnerabilities.map((v) => [
      (v.ids ?? [v.advisoryId]).join(' '), v.cves.join(' ') || '-', severityLabel(v), v.installedPackage, v.installedVersion, v.fixedVersion ?? 'no fix yet', v.fix, v.exempt ? 'exempt' : '-',
    ])));
    ctx.stdout.write('\n');
  }
  if (report.configurationIssues.length > 0) {
    ctx.stdout.write('Configuration issues\n');
    ctx.stdout.write(table(['Check', 'Severity', 'Issue', 'Remediation', 'Exempt'], report.configurationIssues.map((c) => [
      c.checkId, c.severity, c.detail || c.title, c.remediation, c.exempt ? 'exempt' : '-',
    ])));
    ctx.stdout.write('\n');
  }
  if (report.vulnerabilities.length === 0 && report.configurationIssues.length === 0) ctx.stdout.write(report.status === 'No Issues' ? 'No issues found.\n' : '');
}

/** "HIGH 7.5 (cvss-v3.1)": the level, the score when computed, and where it came from. */
function severityLabel(v: Vulnerability): string {
  if (!v.severitySource || v.severitySource === 'none') return v.severity;
  return `${v.severity}${v.cvssScore !== undefined ? ` ${v.cvssScore.toFixed(1)}` : ''} (${v.severitySource})`;
}

const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'NEGLIGIBLE', 'UNKNOWN'];

/** `wharf va`, `wharf sbom`, `wharf exemption …`: the Vulnerability Advisor from the command line. */
export function registerScannerCommands(program: Command, ctx: CliContext): void {
  examples(program.command('va <image>')
    .description('show the Vulnerability Advisor report of an image: vulnerable packages and configuration issues, with how to fix them')
    .option('--severity <level>', `only vulnerabilities at this severity or above (${SEVERITIES.join(', ')})`)
    .option('--fixable', 'only vulnerabilities with a fixed version to upgrade to')
    .addOption(formatOption()),
  'wharf va team-a/app:1.0',
  'wharf va team-a/app:1.0 --severity high --fixable',
  'wharf va team-a/app@sha256:0123… --format json')
    .action(async (image: string, opts: { format: OutputFormat; severity?: string; fixable?: boolean }) => {
      const api = ApiClient.fromStoredLogin(ctx);
      const query = new URLSearchParams();
      if (opts.severity !== undefined) {
        const level = opts.severity.toUpperCase();
        if (!SEVERITIES.includes(level)) throw new UsageError(`--severity ${opts.severity}: give one of ${SEVERITIES.join(', ')} (case does not matter)`);
        query.set('severity', level);
      }
      if (opts.fixable) query.set('fixable', 'true');
      const qs = query.size > 0 ? `?${query.toString()}` : '';
      const report = await api.get<Report>(`${referencePath(apiReference(api, image))}/report${qs}`);
      if (opts.format === 'json') writeJson(ctx.stdout, report);
      else printReport(ctx, report);
    });

  examples(program.command('sbom <image>')
    .description('print the software bill of materials found in an image (CycloneDX JSON)'),
  'wharf sbom team-a/app:1.0 > app.cdx.json')
    .action(async (image: string) => {
      const api = ApiClient.fromStoredLogin(ctx);
      writeJson(ctx.stdout, await api.get<unknown>(`${referencePath(apiReference(api, image))}/sbom`));
    });

  const group = examples(program.command('exemption')
    .summary('accept issues so they no longer count')
    .description('exemptions for an advisory (CVE-…, GHSA-…, DSA-…) or a configuration check, for the account, a namespace, a repository or one image (Manager role)'),
  'wharf exemption add CVE-2023-0464 --namespace team-a --reason "not reachable in our use"',
  'wharf exemption list');

  examples(group.command('add <issue-id>')
    .description('exempt an issue; without --namespace it applies to the whole account')
    .option('--namespace <namespace>', 'only in this namespace')
    .option('--repository <repository>', 'only in this repository (a path inside the namespace, or <namespace>/<repository>)')
    .option('--image <image>', 'only this image: <namespace>/<repository>@sha256:…')
    .requiredOption('--reason <text>', 'why the issue is accepted')
    .option('--expires <when>', 'when the issue counts again: a duration from now (30d, 12w) or a date (2027-01-31)')
    .addOption(formatOption()),
  'wharf exemption add CVE-2023-0464 --reason "accepted risk"',
  'wharf exemption add CVE-2024-6119 --namespace team-a --expires 30d --reason "fix ships with the next base image"',
  'wharf exemption add CONFIG-RUNS-AS-ROOT --repository team-a/legacy --reason "needs root, isolated"',
  'wharf exemption add GHSA-xvch-5gv4-984h --image team-a/app@sha256:0123… --reason "fixed in next release"')
    .action(async (issueId: string, opts: { namespace?: string; repository?: string; image?: string; reason: string; expires?: string; format: OutputFormat }) => {
      const api = ApiClient.fromStoredLogin(ctx);
      let body: Record<string, string> = { issueId, scope: 'account', reason: opts.reason, ...(opts.expires ? { expiresAt: expiryFrom(opts.expires, ctx.now()) } : {}) };
      if (opts.image) {
        const ref = apiReference(api, opts.image, 'digest');
        const at = ref.indexOf('@');
        const name = ref.slice(0, at);
        const slash = name.indexOf('/');
        body = { ...body, scope: 'image', namespace: name.slice(0, slash), repository: name.slice(slash + 1), digest: ref.slice(at + 1) };
      } else if (opts.repository) {
        const full = opts.repository.includes('/') && !opts.namespace ? opts.repository : `${opts.namespace ?? ''}/${opts.repository}`;
        const slash = full.indexOf('/');
        if (slash <= 0) throw new UsageError('--repository needs its namespace: --repository <namespace>/<repository>, or add --namespace');
        body = { ...body, scope: 'repository', namespace: full.slice(0, slash), repository: full.slice(slash + 1) };
      } else if (opts.namespace) {
        body = { ...body, scope: 'namespace', namespace: opts.namespace };
      }
      const created = await api.post<Exemption>('/exemptions', body);
      if (opts.format === 'json') writeJson(ctx.stdout, created);
      else ctx.stdout.write(`Exemption ${created.id} added: ${created.issueId} (${describeScope(created)})${created.expiresAt ? `, until ${created.expiresAt}` : ''}.\n`);
    });

  examples(group.command('list')
    .description('list the account\'s exemptions')
    .addOption(formatOption()),
  'wharf exemption list',
  'wharf exemption list --format json')
    .action(async (opts: { format: OutputFormat }) => {
      const { exemptions } = await ApiClient.fromStoredLogin(ctx).get<{ exemptions: Exemption[] }>('/exemptions');
      if (opts.format === 'json') return writeJson(ctx.stdout, exemptions);
      ctx.stdout.write(table(['ID', 'Issue', 'Scope', 'Reason', 'By', 'Created', 'Expires'], exemptions.map((e) => [
        String(e.id), e.issueId, describeScope(e), e.reason, e.createdBy, e.created.slice(0, 10),
        // An expired exemption exempts nothing any more: it stays listed so its removal is a decision.
        e.expiresAt ? `${e.expiresAt.slice(0, 10)}${e.expired ? ' (expired)' : ''}` : 'never',
      ])));
    });

  examples(group.command('rm')
    .argument('<id>', 'exemption id (wharf exemption list)', integerArg('exemption id'))
    .description('remove an exemption (the issue counts again)'),
  'wharf exemption rm 3')
    .action(async (id: number) => {
      await ApiClient.fromStoredLogin(ctx).delete(`/exemptions/${id}`);
      ctx.stdout.write(`Exemption ${id} removed.\n`);
    });
}

function describeScope(e: Exemption): string {
  switch (e.scope) {
    case 'account': return 'account';
    case 'namespace': return `namespace ${e.namespace}`;
    case 'repository': return `repository ${e.namespace}/${e.repository}`;
    default: return `image ${e.namespace}/${e.repository}@${(e.digest ?? '').slice(0, 19)}`;
  }
}
