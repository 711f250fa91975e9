import type { Command } from 'commander';
import { ApiClient } from '../api-client.js';
import { examples, formatOption, type OutputFormat } from '../command-kit.js';
import { UsageError, writeJson, writeLine, type CliContext } from '../context.js';
import { table } from '../format.js';

interface ImmutableTagRule {
  repository: string;
  tags: string;
}

interface Immutability {
  namespace: string;
  rules: ImmutableTagRule[];
}

function immutabilityPath(ns: string): string {
  return `/namespaces/${encodeURIComponent(ns)}/immutability`;
}

/** `TAGS` (every repository) or `REPOSITORY:TAGS`; a colon is in neither glob, so it separates them. */
function parseRule(text: string): ImmutableTagRule {
  const parts = text.split(':');
  if (parts.length > 2 || parts.some((p) => p.length === 0)) {
    throw new UsageError(`"${text}" is not a rule: give TAGS (such as 'v*') or REPOSITORY:TAGS (such as 'app*:release-*')`);
  }
  return parts.length === 1 ? { repository: '**', tags: parts[0]! } : { repository: parts[0]!, tags: parts[1]! };
}

function printRules(ctx: CliContext, view: Immutability, format: OutputFormat): void {
  if (format === 'json') return writeJson(ctx.stdout, view);
  if (view.rules.length === 0) return writeLine(ctx.stdout, `No immutable tags in ${view.namespace}: every tag can be moved and deleted.`);
  writeLine(ctx.stdout, `Tags of ${view.namespace} that cannot be moved or deleted once they exist:`);
  ctx.stdout.write(table(['Repository', 'Tags'], view.rules.map((r) => [r.repository, r.tags])));
}

/** `wharf immutability get|set|clear`. */
export function registerImmutabilityCommands(program: Command, ctx: CliContext): void {
  const group = examples(program.command('immutability')
    .summary('make tags immutable: never moved nor deleted once pushed')
    .description('per-namespace rules of tag patterns; a tag matching a rule, once it exists, cannot point at another image nor be deleted, and its image is not deleted nor removed by retention'),
  'wharf immutability set team-a \'v*\' \'app*:release-*\'',
  'wharf immutability get team-a',
  'wharf immutability clear team-a');

  examples(group.command('get')
    .description('show a namespace\'s immutability rules')
    .argument('<namespace>', 'the namespace')
    .addOption(formatOption()),
  'wharf immutability get team-a')
    .action(async (ns: string, opts: { format: OutputFormat }) => {
      printRules(ctx, await ApiClient.fromStoredLogin(ctx).get<Immutability>(immutabilityPath(ns)), opts.format);
    });

  examples(group.command('set')
    .description('replace a namespace\'s immutability rules (Manager role); each rule is TAGS or REPOSITORY:TAGS, with the globs * (not across /), ** (anything), ? and {a,b}')
    .argument('<namespace>', 'the namespace')
    .argument('<rule...>', 'TAGS or REPOSITORY:TAGS (quote them from the shell)')
    .addOption(formatOption()),
  'wharf immutability set team-a \'v*\'',
  'wharf immutability set team-a \'release-*\' \'frozen/**:*\'')
    .action(async (ns: string, rules: string[], opts: { format: OutputFormat }) => {
      printRules(ctx, await ApiClient.fromStoredLogin(ctx).put<Immutability>(immutabilityPath(ns), { rules: rules.map(parseRule) }), opts.format);
    });

  examples(group.command('clear')
    .description('remove every immutability rule of a namespace (Manager role)')
    .argument('<namespace>', 'the namespace')
    .addOption(formatOption()),
  'wharf immutability clear team-a')
    .action(async (ns: string, opts: { format: OutputFormat }) => {
      printRules(ctx, await ApiClient.fromStoredLogin(ctx).put<Immutability>(immutabilityPath(ns), { rules: [] }), opts.format);
    });
}
