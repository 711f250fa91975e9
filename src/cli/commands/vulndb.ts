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
  'wharf vulndb import ./osv-debian-12/',
  'wharf vulndb import advisories.tar.gz --config /etc/wharf.yaml',
  'wharf vulndb status');

  examples(group.command('import <path>')
    .description('import OSV JSON records from a directory, a .json file or a .tar/.tar.gz archive; importing the same data again changes nothing; scanned images are queued for a rescan')
    .option('-c, --config <file>', 'YAML configuration file (also WHARF_CONFIG)')
    .addOption(formatOption()),
  'wharf vulndb import ./advisories/',
  'wharf vulndb import osv.tar.gz --format json')
    .action(async (source: string, opts: { config?: string; format: OutputFormat }) => {
      await withDatabase(opts.config, async ({ vulndb, scanner }) => {
        const result = await vulndb.import(source);
        const rescans = result.changed > 0 ? await scanner.rescanAll() : 0;
        if (opts.format === 'json') return writeJson(ctx.stdout, { ...result, rescansQueued: rescans });
        ctx.stdout.write(`Imported ${result.records} advisories from ${source} (${result.changed} new or changed); data as of ${result.dataDate ?? 'unknown'}.\n`);
        if (rescans > 0) ctx.stdout.write(`${rescans} scanned image(s) queued for a rescan.\n`);
        for (const skipped of result.skipped.slice(0, 20)) ctx.stderr.write(`skipped ${skipped.file}: ${skipped.reason}\n`);
        if (result.skipped.length > 20) ctx.stderr.write(`… and ${result.skipped.length - 20} more skipped\n`);
      });
    });

  examples(group.command('status')
    .description('show what advisory data is loaded')
    .option('-c, --config <file>', 'YAML configuration file (also WHARF_CONFIG)')
    .addOption(formatOption()),
  'wharf vulndb status')
    .action(async (opts: { config?: string; format: OutputFormat }) => {
      await withDatabase(opts.config, async ({ vulndb }) => {
        const status = await vulndb.status();
        if (opts.format === 'json') return writeJson(ctx.stdout, status);
        ctx.stdout.write(`Advisories: ${status.advisories}\nData date:  ${status.dataDate ?? 'none loaded'}\n`);
        if (status.lastImport) ctx.stdout.write(`Last import: ${status.lastImport.at} from ${status.lastImport.source}\n`);
        if (status.ecosystems.length > 0) ctx.stdout.write(`\n${table(['Ecosystem', 'Advisories'], status.ecosystems.map((e) => [e.ecosystem, String(e.advisories)]))}`);
      });
    });
}

async function withDatabase(configFile: string | undefined, run: (tools: { vulndb: import('../../scanner/vulndb.js').VulnDb; scanner: import('../../scanner/scan-service.js').ScanService }) => Promise<void>): Promise<void> {
  // Loaded on use, so the client commands start without the database drivers.
  const { VulnDb } = await import('../../scanner/vulndb.js');
  const { ScanService } = await import('../../scanner/scan-service.js');
  const { ExemptionService } = await import('../../scanner/exemptions.js');
  const { JobRunner } = await import('../../jobs/runner.js');
  const { default: pino } = await import('pino');
  const config = await loadServerConfig(configFile);
  // Rescans read layers from the store the server uses (on S3, the bucket).
  const { store, metadata, close } = await openServerData(config, 'vulndb');
  try {
    const now = () => Date.now();
    const log = pino({ level: 'warn' });
    const vulndb = new VulnDb(metadata.db, now);
    const jobs = new JobRunner(metadata.db, log, now, { concurrency: 1, leaseMs: 60_000, pollMs: 1000, maxAttempts: 5 });
    const scanner = new ScanService(metadata.db, store, vulndb, new ExemptionService(metadata.db, now), jobs, log, now);
    await run({ vulndb, scanner });
  } catch (err) {
    throw new CliError((err as Error).message);
  } finally {
    await close();
  }
}
