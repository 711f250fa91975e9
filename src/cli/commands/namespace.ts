import { Option, type Command } from 'commander';
import { ApiClient } from '../api-client.js';
import { examples, formatOption, type OutputFormat } from '../command-kit.js';
import { writeJson, writeLine, type CliContext } from '../context.js';
import { humanSize, relativeTime, table } from '../format.js';

interface Namespace {
  name: string;
  publicPull: boolean;
  created: string | null;
  imageCount: number;
  storageUsed?: number;
}

/** `wharf namespace add|list|rm|update`. */
export function registerNamespaceCommands(program: Command, ctx: CliContext): void {
  const group = examples(program.command('namespace')
    .alias('ns')
    .summary('add, list and remove namespaces')
    .description('manage the namespaces of your account (the first component of every repository name)'),
  'wharf namespace add team-a',
  'wharf namespace list',
  'wharf namespace rm team-a --force');

  examples(group.command('add')
    .description('add a namespace to your account (4 to 30 lowercase letters, digits, "-" and "_"; unique in the registry)')
    .argument('<name>', 'the namespace name'),
  'wharf namespace add team-a')
    .action(async (name: string) => {
      const api = ApiClient.fromStoredLogin(ctx);
      await api.post('/namespaces', { name });
      writeLine(ctx.stdout, `Added namespace ${name}. Push to it as ${api.host}/${name}/<repository>:<tag>.`);
    });

  examples(group.command('list')
    .alias('ls')
    .description('list the namespaces you can see, with their image count')
    .addOption(formatOption())
    .option('-q, --quiet', 'print the names only'),
  'wharf namespace list',
  'wharf namespace list --format json')
    .action(async (opts: { format: OutputFormat; quiet?: boolean }) => {
      const { namespaces } = await ApiClient.fromStoredLogin(ctx).get<{ namespaces: Namespace[] }>('/namespaces');
      if (opts.format === 'json') return writeJson(ctx.stdout, namespaces);
      if (opts.quiet) return namespaces.forEach((n) => writeLine(ctx.stdout, n.name));
      if (namespaces.length === 0) return writeLine(ctx.stdout, 'No namespaces yet: add one with wharf namespace add <name>.');
      const storage = namespaces.some((n) => typeof n.storageUsed === 'number');
      ctx.stdout.write(table(
        ['Namespace', 'Images', ...(storage ? ['Storage'] : []), 'Public pull', 'Created'],
        namespaces.map((n) => [n.name, String(n.imageCount), ...(storage ? [humanSize(n.storageUsed ?? 0)] : []), n.publicPull ? 'yes' : 'no', relativeTime(n.created, ctx.now())]),
      ));
    });

  examples(group.command('rm')
    .alias('remove')
    .description('remove a namespace; refused while it holds images unless --force, which moves them to the trash')
    .argument('<name>', 'the namespace name')
    .option('-f, --force', 'remove it even though it holds images (they go to the trash)'),
  'wharf namespace rm team-a',
  'wharf namespace rm team-a --force')
    .action(async (name: string, opts: { force?: boolean }) => {
      await ApiClient.fromStoredLogin(ctx).delete(`/namespaces/${encodeURIComponent(name)}`, { force: opts.force === true });
      writeLine(ctx.stdout, `Removed namespace ${name}.`);
    });

  examples(group.command('update')
    .description('change a namespace\'s settings')
    .argument('<name>', 'the namespace name')
    .addOption(new Option('--public-pull <on|off>', 'let anyone pull its images without logging in').choices(['on', 'off']).makeOptionMandatory()),
  'wharf namespace update team-a --public-pull on')
    .action(async (name: string, opts: { publicPull: 'on' | 'off' }) => {
      const result = await ApiClient.fromStoredLogin(ctx).patch<{ name: string; publicPull: boolean }>(`/namespaces/${encodeURIComponent(name)}`, { publicPull: opts.publicPull === 'on' });
      writeLine(ctx.stdout, `Namespace ${result.name}: public pull ${result.publicPull ? 'on (anyone can pull)' : 'off'}.`);
    });
}
