import path from 'node:path';
import type { Command } from 'commander';
import { examples, formatOption, type OutputFormat } from '../command-kit.js';
import { CliError, writeJson, type CliContext } from '../context.js';
import { humanSize } from '../format.js';
import { loadServerConfig, openServerData } from '../server-config.js';

/**
 * `wharf backup <dir>` and `wharf restore <dir>`: operator commands, run where the registry's
 * configuration is (like `wharf fsck`), on its database and blob store directly, while it serves.
 */
export function registerBackupCommands(program: Command, ctx: CliContext): void {
  examples(program.command('backup')
    .summary('back up the registry\'s database and blobs while it serves (operators)')
    .description('a consistent copy of the registry into a new directory: a snapshot of the SQLite database (its online backup API), then every blob that snapshot references (hard-linked from the data directory when on the same filesystem, else copied), and backup.json describing what it holds. With PostgreSQL, dump the database with pg_dump first, then run wharf backup --blobs-only. Same --config and WHARF_* settings as wharf serve.')
    .argument('<dir>', 'a new or empty directory for the backup')
    .option('-c, --config <file>', 'YAML configuration file (also WHARF_CONFIG)')
    .option('--blobs-only', 'PostgreSQL: copy the blobs the database references now (run pg_dump before this)')
    .addOption(formatOption()),
  'wharf backup /backups/wharf-$(date +%F)',
  'pg_dump --format=custom --file /backups/wharf.pgdump "$WHARF_DATABASE_URL" && wharf backup --blobs-only /backups/wharf-blobs')
    .action(async (dir: string, opts: { config?: string; blobsOnly?: boolean; format: OutputFormat }) => {
      const { BackupError, takeBackup } = await import('../../ops/backup.js');
      const config = await loadServerConfig(opts.config);
      const postgres = config.database.engine === 'postgres';
      if (postgres && !opts.blobsOnly) {
        throw new CliError('the registry\'s metadata is in PostgreSQL: dump it with pg_dump --format=custom --file <file> "$WHARF_DATABASE_URL" first, then run wharf backup --blobs-only <dir> for the blobs it references (see "Backup and restore" in the README)', 2);
      }
      if (!postgres && opts.blobsOnly) throw new CliError('--blobs-only is for PostgreSQL registries; a SQLite registry is backed up whole with wharf backup <dir>', 2);
      const data = await openServerData(config, 'backup');
      try {
        const manifest = await takeBackup({
          engine: config.database.engine,
          sqlitePath: config.database.sqlitePath,
          store: data.store,
          fsRoot: config.storage.driver === 'filesystem' ? config.storage.dataDir : undefined,
          listBlobs: async () => data.metadata.db.selectFrom('blobs').select(['digest', 'size']).execute()
            .then((rows) => rows.map((r) => ({ digest: r.digest, size: Number(r.size) }))),
        }, path.resolve(dir), () => Date.now());
        if (opts.format === 'json') return writeJson(ctx.stdout, manifest);
        const what = manifest.contents ? `${manifest.contents.repositories} repositories, ${manifest.contents.manifests} manifests, ${manifest.contents.tags} tags, ` : '';
        ctx.stdout.write(`Backed up ${what}${manifest.blobs.count} blobs (${humanSize(manifest.blobs.bytes)}; ${manifest.blobs.linked} hard-linked, ${manifest.blobs.copied} copied) into ${path.resolve(dir)}.\n`);
        if (postgres) ctx.stdout.write('The metadata is your pg_dump, taken before this: keep it with this directory.\n');
      } catch (err) {
        if (err instanceof BackupError) throw new CliError(`backup failed: ${err.message}`);
        throw err;
      } finally {
        await data.close();
      }
    });

  examples(program.command('restore')
    .summary('restore a backup into an empty data directory (operators)')
    .description('checks the backup against its backup.json (checksums, every blob with its size), then puts every blob into the configured store, hashing each on the way, and the database snapshot into place. The data directory (and store) must be empty. Start wharf serve on it afterwards; wharf fsck confirms it. For PostgreSQL, pg_restore the dump into an empty database first.')
    .argument('<dir>', 'a directory written by wharf backup')
    .option('-c, --config <file>', 'YAML configuration file of the registry to restore into (also WHARF_CONFIG)')
    .addOption(formatOption()),
  'WHARF_STORAGE_DATA_DIR=/srv/wharf-restored wharf restore /backups/wharf-2026-11-30',
  'wharf restore --config /etc/wharf.yaml /backups/wharf-2026-11-30')
    .action(async (dir: string, opts: { config?: string; format: OutputFormat }) => {
      const { BackupError } = await import('../../ops/backup.js');
      const { restoreBackup } = await import('../../ops/restore.js');
      const { openBlobStore } = await import('../../storage/open.js');
      const config = await loadServerConfig(opts.config);
      try {
        const report = await restoreBackup(path.resolve(dir), {
          engine: config.database.engine,
          dataDir: config.storage.dataDir,
          sqlitePath: config.database.sqlitePath,
          openStore: () => openBlobStore(config),
        });
        if (opts.format === 'json') return writeJson(ctx.stdout, report);
        ctx.stdout.write(`Restored ${report.blobs} blobs (${humanSize(report.bytes)})${report.metadata ? ` and the database into ${report.metadata}` : ''}. Start wharf serve on it; wharf fsck checks it.\n`);
      } catch (err) {
        if (err instanceof BackupError) throw new CliError(`restore failed: ${err.message}`);
        throw err;
      }
    });
}
