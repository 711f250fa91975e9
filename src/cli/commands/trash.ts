import type { Command } from 'commander';
import { ApiClient } from '../api-client.js';
import { examples, formatOption, type OutputFormat } from '../command-kit.js';
import { UsageError, writeJson, writeLine, type CliContext } from '../context.js';
import { confirm } from '../prompt.js';
import { humanSize, relativeTime, shortDigest, table } from '../format.js';

interface TrashItem {
  name: string;
  digest: string;
  tags: string[];
  deleted: string;
  expires: string;
  size: number;
  /** active: a namespace of the account; removed: restoring re-creates it; taken: another account has the name now. */
  namespaceState?: 'active' | 'removed' | 'taken';
}

const DAY = 24 * 3600 * 1000;

/** `wharf trash list`. */
export function registerTrashCommands(program: Command, ctx: CliContext): void {
  const group = examples(program.command('trash')
    .summary('list removed images that can still be restored, or remove them for good')
    .description('images removed by digest, by retention or with their namespace; restorable until they expire'),
  'wharf trash list',
  'wharf image restore team-a/app@sha256:4c3f...',
  'wharf trash rm team-a/app@sha256:4c3f... --force');

  examples(group.command('rm')
    .alias('remove')
    .description('remove an image from the trash for good: your storage usage goes down now, the space itself at the next garbage collection')
    .argument('<image>', 'namespace/repository@digest, as wharf trash list --no-trunc shows it')
    .option('-f, --force', 'do not ask for confirmation'),
  'wharf trash rm team-a/app@sha256:4c3f... --force')
    .action(async (image: string, opts: { force?: boolean }) => {
      if (!image.includes('@')) throw new UsageError('name the image by digest: <namespace>/<repository>@sha256:… (see wharf trash list --no-trunc)');
      if (!opts.force && !(await confirm(ctx, `Remove ${image} from the trash for good? It cannot be restored afterwards.`, '--force'))) {
        return writeLine(ctx.stdout, 'Nothing removed.');
      }
      const removed = await ApiClient.fromStoredLogin(ctx).post<{ removed: number }>('/trash/remove', { image });
      writeLine(ctx.stdout, `Removed ${image} from the trash${removed.removed > 1 ? ` with ${removed.removed - 1} platform image(s)` : ''}. Its storage is freed at the next garbage collection.`);
    });

  examples(group.command('list')
    .alias('ls')
    .description('list the images in the trash and the days left to restore them')
    .option('--restrict <namespace[/repository]>', 'only the images of this namespace or repository')
    .addOption(formatOption())
    .option('-q, --quiet', 'print image references only (namespace/repository@digest)')
    .option('--no-trunc', 'print full digests'),
  'wharf trash list',
  'wharf trash list --restrict team-a --no-trunc',
  'wharf trash list --format json')
    .action(async (opts: { restrict?: string; format: OutputFormat; quiet?: boolean; trunc: boolean }) => {
      const { items: all } = await ApiClient.fromStoredLogin(ctx).get<{ items: TrashItem[] }>('/trash');
      const restrict = opts.restrict?.replace(/\/+$/, '');
      const items = restrict ? all.filter((i) => i.name === restrict || i.name.startsWith(`${restrict}/`)) : all;
      if (opts.format === 'json') return writeJson(ctx.stdout, items);
      if (opts.quiet) return items.forEach((i) => writeLine(ctx.stdout, `${i.name}@${i.digest}`));
      if (items.length === 0) return writeLine(ctx.stdout, 'The trash is empty.');
      ctx.stdout.write(table(
        ['Image', 'Digest', 'Tags', 'Deleted', 'Days until expiry', 'Size'],
        items.map((i) => [
          i.name, opts.trunc ? shortDigest(i.digest) : i.digest, i.tags.length ? i.tags.join(', ') : '<none>',
          relativeTime(i.deleted, ctx.now()), String(Math.max(0, Math.ceil((Date.parse(i.expires) - ctx.now()) / DAY))), humanSize(i.size),
        ]),
      ));
      writeLine(ctx.stdout);
      const namespaces = (state: TrashItem['namespaceState']) => [...new Set(items.filter((i) => i.namespaceState === state).map((i) => i.name.split('/')[0]!))];
      for (const ns of namespaces('removed')) writeLine(ctx.stdout, `Namespace ${ns} was removed: restoring one of its images re-creates it.`);
      for (const ns of namespaces('taken')) writeLine(ctx.stdout, `Namespace ${ns} was removed and another account now uses the name: its images cannot be restored.`);
      writeLine(ctx.stdout, 'Restore one with: wharf image restore <image>@<digest> (use --no-trunc for full digests)');
    });
}
