import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { ApiClient } from '../api-client.js';
import { examples, formatOption, integerArg, type OutputFormat } from '../command-kit.js';
import { CliError, UsageError, writeJson, writeLine, type CliContext } from '../context.js';
import { table } from '../format.js';

/** Image policies of deployment enforcement (not IAM policies: those are `wharf iam policy`). */

interface StoredPolicy {
  scope: 'cluster' | 'account' | 'namespace' | 'repository';
  target: string;
  policy: Record<string, unknown>;
  updated: string;
  updatedBy: string;
}

interface CheckResult {
  image: string;
  allowed: boolean;
  digest?: string;
  pinned?: string;
  message: string;
  policy?: { scope: string; target: string };
  failures: Array<{ rule: string; message: string }>;
}

interface ScopeOptions {
  cluster?: boolean;
  account?: boolean;
  namespace?: string;
  repository?: string;
}

const SEVERITIES = ['none', 'negligible', 'low', 'medium', 'high', 'critical'];

function scopeOptions(command: Command): Command {
  return command
    .option('--cluster', 'the cluster-wide default (set by the registry operator); its registries rule judges images of other registries')
    .option('--account', 'every repository of your account without a more specific policy')
    .option('--namespace <namespace>', 'every repository of the namespace without a repository policy')
    .option('--repository <namespace/repository>', 'one repository');
}

/** The API path of the one place the options name (undefined: none named). */
function scopePath(opts: ScopeOptions): string | undefined {
  const named = [opts.cluster && 'cluster', opts.account && 'account', opts.namespace !== undefined && 'namespace', opts.repository !== undefined && 'repository'].filter(Boolean);
  if (named.length > 1) throw new UsageError(`name one place: --cluster, --account, --namespace or --repository (got ${named.map((n) => `--${n}`).join(' and ')})`);
  if (opts.cluster) return '/policies/images/cluster';
  if (opts.account) return '/policies/images/account';
  if (opts.namespace !== undefined) return `/policies/images/namespaces/${encodeURIComponent(opts.namespace)}`;
  if (opts.repository !== undefined) return `/policies/images/repositories/${encodeURIComponent(opts.repository)}`;
  return undefined;
}

function requireScope(opts: ScopeOptions, command: string): string {
  const where = scopePath(opts);
  if (!where) throw new UsageError(`say which policy: wharf policy ${command} --cluster, --account, --namespace <namespace> or --repository <namespace/repository>`);
  return where;
}

function placeName(p: Pick<StoredPolicy, 'scope' | 'target'>): string {
  return p.scope === 'cluster' ? 'cluster-wide default' : p.scope === 'account' ? 'account' : `${p.scope} ${p.target}`;
}

/** The rules, one line each, as a developer reads them. */
export function describeRules(policy: Record<string, unknown>): string[] {
  const lines: string[] = [];
  const list = (v: unknown) => (v as string[]).join(', ');
  if (policy.registries) lines.push(`images of other registries: only from ${list(policy.registries)}`);
  if (policy.namespaces) lines.push(`repositories of this registry: only ${list(policy.namespaces)}`);
  if (policy.signedBy) lines.push(`signed: a signature by ${list(policy.signedBy)} must verify`);
  const va = policy.vulnerabilities as { maxSeverity: string; maxScanAgeDays?: number; allowUnsupportedOs?: boolean } | undefined;
  if (va) {
    const severity = va.maxSeverity === 'NONE' ? 'no open issue' : `no open issue above ${va.maxSeverity.toLowerCase()}`;
    lines.push(`Vulnerability Advisor: ${severity}${va.maxScanAgeDays ? `, scanned within ${va.maxScanAgeDays} days` : ''}${va.allowUnsupportedOs ? ', unsupported OS allowed' : ''}`);
  }
  if (policy.requireDigest) lines.push('images named by digest (the mutating webhook pins tags of this registry)');
  if (lines.length === 0) lines.push('no rule: every image of this registry the cluster can read is admitted');
  return lines;
}

function printPolicy(ctx: CliContext, stored: StoredPolicy, format: OutputFormat): void {
  if (format === 'json') return writeJson(ctx.stdout, stored);
  writeLine(ctx.stdout, `Image policy of the ${placeName(stored)} (set by ${stored.updatedBy}, ${stored.updated}):`);
  for (const line of describeRules(stored.policy)) writeLine(ctx.stdout, `  - ${line}`);
}

interface SetOptions extends ScopeOptions {
  file?: string;
  allowRegistry?: string[];
  allowNamespace?: string[];
  signedBy?: string[];
  maxSeverity?: string;
  maxScanAge?: number;
  allowUnsupportedOs?: boolean;
  requireDigest?: boolean;
  format: OutputFormat;
}

/** The policy document the options describe: a --file, or the rule options (not both). */
function policyFromOptions(opts: SetOptions): Record<string, unknown> {
  const ruleOptions = opts.allowRegistry || opts.allowNamespace || opts.signedBy || opts.maxSeverity || opts.maxScanAge !== undefined || opts.allowUnsupportedOs || opts.requireDigest;
  if (opts.file) {
    if (ruleOptions) throw new UsageError('give the rules either in --file or as options, not both');
    let text: string;
    try {
      text = readFileSync(opts.file, 'utf8');
    } catch (err) {
      throw new CliError(`cannot read ${opts.file}: ${(err as Error).message}`);
    }
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      throw new CliError(`${opts.file} is not JSON: ${(err as Error).message}`);
    }
  }
  if ((opts.maxScanAge !== undefined || opts.allowUnsupportedOs) && !opts.maxSeverity) {
    throw new UsageError('--max-scan-age and --allow-unsupported-os refine the Vulnerability Advisor rule: give --max-severity too');
  }
  return {
    ...(opts.allowRegistry ? { registries: opts.allowRegistry } : {}),
    ...(opts.allowNamespace ? { namespaces: opts.allowNamespace } : {}),
    ...(opts.signedBy ? { signedBy: opts.signedBy } : {}),
    ...(opts.maxSeverity ? { vulnerabilities: { maxSeverity: opts.maxSeverity, ...(opts.maxScanAge !== undefined ? { maxScanAgeDays: opts.maxScanAge } : {}), ...(opts.allowUnsupportedOs ? { allowUnsupportedOs: true } : {}) } } : {}),
    ...(opts.requireDigest ? { requireDigest: true } : {}),
  };
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** `wharf policy get|set|rm|check`. */
export function registerPolicyCommands(program: Command, ctx: CliContext): void {
  const group = examples(program.command('policy')
    .summary('image policies: which images a Kubernetes cluster may run')
    .description('image policies of deployment enforcement, for the account, a namespace or a repository, plus a cluster-wide default; the most specific one applies, whole (repository, then namespace, then account, then the cluster default)'),
  'wharf policy set --namespace team-a --signed-by ci-key --max-severity medium --require-digest',
  'wharf policy set --cluster --allow-registry docker.io --allow-registry quay.io',
  'wharf policy get --namespace team-a',
  'wharf policy check registry.example.com/team-a/app:1.0');

  examples(scopeOptions(group.command('get')
    .description('show one image policy, or every policy you can see')
    .addOption(formatOption())),
  'wharf policy get',
  'wharf policy get --repository team-a/app')
    .action(async (opts: ScopeOptions & { format: OutputFormat }) => {
      const api = ApiClient.fromStoredLogin(ctx);
      const where = scopePath(opts);
      if (where) return printPolicy(ctx, await api.get<StoredPolicy>(where), opts.format);
      const { policies } = await api.get<{ policies: StoredPolicy[] }>('/policies/images');
      if (opts.format === 'json') return writeJson(ctx.stdout, { policies });
      if (policies.length === 0) return writeLine(ctx.stdout, 'No image policies: clusters enforcing them deny every image (set one with wharf policy set).');
      ctx.stdout.write(table(['Applies to', 'Rules', 'Updated by'], policies.map((p) => [placeName(p), describeRules(p.policy).join('; '), p.updatedBy])));
    });

  examples(scopeOptions(group.command('set')
    .description('replace an image policy (Manager role on its place; the cluster default: the registry operator)')
    .option('--file <policy.json>', 'the rules as JSON: {"namespaces": [...], "signedBy": [...], "vulnerabilities": {"maxSeverity": "medium", "maxScanAgeDays": 7}, "requireDigest": true}')
    .option('--allow-registry <host>', 'cluster default only: admit images from this registry host (glob, repeatable)', collect)
    .option('--allow-namespace <pattern>', 'admit only these repositories of this registry: team-a, team-a/app*, team-* (repeatable)', collect)
    .option('--signed-by <key>', 'a signature by this trusted key must verify (repeatable: any of them)', collect)
    .addOption(new Option('--max-severity <severity>', 'the highest severity of an open (not exempted) issue; none: no open issue at all').choices(SEVERITIES))
    .option('--max-scan-age <days>', 'the Vulnerability Advisor scan must be at most this many days old', integerArg('--max-scan-age'))
    .option('--allow-unsupported-os', 'admit images whose OS the Vulnerability Advisor does not cover')
    .option('--require-digest', 'pod specs must name images by digest')
    .addOption(formatOption())),
  'wharf policy set --namespace team-a --signed-by ci-key --max-severity none',
  'wharf policy set --repository team-a/legacy --max-severity high --max-scan-age 7',
  'wharf policy set --account --file policy.json')
    .action(async (opts: SetOptions) => {
      const where = requireScope(opts, 'set');
      printPolicy(ctx, await ApiClient.fromStoredLogin(ctx).put<StoredPolicy>(where, policyFromOptions(opts)), opts.format);
    });

  examples(scopeOptions(group.command('rm')
    .description('remove an image policy: the next less specific one applies again')),
  'wharf policy rm --repository team-a/legacy')
    .action(async (opts: ScopeOptions) => {
      const where = requireScope(opts, 'rm');
      await ApiClient.fromStoredLogin(ctx).delete(where);
      writeLine(ctx.stdout, 'Removed the image policy.');
    });

  examples(group.command('check')
    .description('would a cluster admit this image? Asks what the admission webhook asks, with your rights; exits 1 when denied')
    .argument('<image>', 'the image as a pod spec names it (host/namespace/repository:tag or @digest; no host means Docker Hub)')
    .addOption(formatOption()),
  'wharf policy check registry.example.com/team-a/app:1.0',
  'wharf policy check nginx:1.27')
    .action(async (image: string, opts: { format: OutputFormat }) => {
      const api = ApiClient.fromStoredLogin(ctx);
      const result = await api.post<CheckResult>('/policies/images/check', { image });
      if (opts.format === 'json') writeJson(ctx.stdout, result);
      else if (result.allowed) {
        writeLine(ctx.stdout, result.message);
        if (result.pinned) writeLine(ctx.stdout, `The mutating webhook pins it to ${result.pinned}`);
      }
      if (!result.allowed) {
        const onHub = !/^[^/]*[.:][^/]*\//.test(image) && !image.startsWith('localhost/');
        const hint = onHub && result.failures.some((f) => f.rule === 'registries') ? ` (an image without a host is on Docker Hub: this registry's images are ${api.host}/<namespace>/<repository>)` : '';
        throw new CliError(`${result.message}${hint}`);
      }
    });
}
