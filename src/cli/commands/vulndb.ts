import type { Command } from 'commander';
import { examples, formatOption, type OutputFormat } from '../command-kit.js';
import { CliError, writeJson, type CliContext } from '../context.js';
import { table } from '../format.js';
import { loadServerConfig, openServerData } from '../server-config.js';

/**
 * `wharf vulndb import|status`: an operator's commands, run where the registry's configuration is
 * (like `wharf serve`): they write the advisory data straight into the metadata store, with no network.
 */
export function registerVulnDbCommands(program: Command, ctx: CliContext): void {
  const group = examples(program.command('vulndb')
    .summary('load and inspect the vulnerability advisory data (operators)')
    .description('the OSV advisory data the Vulnerability Advisor matches images against; runs against the registry\'s own database (same --config and WHARF_* settings as wharf serve)'),
  'wharf vulndb sync',
  'wharf vulndb import ./osv-debian-12/',
  'wharf vulndb import Debian-all.zip --config /etc/wharf.yaml',
  'wharf vulndb status');

  examples(group.command('sync')
    .description('download OSV\'s exports (<scanner.feedBase>/<ecosystem>/all.zip) for the ecosystems the scanned images contain (or scanner.ecosystems), skipping unchanged ones, and queue rescans of the images the changes touch; the server also does this every scanner.syncInterval')
    .option('-c, --config <file>', 'YAML configuration file (also WHARF_CONFIG)')
    .addOption(formatOption()),
  'wharf vulndb sync',
  'WHARF_SCANNER_FEED_BASE=/srv/osv-mirror wharf vulndb sync --format json')
    .action(async (opts: { config?: string; format: OutputFormat }) => {
      await withDatabase(opts.config, async ({ feed }) => {
        const report = await feed.sync();
        if (opts.format === 'json') writeJson(ctx.stdout, report);
        else if (report.sources.length === 0) {
          ctx.stdout.write('No ecosystems to sync: no scanned image has packages yet and scanner.ecosystems is empty (e.g. WHARF_SCANNER_ECOSYSTEMS=Debian,npm).\n');
        } else {
          ctx.stdout.write(table(['Source', 'Outcome', 'Records', 'Changed', 'Withdrawn'], report.sources.map((o) => [o.source, o.outcome, String(o.records), String(o.changed), String(o.withdrawn)])));
          if (report.rescansQueued > 0) ctx.stdout.write(`${report.rescansQueued} image(s) whose packages the changes touch queued for a rescan.\n`);
        }
        const failed = report.sources.filter((o) => o.outcome === 'failed');
        for (const o of failed) ctx.stderr.write(`${o.source}: ${o.error}\n`);
        if (failed.length > 0) throw new CliError(`${failed.length} of ${report.sources.length} source(s) could not be updated (see above); the others were`);
      });
    });

  examples(group.command('import <path>')
    .description('import OSV JSON records from a directory, a .json file, a .zip (as OSV exports them) or a .tar/.tar.gz archive; importing the same data again changes nothing; scanned images whose packages the changes touch are queued for a rescan')
    .option('-c, --config <file>', 'YAML configuration file (also WHARF_CONFIG)')
    .addOption(formatOption()),
  'wharf vulndb import ./advisories/',
  'wharf vulndb import osv.tar.gz --format json')
    .action(async (source: string, opts: { config?: string; format: OutputFormat }) => {
      await withDatabase(opts.config, async ({ vulndb, scanner }) => {
        const result = await vulndb.import(source);
        const rescans = result.changed > 0 ? (await scanner.rescanTouched(result.touched)).length : 0;
        const { touched: _touched, ...shown } = result;
        if (opts.format === 'json') return writeJson(ctx.stdout, { ...shown, rescansQueued: rescans });
        ctx.stdout.write(`Imported ${result.records} advisories from ${source} (${result.changed} new or changed); data as of ${result.dataDate ?? 'unknown'}.\n`);
        if (rescans > 0) ctx.stdout.write(`${rescans} scanned image(s) queued for a rescan.\n`);
        for (const skipped of result.skipped.slice(0, 20)) ctx.stderr.write(`skipped ${skipped.file}: ${skipped.reason}\n`);
        if (result.skipped.length > 20) ctx.stderr.write(`… and ${result.skipped.length - 20} more skipped\n`);
      });
    });

  examples(group.command('status')
    .description('show what advisory data is loaded: each feed source\'s last sync, age, record count, ETag and last error')
    .option('-c, --config <file>', 'YAML configuration file (also WHARF_CONFIG)')
    .addOption(formatOption()),
  'wharf vulndb status')
    .action(async (opts: { config?: string; format: OutputFormat }) => {
      await withDatabase(opts.config, async ({ vulndb }) => {
        const status = await vulndb.status();
        if (opts.format === 'json') return writeJson(ctx.stdout, status);
        ctx.stdout.write(`Advisories: ${status.advisories}\nData date:  ${status.dataDate ?? 'none loaded'}\n`);
        if (status.lastImport) ctx.stdout.write(`Last import: ${status.lastImport.at} from ${status.lastImport.source}\n`);
        if (status.stale) ctx.stdout.write(`Stale:      yes (not updated within ${formatAge(status.staleAfterSeconds)})\n`);
        if (status.sources.length > 0) {
          ctx.stdout.write(`\n${table(['Source', 'Last sync', 'Age', 'Records', 'ETag', 'Last error'], status.sources.map((s) => [
            s.name, s.lastSync ?? 'never', s.ageSeconds === null ? '-' : formatAge(s.ageSeconds), String(s.records), s.etag ?? '-', s.lastError ?? '-',
          ]))}`);
        }
        if (status.ecosystems.length > 0) ctx.stdout.write(`\n${table(['Ecosystem', 'Advisories'], status.ecosystems.map((e) => [e.ecosystem, String(e.advisories)]))}`);
      });
    });
}

/** "3d 4h", "2h 5m", "40s": how long ago, at a glance. */
function formatAge(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  return m > 0 ? `${m}m` : `${seconds}s`;
}

type Tools = {
  vulndb: import('../../scanner/vulndb.js').VulnDb;
  scanner: import('../../scanner/scan-service.js').ScanService;
  feed: import('../../scanner/feed/sync.js').FeedSync;
};

async function withDatabase(configFile: string | undefined, run: (tools: Tools) => Promise<void>): Promise<void> {
  // Loaded on use, so the client commands start without the database drivers.
  const { VulnDb } = await import('../../scanner/vulndb.js');
  const { ScanService } = await import('../../scanner/scan-service.js');
  const { ExemptionService } = await import('../../scanner/exemptions.js');
  const { JobRunner } = await import('../../jobs/runner.js');
  const { FeedSync } = await import('../../scanner/feed/sync.js');
  const { default: pino } = await import('pino');
  const config = await loadServerConfig(configFile);
  // Rescans read layers from the store the server uses (on S3, the bucket).
  const { store, metadata, close } = await openServerData(config, 'vulndb');
  try {
    const now = () => Date.now();
    const log = pino({ level: 'warn' });
    const vulndb = new VulnDb(metadata.db, now, config.scanner.staleAfter * 1000);
    const jobs = new JobRunner(metadata.db, log, now, { concurrency: 1, leaseMs: 60_000, pollMs: 1000, maxAttempts: 5 });
    const scanner = new ScanService(metadata.db, store, vulndb, new ExemptionService(metadata.db, now), jobs, log, now);
    const feed = new FeedSync(metadata.db, vulndb, (touched) => scanner.rescanTouched(touched), log, now, { feedBase: config.scanner.feedBase, ecosystems: config.scanner.ecosystems });
    await run({ vulndb, scanner, feed });
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError((err as Error).message);
  } finally {
    await close();
  }
}
