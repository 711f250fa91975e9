import type { Command } from 'commander';
import { ApiClient } from '../api-client.js';
import { examples, formatOption, type OutputFormat } from '../command-kit.js';
import { writeJson, writeLine, type CliContext } from '../context.js';
import { humanSize } from '../format.js';

interface GcReport {
  dryRun: boolean;
  durationMs: number;
  linksRemoved: number;
  blobsRemoved: number;
  bytesFreed: number;
  orphansRemoved: number;
  orphanBytesFreed: number;
}

/** `wharf gc [--dry-run]`: registry-wide garbage collection, for the registry operator. */
export function registerGcCommands(program: Command, ctx: CliContext): void {
  examples(program.command('gc')
    .summary('free the storage of deleted images (registry operator)')
    .description('run garbage collection now: removes blobs that no image (tagged, untagged or in the trash) uses any more, and frees their storage and quota; pushes and pulls go on meanwhile. Needs the owner of the default account.')
    .option('--dry-run', 'report what would be removed, remove nothing')
    .addOption(formatOption()),
  'wharf gc --dry-run',
  'wharf gc',
  'wharf gc --format json')
    .action(async (opts: { dryRun?: boolean; format: OutputFormat }) => {
      const api = ApiClient.fromStoredLogin(ctx);
      const report = await api.post<GcReport>('/gc', undefined, opts.dryRun ? { dryRun: 'true' } : undefined);
      if (opts.format === 'json') return writeJson(ctx.stdout, report);
      const verb = report.dryRun ? 'Would remove' : 'Removed';
      writeLine(ctx.stdout, `${verb} ${report.blobsRemoved} blob(s), ${humanSize(report.bytesFreed)}; ${report.linksRemoved} repository link(s); ${report.orphansRemoved} orphaned file(s), ${humanSize(report.orphanBytesFreed)}. Took ${(report.durationMs / 1000).toFixed(1)} s.`);
    });
}
