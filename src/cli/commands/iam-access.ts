import { InvalidArgumentError, type Command } from 'commander';
import { ApiClient } from '../api-client.js';
import { examples, formatOption, type OutputFormat } from '../command-kit.js';
import { CliError, writeJson, writeLine, type CliContext } from '../context.js';
import { relativeTime, table } from '../format.js';
import { findGroup, listGroups, subjectLabel, subjectNames, subjectRef } from './iam-subjects.js';

interface Policy {
  id: number;
  subject: string;
  role: string;
  scope: 'account' | 'namespace' | 'repository';
  namespace: string | null;
  repository: string | null;
  created: string | null;
}

const ROLES = ['Reader', 'Writer', 'Manager'];

function roleArg(value: string): string {
  const role = ROLES.find((r) => r.toLowerCase() === value.toLowerCase());
  if (!role) throw new InvalidArgumentError(`the role is one of ${ROLES.join(', ')}.`);
  return role;
}

function scopeLabel(p: Policy): string {
  return p.namespace === null ? 'account' : p.repository === null ? `namespace ${p.namespace}` : `repository ${p.namespace}/${p.repository}`;
}

/** `wharf iam group|policy …`. */
export function registerAccessCommands(iam: Command, ctx: CliContext): void {
  const group = examples(iam.command('group').alias('groups').description('access groups: policies granted to a group apply to its members'),
    'wharf iam group create developers', 'wharf iam group add-member developers user:alice', 'wharf iam policy create group:developers --role Writer --namespace team-a');

  examples(group.command('list').alias('ls').description('list access groups and their members').addOption(formatOption()),
    'wharf iam group list')
    .action(async (opts: { format: OutputFormat }) => {
      const api = ApiClient.fromStoredLogin(ctx);
      const groups = await listGroups(api);
      if (opts.format === 'json') return writeJson(ctx.stdout, groups);
      const names = await subjectNames(api);
      ctx.stdout.write(table(['ID', 'Name', 'Members', 'Created'], groups.map((g) => [
        String(g.id), g.name, g.members.map((m) => subjectLabel(m, names)).join(', '), relativeTime(g.created, ctx.now()),
      ])));
    });

  examples(group.command('create').description('create an access group').argument('<name>', 'the name').addOption(formatOption()),
    'wharf iam group create developers')
    .action(async (name: string, opts: { format: OutputFormat }) => {
      const created = await ApiClient.fromStoredLogin(ctx).post<{ id: number; name: string }>('/iam/groups', { name });
      if (opts.format === 'json') return writeJson(ctx.stdout, created);
      writeLine(ctx.stdout, `Created access group ${created.name} (group:${created.id}). Add members with: wharf iam group add-member ${created.name} user:<name>`);
    });

  examples(group.command('rm').alias('remove').description('delete an access group and its policies').argument('<group>', 'group id or name'),
    'wharf iam group rm developers')
    .action(async (ref: string) => {
      const api = ApiClient.fromStoredLogin(ctx);
      const found = await findGroup(api, ref);
      await api.delete(`/iam/groups/${found.id}`);
      writeLine(ctx.stdout, `Deleted access group ${found.name}.`);
    });

  for (const [name, present] of [['add-member', true], ['rm-member', false]] as const) {
    examples(group.command(name)
      .description(present ? 'add users or service IDs to an access group' : 'remove users or service IDs from an access group')
      .argument('<group>', 'group id or name')
      .argument('<member...>', 'user:<id|name> or service:<id|name>'),
    `wharf iam group ${name} developers user:alice service:ci-pipeline`)
      .action(async (groupRef: string, members: string[]) => {
        const api = ApiClient.fromStoredLogin(ctx);
        const found = await findGroup(api, groupRef);
        for (const member of members) {
          const ref = await subjectRef(api, member, false);
          await api.request(present ? 'PUT' : 'DELETE', `/iam/groups/${found.id}/members/${encodeURIComponent(ref)}`);
          writeLine(ctx.stdout, `${present ? 'Added' : 'Removed'} ${member} ${present ? 'to' : 'from'} access group ${found.name}.`);
        }
      });
  }

  const policy = examples(iam.command('policy').alias('policies').description('access policies: a role (Reader, Writer, Manager) for a user, service ID or group on the account, a namespace or a repository'),
    'wharf iam policy create user:alice --role Writer --namespace team-a', 'wharf iam policy list');

  examples(policy.command('list').alias('ls').description('list the access policies of your account').addOption(formatOption()),
    'wharf iam policy list', 'wharf iam policy list --format json')
    .action(async (opts: { format: OutputFormat }) => {
      const api = ApiClient.fromStoredLogin(ctx);
      const { policies } = await api.get<{ policies: Policy[] }>('/iam/policies');
      if (opts.format === 'json') return writeJson(ctx.stdout, policies);
      const names = await subjectNames(api);
      ctx.stdout.write(table(['ID', 'Subject', 'Role', 'Scope', 'Created'], policies.map((p) => [
        String(p.id), subjectLabel(p.subject, names), p.role, scopeLabel(p), relativeTime(p.created, ctx.now()),
      ])));
    });

  examples(policy.command('create')
    .description('grant a role on a namespace, a repository, or (with --account) the whole account')
    .argument('<subject>', 'user:<id|name>, service:<id|name> or group:<id|name>')
    .requiredOption('--role <role>', 'Reader (pull), Writer (pull and push) or Manager (everything)', roleArg)
    .option('--namespace <namespace>', 'limit it to this namespace')
    .option('--repository <repository>', 'limit it to this repository of the namespace (a trailing * makes it a prefix)')
    .option('--account', 'grant it on the whole account: every namespace, present and future')
    .addOption(formatOption()),
  'wharf iam policy create user:alice --role Reader --namespace team-a',
  'wharf iam policy create service:ci-pipeline --role Writer --namespace team-a --repository app',
  'wharf iam policy create group:admins --role Manager --account')
    .action(async (subject: string, opts: { role: string; namespace?: string; repository?: string; account?: boolean; format: OutputFormat }) => {
      if (opts.repository !== undefined && opts.namespace === undefined) throw new CliError('--repository needs --namespace: a repository is named inside its namespace', 2);
      if (opts.account && opts.namespace !== undefined) throw new CliError('--account and --namespace contradict each other: give --account for the whole account, or --namespace to limit it', 2);
      // Deny by default: account-wide access is never what a forgotten option grants.
      if (!opts.account && opts.namespace === undefined) {
        throw new CliError(`without a scope this would make ${subject} ${opts.role} on the whole account (every namespace, present and future): add --account if that is meant, or --namespace <namespace> to limit it`, 2);
      }
      const api = ApiClient.fromStoredLogin(ctx);
      const created = await api.post<Policy>('/iam/policies', {
        subject: await subjectRef(api, subject, true), role: opts.role,
        ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}),
        ...(opts.repository !== undefined ? { repository: opts.repository } : {}),
      });
      if (opts.format === 'json') return writeJson(ctx.stdout, created);
      writeLine(ctx.stdout, `Created policy ${created.id}: ${subject} is ${created.role} on ${created.namespace === null ? 'the whole account' : scopeLabel(created)}.`);
    });

  examples(policy.command('rm').alias('remove').description('delete an access policy').argument('<id>', 'the policy id (see wharf iam policy list)'),
    'wharf iam policy rm 4')
    .action(async (id: string) => {
      if (!/^\d+$/.test(id)) throw new CliError(`"${id}" is not a policy id: see wharf iam policy list`, 2);
      await ApiClient.fromStoredLogin(ctx).delete(`/iam/policies/${id}`);
      writeLine(ctx.stdout, `Deleted policy ${id}.`);
    });
}
