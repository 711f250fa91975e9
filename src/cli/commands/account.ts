import type { Command } from 'commander';
import { ApiClient } from '../api-client.js';
import { examples, formatOption, type OutputFormat } from '../command-kit.js';
import { writeJson, writeLine, type CliContext } from '../context.js';
import { relativeTime, table } from '../format.js';
import { newPassword } from '../prompt.js';

interface Account {
  id: number;
  name: string;
  owners: string[];
  namespaces: number;
  created: string | null;
}

/** `wharf account create|list`: tenants, for the registry operator (the owner of the default account). */
export function registerAccountCommands(program: Command, ctx: CliContext): void {
  const group = examples(program.command('account')
    .alias('accounts')
    .summary('create and list accounts (registry operator)')
    .description('accounts are the tenants of the registry: each has its own namespaces, users and policies, and sees nothing of the others. Only the owner of the default account (the registry operator) creates and lists them'),
  'wharf account create team-b --owner bob',
  'wharf account list');

  examples(group.command('create')
    .description('create an account and its owner, a Manager of it who then manages it on their own')
    .argument('<name>', 'the account name (2 to 64 lowercase letters, digits, ".", "_" and "-")')
    .requiredOption('--owner <username>', 'the username of its owner')
    .option('--password-stdin', 'read the owner\'s password from standard input (otherwise it is asked for)')
    .addOption(formatOption()),
  'wharf account create team-b --owner bob',
  'printf %s "$PASSWORD" | wharf account create team-b --owner bob --password-stdin')
    .action(async (name: string, opts: { owner: string; passwordStdin?: boolean; format: OutputFormat }) => {
      const api = ApiClient.fromStoredLogin(ctx);
      const password = await newPassword(ctx, opts.passwordStdin);
      const created = await api.post<{ id: number; name: string; owner: { id: number; username: string }; created: string }>('/accounts', { name, owner: { username: opts.owner, password } });
      if (opts.format === 'json') return writeJson(ctx.stdout, created);
      writeLine(ctx.stdout, `Created account ${created.name} (#${created.id}) with owner ${created.owner.username}. They log in with: wharf login ${api.url} -u ${created.owner.username}`);
    });

  examples(group.command('list')
    .alias('ls')
    .description('list every account of the registry with its owners and namespace count')
    .addOption(formatOption()),
  'wharf account list',
  'wharf account list --format json')
    .action(async (opts: { format: OutputFormat }) => {
      const { accounts } = await ApiClient.fromStoredLogin(ctx).get<{ accounts: Account[] }>('/accounts');
      if (opts.format === 'json') return writeJson(ctx.stdout, accounts);
      ctx.stdout.write(table(['ID', 'Account', 'Owners', 'Namespaces', 'Created'], accounts.map((a) => [
        String(a.id), a.name, a.owners.join(', ') || '-', String(a.namespaces), relativeTime(a.created, ctx.now()),
      ])));
    });
}
