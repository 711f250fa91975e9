import { InvalidArgumentError, type Command } from 'commander';
import { ApiClient } from '../api-client.js';
import { examples, formatOption, type OutputFormat } from '../command-kit.js';
import { CliError, UsageError, writeJson, writeLine, type CliContext } from '../context.js';
import { confirm } from '../prompt.js';
import { table } from '../format.js';

interface RetentionPolicy {
  keepImages: number | null;
  removeUntagged: boolean;
}

interface RemovalReport {
  dryRun: boolean;
  removed: Array<{ name: string; digest: string; tags: string[] }>;
  keptImmutable?: Array<{ name: string; digest: string; tags: string[]; reason: string }>;
}

function printKeptImmutable(out: NodeJS.WritableStream, report: RemovalReport): void {
  const kept = report.keptImmutable ?? [];
  if (kept.length === 0) return;
  writeLine(out, `Kept ${kept.length} image${kept.length === 1 ? '' : 's'} with immutable tags (wharf immutability get shows the rules):`);
  out.write(table(['Image', 'Digest', 'Why'], kept.map((k) => [k.name, k.digest, k.reason])));
}

function keepArg(value: string): number | null {
  if (value === 'all' || value === 'unlimited') return null;
  if (!/^\d{1,9}$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('give a number of images of at least 1, or "all" to keep every image.');
  return Number(value);
}

function namespacePath(ns: string): string {
  return `/namespaces/${encodeURIComponent(ns)}`;
}

function describePolicy(ns: string, policy: RetentionPolicy): string {
  const keep = policy.keepImages === null ? 'keeps every image' : `keeps the newest ${policy.keepImages} image${policy.keepImages === 1 ? '' : 's'} of each repository`;
  return `Retention of ${ns}: ${keep}; untagged images are ${policy.removeUntagged ? 'removed' : 'kept'}.`;
}

function printRemoval(ctx: CliContext, report: RemovalReport, format: OutputFormat, what: string, runAgain: string): void {
  if (format === 'json') return writeJson(ctx.stdout, report);
  printKeptImmutable(ctx.stdout, report);
  if (report.removed.length === 0) return writeLine(ctx.stdout, `No ${what} to remove.`);
  writeLine(ctx.stdout, report.dryRun
    ? `Would move ${report.removed.length} image${report.removed.length === 1 ? '' : 's'} to the trash (dry run, nothing changed):`
    : `Moved ${report.removed.length} image${report.removed.length === 1 ? '' : 's'} to the trash:`);
  ctx.stdout.write(table(['Image', 'Digest', 'Tags'], report.removed.map((r) => [r.name, r.digest, r.tags.length ? r.tags.join(', ') : '<none>'])));
  if (report.dryRun) writeLine(ctx.stdout, `Run it for real with: ${runAgain}`);
}

/**
 * Shows what `policy` would move to the trash now (its first run does that) and asks before it is
 * set; a policy that removes nothing now is set without asking.
 */
async function confirmRemoval(ctx: CliContext, api: ApiClient, ns: string, policy: RetentionPolicy, format: OutputFormat): Promise<void> {
  const preview = await api.request<RemovalReport>('PUT', `${namespacePath(ns)}/retention`, { query: { dryRun: true }, body: policy });
  const count = preview.removed.length;
  if (count === 0) return;
  // With --format json, stdout carries only the JSON of the saved policy.
  const out = format === 'json' ? ctx.stderr : ctx.stdout;
  writeLine(out, `${describePolicy(ns, policy)} Its first run moves ${count} image${count === 1 ? '' : 's'} to the trash:`);
  out.write(table(['Image', 'Digest', 'Tags'], preview.removed.map((r) => [r.name, r.digest, r.tags.length ? r.tags.join(', ') : '<none>'])));
  if (!ctx.stdin.isTTY) {
    throw new UsageError(`not set: this policy would move ${count} image${count === 1 ? '' : 's'} of ${ns} to the trash, and there is no terminal to confirm on; add --force to set it anyway`);
  }
  if (!(await confirm(ctx, 'Set this policy?', '--force'))) throw new CliError(`cancelled: the retention policy of ${ns} is unchanged`);
}

/** `wharf retention get|list|set|run` and `wharf prune-untagged`. */
export function registerRetentionCommands(program: Command, ctx: CliContext): void {
  const group = examples(program.command('retention')
    .summary('keep the newest images of each repository, remove the rest')
    .description('per-namespace retention: keep the newest N images of each repository, optionally remove untagged ones; removed images go to the trash'),
  'wharf retention set team-a --images 10 --remove-untagged',
  'wharf retention list',
  'wharf retention run team-a --dry-run');

  examples(group.command('get')
    .description('show a namespace\'s retention policy')
    .argument('<namespace>', 'the namespace')
    .addOption(formatOption()),
  'wharf retention get team-a')
    .action(async (ns: string, opts: { format: OutputFormat }) => {
      const policy = await ApiClient.fromStoredLogin(ctx).get<RetentionPolicy>(`${namespacePath(ns)}/retention`);
      if (opts.format === 'json') return writeJson(ctx.stdout, policy);
      writeLine(ctx.stdout, describePolicy(ns, policy));
    });

  examples(group.command('list')
    .alias('ls')
    .description('show the retention policy of every namespace you can see')
    .addOption(formatOption()),
  'wharf retention list',
  'wharf retention list --format json')
    .action(async (opts: { format: OutputFormat }) => {
      const api = ApiClient.fromStoredLogin(ctx);
      const { namespaces } = await api.get<{ namespaces: Array<{ name: string }> }>('/namespaces');
      const policies: Array<RetentionPolicy & { namespace: string }> = [];
      for (const { name } of namespaces) policies.push({ ...(await api.get<RetentionPolicy>(`${namespacePath(name)}/retention`)), namespace: name });
      if (opts.format === 'json') return writeJson(ctx.stdout, policies);
      if (policies.length === 0) return writeLine(ctx.stdout, 'No namespaces yet: add one with wharf namespace add <name>.');
      ctx.stdout.write(table(['Namespace', 'Images kept per repository', 'Untagged images'], policies.map((p) => [
        p.namespace, p.keepImages === null ? 'all' : String(p.keepImages), p.removeUntagged ? 'removed' : 'kept',
      ])));
    });

  examples(group.command('set')
    .description('set a namespace\'s retention policy; it first shows the images the policy would move to the trash now and asks before it sets it (the policy then runs daily; run it at once with wharf retention run)')
    .argument('<namespace>', 'the namespace')
    .option('--images <count>', 'how many images to keep in each repository, newest first ("all" keeps every image)', keepArg)
    .option('--remove-untagged', 'also remove images without a tag')
    .option('--retain-untagged', 'keep images without a tag')
    .option('-f, --force', 'set it without asking, even when it removes images (for scripts)')
    .addOption(formatOption()),
  'wharf retention set team-a --images 10',
  'wharf retention set team-a --images 5 --remove-untagged --force',
  'wharf retention set team-a --images all --retain-untagged')
    .action(async (ns: string, opts: { images?: number | null; removeUntagged?: boolean; retainUntagged?: boolean; force?: boolean; format: OutputFormat }) => {
      if (opts.removeUntagged && opts.retainUntagged) throw new UsageError('--remove-untagged and --retain-untagged contradict each other: give one');
      if (opts.images === undefined && !opts.removeUntagged && !opts.retainUntagged) {
        throw new UsageError('say what to set: --images <count|all>, --remove-untagged or --retain-untagged');
      }
      const api = ApiClient.fromStoredLogin(ctx);
      // PUT takes the whole policy: what the command line leaves out stays as it is.
      const current = opts.images !== undefined && (opts.removeUntagged || opts.retainUntagged)
        ? undefined : await api.get<RetentionPolicy>(`${namespacePath(ns)}/retention`);
      const policy: RetentionPolicy = {
        keepImages: opts.images !== undefined ? opts.images : current!.keepImages,
        removeUntagged: opts.removeUntagged ? true : opts.retainUntagged ? false : current!.removeUntagged,
      };
      if (!opts.force) await confirmRemoval(ctx, api, ns, policy, opts.format);
      const saved = await api.put<RetentionPolicy>(`${namespacePath(ns)}/retention`, policy);
      if (opts.format === 'json') return writeJson(ctx.stdout, saved);
      writeLine(ctx.stdout, describePolicy(ns, saved));
    });

  examples(group.command('run')
    .description('apply a namespace\'s retention policy now; the images it removes go to the trash')
    .argument('<namespace>', 'the namespace')
    .option('--dry-run', 'only list what would be removed')
    .addOption(formatOption()),
  'wharf retention run team-a --dry-run',
  'wharf retention run team-a')
    .action(async (ns: string, opts: { dryRun?: boolean; format: OutputFormat }) => {
      const report = await ApiClient.fromStoredLogin(ctx).post<RemovalReport>(`${namespacePath(ns)}/retention/run`, undefined, { dryRun: opts.dryRun === true });
      printRemoval(ctx, report, opts.format, 'images', `wharf retention run ${ns}`);
    });

  examples(program.command('prune-untagged')
    .summary('remove the untagged images of a namespace')
    .description('move every untagged image of a namespace to the trash')
    .argument('<namespace>', 'the namespace')
    .option('--dry-run', 'only list what would be removed')
    .addOption(formatOption()),
  'wharf prune-untagged team-a --dry-run',
  'wharf prune-untagged team-a')
    .action(async (ns: string, opts: { dryRun?: boolean; format: OutputFormat }) => {
      const report = await ApiClient.fromStoredLogin(ctx).post<RemovalReport>(`${namespacePath(ns)}/prune-untagged`, undefined, { dryRun: opts.dryRun === true });
      printRemoval(ctx, report, opts.format, 'untagged images', `wharf prune-untagged ${ns}`);
    });
}
