import type { Command } from 'commander';
import { ApiClient, type Query } from '../api-client.js';
import { examples, formatOption, type OutputFormat } from '../command-kit.js';
import { CliError, writeJson, writeLine, type CliContext } from '../context.js';
import { humanSize, relativeTime, shortDigest, table } from '../format.js';
import { apiReference, referencePath } from './image-reference.js';

/** One row of GET /images: one per tag, or one for an untagged image. */
export interface ImageRow {
  repository: string;
  name: string;
  namespace: string;
  tag: string | null;
  digest: string;
  mediaType: string;
  created: string;
  size: number;
  securityStatus: string;
  /** The most severe open vulnerability; null when none is open. */
  highestSeverity?: string | null;
  lastPulled: string | null;
  pullCount: number;
  /** Signatures and attestations the image carries, and the trusted keys that verified one. */
  signatures: number;
  verifiedBy: string[];
}

/** The security status with the most severe open vulnerability beside it: "3 Issues (HIGH)". */
export function securityCell(image: Pick<ImageRow, 'securityStatus' | 'highestSeverity'>): string {
  return image.highestSeverity ? `${image.securityStatus} (${image.highestSeverity})` : image.securityStatus;
}

/** The Signed column: verified by which keys, or carrying signatures none of the trusted keys verifies, or none. */
export function signedCell(image: Pick<ImageRow, 'signatures' | 'verifiedBy'>): string {
  if (image.verifiedBy?.length) return `yes (${image.verifiedBy.join(', ')})`;
  if (image.signatures > 0) return `unverified (${image.signatures})`;
  return 'no';
}

interface ListOptions {
  restrict?: string;
  tag?: string;
  untagged?: boolean;
  securityStatus?: string;
  format: OutputFormat;
  quiet?: boolean;
  trunc: boolean;
}

/** Every page of GET /images with the filters of the command line. */
async function listImages(api: ApiClient, opts: ListOptions): Promise<ImageRow[]> {
  const query: Query = { tag: opts.tag, untagged: opts.untagged === true, securityStatus: opts.securityStatus };
  if (opts.restrict) {
    const restrict = opts.restrict.startsWith(`${api.host}/`) ? opts.restrict.slice(api.host.length + 1) : opts.restrict;
    const slash = restrict.indexOf('/');
    query.namespace = slash === -1 ? restrict : restrict.slice(0, slash);
    if (slash !== -1) query.repository = restrict;
  }
  const images: ImageRow[] = [];
  let cursor: string | undefined;
  do {
    const page = await api.get<{ images: ImageRow[]; next?: string }>('/images', { ...query, cursor });
    images.push(...page.images);
    cursor = page.next;
  } while (cursor);
  return images;
}

function listFilters(command: Command): Command {
  return command
    .option('--restrict <namespace[/repository]>', 'only the images in this namespace or repository')
    .option('--tag <tag>', 'only the images with this tag')
    .option('--untagged', 'only the images without a tag')
    .option('--security-status <status>', 'only the images with this security status')
    .addOption(formatOption())
    .option('--no-trunc', 'print full digests');
}

/** `wharf image list|inspect|tag|rm|digests|restore`. */
export function registerImageCommands(program: Command, ctx: CliContext): void {
  const group = examples(program.command('image')
    .alias('images')
    .summary('list, inspect, tag, remove and restore images')
    .description('list, inspect, tag and remove the images of your account'),
  'wharf image list',
  'wharf image tag team-a/app:1.0 team-a/app:stable',
  'wharf image rm team-a/app:old');

  examples(listFilters(group.command('list')
    .alias('ls')
    .description('list images: one row per tag (an untagged image is one row with tag <none>)'))
    .option('-q, --quiet', 'print image references only (repository:tag, or repository@digest when untagged)'),
  'wharf image list',
  'wharf image list --restrict team-a',
  'wharf image list --restrict team-a/app --no-trunc',
  'wharf image list --untagged -q',
  'wharf image list --format json')
    .action(async (opts: ListOptions) => {
      const api = ApiClient.fromStoredLogin(ctx);
      const images = await listImages(api, opts);
      if (opts.format === 'json') return writeJson(ctx.stdout, images);
      if (opts.quiet) return images.forEach((i) => writeLine(ctx.stdout, i.tag === null ? `${i.repository}@${i.digest}` : `${i.repository}:${i.tag}`));
      if (images.length === 0) return writeLine(ctx.stdout, `No images${opts.restrict ? ` in ${opts.restrict}` : ''}. Push one to ${api.host}/<namespace>/<repository>:<tag>.`);
      ctx.stdout.write(table(
        ['Repository', 'Tag', 'Digest', 'Namespace', 'Created', 'Size', 'Security status', 'Signed'],
        images.map((i) => [i.repository, i.tag ?? '<none>', opts.trunc ? shortDigest(i.digest) : i.digest, i.namespace, relativeTime(i.created, ctx.now()), humanSize(i.size), securityCell(i), signedCell(i)]),
      ));
    });

  examples(listFilters(group.command('digests')
    .description('list images by digest, each with all its tags'))
    .option('-q, --quiet', 'print image references only (repository@digest)'),
  'wharf image digests',
  'wharf image digests --restrict team-a --no-trunc',
  'wharf image digests --format json')
    .action(async (opts: ListOptions) => {
      const api = ApiClient.fromStoredLogin(ctx);
      const byDigest = new Map<string, ImageRow & { tags: string[] }>();
      for (const row of await listImages(api, opts)) {
        const key = `${row.name}@${row.digest}`;
        const seen = byDigest.get(key) ?? { ...row, tags: [] };
        if (row.tag !== null) seen.tags.push(row.tag);
        byDigest.set(key, seen);
      }
      const digests = [...byDigest.values()].map(({ tag: _tag, ...rest }) => rest);
      if (opts.format === 'json') return writeJson(ctx.stdout, digests);
      if (opts.quiet) return digests.forEach((d) => writeLine(ctx.stdout, `${d.repository}@${d.digest}`));
      if (digests.length === 0) return writeLine(ctx.stdout, `No images${opts.restrict ? ` in ${opts.restrict}` : ''}.`);
      ctx.stdout.write(table(
        ['Repository', 'Digest', 'Tags', 'Namespace', 'Created', 'Size', 'Security status', 'Signed'],
        digests.map((d) => [d.repository, opts.trunc ? shortDigest(d.digest) : d.digest, d.tags.length ? d.tags.join(', ') : '<none>', d.namespace, relativeTime(d.created, ctx.now()), humanSize(d.size), securityCell(d), signedCell(d)]),
      ));
    });

  examples(group.command('inspect')
    .description('print images\' details as JSON: config, layers with sizes, history, platforms of an index, labels, annotations, referrers')
    .argument('<image...>', 'namespace/repository:tag or namespace/repository@sha256:<digest>'),
  'wharf image inspect team-a/app:1.0',
  'wharf image inspect team-a/app@sha256:4c3f... | jq \'.[0].layers\'')
    .action(async (refs: string[]) => {
      const api = ApiClient.fromStoredLogin(ctx);
      const details = [];
      for (const ref of refs) details.push(await api.get<unknown>(referencePath(apiReference(api, ref))));
      writeJson(ctx.stdout, details);
    });

  examples(group.command('tag')
    .description('add tags to an existing image, in its repository or in another repository of your account')
    .argument('<source>', 'namespace/repository:tag or namespace/repository@sha256:<digest>')
    .argument('<target...>', 'namespace/repository:newtag'),
  'wharf image tag team-a/app:1.0 team-a/app:stable',
  'wharf image tag team-a/app@sha256:4c3f... team-b/app:1.0 team-b/app:latest')
    .action(async (source: string, targets: string[]) => {
      const api = ApiClient.fromStoredLogin(ctx);
      const from = apiReference(api, source);
      for (const target of targets) {
        const to = apiReference(api, target);
        const tagged = await api.post<{ name: string; tag: string; digest: string }>('/images/tags', { source: from, target: to });
        writeLine(ctx.stdout, `Tagged ${tagged.name}:${tagged.tag} (${tagged.digest}).`);
      }
    });

  examples(group.command('rm')
    .alias('remove')
    .description('remove images: by tag removes the tag (the image stays while other tags or its digest name it); by digest moves the image, with all its tags, to the trash')
    .argument('<image...>', 'namespace/repository:tag or namespace/repository@sha256:<digest>'),
  'wharf image rm team-a/app:old',
  'wharf image rm team-a/app@sha256:4c3f...',
  'wharf image list --untagged -q | xargs wharf image rm')
    .action(async (refs: string[]) => {
      const api = ApiClient.fromStoredLogin(ctx);
      const checked = refs.map((r) => apiReference(api, r, 'tag-or-digest'));
      let failed = 0;
      for (const ref of checked) {
        try {
          await api.delete(referencePath(ref));
        } catch (err) {
          if (!(err instanceof CliError) || checked.length === 1) throw err;
          failed++;
          writeLine(ctx.stderr, `wharf: ${ref}: ${err.message}`);
          continue;
        }
        writeLine(ctx.stdout, ref.includes('@')
          ? `Moved ${ref} to the trash. Restore it with: wharf image restore ${ref}`
          : `Untagged ${ref}.`);
      }
      if (failed > 0) throw new CliError(`${failed} of ${checked.length} images could not be removed`);
    });

  examples(group.command('restore')
    .description('restore an image from the trash, with the tags it had')
    .argument('<image>', 'namespace/repository@sha256:<digest> (see wharf trash list)'),
  'wharf image restore team-a/app@sha256:4c3f...')
    .action(async (image: string) => {
      const api = ApiClient.fromStoredLogin(ctx);
      const restored = await api.post<{ name: string; digest: string; tags: string[]; namespaceCreated?: boolean }>('/trash/restore', { image: apiReference(api, image, 'digest') });
      writeLine(ctx.stdout, `Restored ${restored.name}@${restored.digest}${restored.tags.length ? ` with tags ${restored.tags.join(', ')}` : ' (untagged)'}.`);
      if (restored.namespaceCreated) writeLine(ctx.stdout, `Its namespace ${restored.name.split('/')[0]} had been removed: it is back, without the policies it had (wharf iam policy create).`);
    });
}
