import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { examples, formatOption, type OutputFormat } from '../command-kit.js';
import { CliError, writeJson, type CliContext } from '../context.js';
import { humanSize } from '../format.js';
import { loadServerConfig, openServerData } from '../server-config.js';
import type { FsckProblem, FsckReport } from '../../registry/fsck.js';

/**
 * `wharf fsck [--repair] [--no-content]`: an operator's command, run where the registry's
 * configuration is (like `wharf serve` and `wharf vulndb`): it reads the metadata store and the
 * blob store directly. Exit 0 when consistent, 1 when errors are left, 2 on bad usage.
 */
export function registerFsckCommands(program: Command, ctx: CliContext): void {
  examples(program.command('fsck')
    .summary('check that the database and the stored blobs agree (operators)')
    .description('check the registry\'s data: every blob\'s bytes are there and match its digest and size, every manifest\'s references resolve in its repository, every tag points at a manifest, trashed images have their blobs, image sizes match a recount; stored files no row knows are listed for information. Runs against the registry\'s own database and data directory (same --config and WHARF_* settings as wharf serve), also while it serves. Exits 0 when consistent, 1 when errors are left.')
    .option('-c, --config <file>', 'YAML configuration file (also WHARF_CONFIG)')
    .option('--repair', 'fix what can be fixed (image sizes); the exit code then counts only what is left')
    .option('--no-content', 'do not re-hash the blobs\' bytes, only check that they are there with the right size (fast)')
    .addOption(formatOption()),
  'wharf fsck',
  'wharf fsck --no-content',
  'wharf fsck --repair --config /etc/wharf.yaml',
  'wharf fsck --format json')
    .action(async (opts: { config?: string; repair?: boolean; content: boolean; format: OutputFormat }) => {
      const json = opts.format === 'json';
      const report = await withRegistryData(opts.config, (fsck) => fsck.run({
        content: opts.content,
        repair: opts.repair === true,
        // Text output reports each problem as it is found; JSON gives them in the report.
        onProblem: json ? undefined : (problem) => ctx.stdout.write(`${problemLine(problem)}\n`),
      }));
      if (json) writeJson(ctx.stdout, report);
      else ctx.stdout.write(summary(report));
      if (report.errors > 0) {
        throw new CliError(`the registry has ${report.errors} error(s)${report.repaired > 0 ? ` left after ${report.repaired} repair(s)` : ''}: see each problem above for what to do${opts.repair ? '' : '; --repair fixes image sizes'}`);
      }
    });
}

function problemLine(problem: FsckProblem): string {
  const label = problem.repaired ? 'repaired' : problem.severity;
  return `${label.padEnd(8)} ${problem.check}: ${problem.message}`;
}

function summary(report: FsckReport): string {
  const checked = `Checked ${report.blobs} blob(s)${report.content ? ` (${humanSize(report.bytesHashed)} hashed)` : ' (presence and size only)'}, ${report.manifests} manifest(s), ${report.tags} tag(s), ${report.trashReferences} trash reference(s), ${report.files} stored file(s) in ${(report.durationMs / 1000).toFixed(1)} s.`;
  const outcome = `${report.errors} error(s), ${report.repaired} repaired, ${report.infos} note(s).`;
  const omitted = report.problemsOmitted > 0 ? ` (${report.problemsOmitted} problem(s) not kept in the report)` : '';
  const usage = report.usage.map((u) => `  ${u.account}: ${humanSize(u.storageBytes)}`).join('\n');
  return `${checked}\n${outcome}${omitted}\n${usage ? `Storage used per account (recounted from its links):\n${usage}\n` : ''}`;
}

async function withRegistryData<T>(configFile: string | undefined, run: (fsck: import('../../registry/fsck.js').Fsck) => Promise<T>): Promise<T> {
  // Loaded on use, so the client commands start without the database drivers.
  const { blobLocks } = await import('../../metadata/blob-locks.js');
  const { Fsck } = await import('../../registry/fsck.js');
  const config = await loadServerConfig(configFile);
  // Opening a SQLite file that is not there would create an empty registry, which checks clean.
  if (config.database.engine === 'sqlite' && !existsSync(config.database.sqlitePath)) {
    throw new CliError(`no registry database at ${config.database.sqlitePath}: point fsck at the registry's data with --config or WHARF_STORAGE_DATA_DIR, as for wharf serve`, 2);
  }
  const data = await openServerData(config, 'fsck');
  try {
    return await run(new Fsck(data.metadata.db, data.store, blobLocks(data.metadata.engine)));
  } catch (err) {
    throw new CliError(`fsck could not finish: ${(err as Error).message}`);
  } finally {
    await data.close();
  }
}
