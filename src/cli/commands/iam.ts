import type { Command } from 'commander';
import { examples } from '../command-kit.js';
import type { CliContext } from '../context.js';
import { registerAccessCommands } from './iam-access.js';
import { registerPrincipalCommands } from './iam-principals.js';

/** `wharf iam …`: users, service IDs, API keys, access groups, policies. */
export function registerIamCommands(program: Command, ctx: CliContext): void {
  const iam = examples(program.command('iam')
    .summary('users, service IDs, API keys, access groups, policies')
    .description('identity and access: users, service IDs, API keys, access groups and policies'),
  'wharf iam user create alice',
  'wharf iam policy create user:alice --role Writer --namespace team-a',
  'wharf iam apikey create -d laptop');
  registerPrincipalCommands(iam, ctx);
  registerAccessCommands(iam, ctx);
}
