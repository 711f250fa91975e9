import { InvalidArgumentError, type Command } from 'commander';
import { ApiClient } from '../api-client.js';
import { examples, formatOption, type OutputFormat } from '../command-kit.js';
import { UsageError, writeJson, type CliContext } from '../context.js';
import { humanSize, parseSize, sizeLimit, table } from '../format.js';

interface Quota {
  storage: { limit: number | null; used: number };
  pullTraffic: { limit: number | null; used: number; month: string };
  /** Pulls of the account's public namespaces by anyone outside it. */
  publicPullTraffic?: { limit: number | null; used: number; month: string };
}

function sizeArg(value: string): number | null {
  try {
    return parseSize(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function printQuota(ctx: CliContext, quota: Quota, format: OutputFormat): void {
  if (format === 'json') return writeJson(ctx.stdout, quota);
  ctx.stdout.write(table(['Quota', 'Limit', 'Used'], [
    ['Storage', sizeLimit(quota.storage.limit), humanSize(quota.storage.used)],
    [`Pull traffic (${quota.pullTraffic.month})`, sizeLimit(quota.pullTraffic.limit), humanSize(quota.pullTraffic.used)],
    ...(quota.publicPullTraffic
      ? [[`Public pull traffic (${quota.publicPullTraffic.month})`, sizeLimit(quota.publicPullTraffic.limit), humanSize(quota.publicPullTraffic.used)]]
      : []),
  ]));
}

/** `wharf quota get|set`. */
export function registerQuotaCommands(program: Command, ctx: CliContext): void {
  const group = examples(program.command('quota')
    .summary('show and set storage and pull-traffic quotas')
    .description('your account\'s storage and monthly pull-traffic quotas and their usage'),
  'wharf quota get',
  'wharf quota set --storage 2GB --traffic 10GB');

  examples(group.command('get')
    .description('show the quotas and how much of them is used')
    .addOption(formatOption()),
  'wharf quota get',
  'wharf quota get --format json')
    .action(async (opts: { format: OutputFormat }) => {
      printQuota(ctx, await ApiClient.fromStoredLogin(ctx).get<Quota>('/quota'), opts.format);
    });

  examples(group.command('set')
    .description('set the quotas (a push that would exceed the storage quota, or a pull over the traffic quota, is refused)')
    .option('--storage <size>', 'storage limit: e.g. 500MB, 2GiB, or unlimited', sizeArg)
    .option('--traffic <size>', 'pull traffic limit per calendar month: e.g. 10GB, or unlimited', sizeArg)
    .option('--public-traffic <size>', 'monthly limit of pulls from your public namespaces by anyone outside the account (never counted in --traffic)', sizeArg)
    .addOption(formatOption()),
  'wharf quota set --storage 2GB',
  'wharf quota set --traffic 10GiB',
  'wharf quota set --storage unlimited --traffic unlimited',
  'wharf quota set --public-traffic 50GB')
    .action(async (opts: { storage?: number | null; traffic?: number | null; publicTraffic?: number | null; format: OutputFormat }) => {
      if (opts.storage === undefined && opts.traffic === undefined && opts.publicTraffic === undefined) {
        throw new UsageError('say what to set: --storage <size>, --traffic <size>, --public-traffic <size>, or several');
      }
      const body: Record<string, number | null> = {};
      if (opts.storage !== undefined) body.storageBytes = opts.storage;
      if (opts.traffic !== undefined) body.pullBytesPerMonth = opts.traffic;
      if (opts.publicTraffic !== undefined) body.publicPullBytesPerMonth = opts.publicTraffic;
      printQuota(ctx, await ApiClient.fromStoredLogin(ctx).put<Quota>('/quota', body), opts.format);
    });
}
