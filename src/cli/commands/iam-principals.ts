import type { Command } from 'commander';
import { ApiClient, requestToken } from '../api-client.js';
import { writeLogin } from '../config-file.js';
import { examples, formatOption, type OutputFormat } from '../command-kit.js';
import { CliError, UsageError, writeJson, writeLine, type CliContext } from '../context.js';
import { relativeTime, table } from '../format.js';
import { newPassword, promptSecret, readStdin } from '../prompt.js';
import { findServiceId, findUser, listServiceIds, listUsers, subjectLabel, subjectNames } from './iam-subjects.js';

interface ApiKey {
  id: number;
  prefix: string;
  owner: string;
  description: string;
  created: string | null;
  lastUsed: string | null;
  revoked: string | null;
}

/** `wharf iam user|serviceid|apikey …`. */
export function registerPrincipalCommands(iam: Command, ctx: CliContext): void {
  const user = examples(iam.command('user').alias('users').description('users of your account (they log in with a password or their API keys)'),
    'wharf iam user create alice', 'wharf iam user list');

  examples(user.command('list').alias('ls').description('list the users of your account').addOption(formatOption()),
    'wharf iam user list', 'wharf iam user list --format json')
    .action(async (opts: { format: OutputFormat }) => {
      const users = await listUsers(ApiClient.fromStoredLogin(ctx));
      if (opts.format === 'json') return writeJson(ctx.stdout, users);
      ctx.stdout.write(table(['ID', 'Username', 'Owner', 'Created'], users.map((u) => [String(u.id), u.username, u.owner ? 'yes' : '', relativeTime(u.created, ctx.now())])));
    });

  examples(user.command('create').description('create a user (no access until a policy grants some: wharf iam policy create)')
    .argument('<username>', '3 to 64 lowercase letters, digits, ".", "_" and "-"')
    .option('--password-stdin', 'read the password from standard input (otherwise it is asked for)')
    .addOption(formatOption()),
  'wharf iam user create alice',
  'printf %s "$PASSWORD" | wharf iam user create alice --password-stdin')
    .action(async (username: string, opts: { passwordStdin?: boolean; format: OutputFormat }) => {
      const api = ApiClient.fromStoredLogin(ctx);
      const created = await api.post<{ id: number; username: string }>('/iam/users', { username, password: await newPassword(ctx, opts.passwordStdin) });
      if (opts.format === 'json') return writeJson(ctx.stdout, created);
      writeLine(ctx.stdout, `Created user ${created.username} (user:${created.id}). Grant access with: wharf iam policy create user:${created.username} --role Reader --namespace <namespace>`);
    });

  examples(user.command('passwd').description('set a user\'s password: your own (give the current one too), or any user\'s as a Manager')
    .argument('<user>', 'user id or username ("me": yourself)')
    .option('--password-stdin', 'read the new password from standard input; for your own, the current password on the first line and the new one on the second'),
  'wharf iam user passwd alice',
  'printf "%s\\n%s\\n" "$CURRENT" "$NEW" | wharf iam user passwd me --password-stdin')
    .action(async (ref: string, opts: { passwordStdin?: boolean }) => {
      const api = ApiClient.fromStoredLogin(ctx);
      const me = await api.get<{ kind: string; id: number; name: string; viaApiKey: boolean }>('/whoami');
      // Yourself is found without listing users (which needs the Manager role).
      const named = ref === 'me' || (me.kind === 'user' && ref === me.name);
      const id = /^\d+$/.test(ref) ? Number(ref) : named ? me.id : (await findUser(api, ref)).id;
      const self = me.kind === 'user' && me.id === id;
      if (!self) {
        await api.put(`/iam/users/${id}/password`, { password: await newPassword(ctx, opts.passwordStdin) });
        return writeLine(ctx.stdout, `Password of ${ref} changed; its refresh tokens and sessions are ended (it logs in again where it was logged in).`);
      }
      // A stolen login must not take the account over: your own password changes with the current one, from a password login.
      if (me.viaApiKey) throw new CliError(`changing your password needs a password login, not an API key: run wharf login ${api.url} -u ${me.name}, then this command again`);
      let currentPassword: string;
      let password: string;
      if (opts.passwordStdin) {
        const lines = (await readStdin(ctx, 'the current and the new password')).split(/\r?\n/);
        if (lines.length !== 2 || !lines[0] || !lines[1]) throw new UsageError('for your own password, standard input holds the current password on the first line and the new one on the second');
        [currentPassword, password] = lines as [string, string];
      } else {
        currentPassword = await promptSecret(ctx, 'Current password: ', '--password-stdin');
        password = await newPassword(ctx, false);
      }
      await api.put(`/iam/users/${id}/password`, { password, currentPassword });
      // The change ended every login of the user, this one too: log in again with the new password.
      const tokens = await requestToken(api.url, { grant_type: 'password', username: me.name, password, access_type: 'offline' }, ctx.now());
      writeLogin(ctx.configPath, { url: api.url, username: me.name, ...tokens });
      writeLine(ctx.stdout, 'Your password is changed. Your other logins (refresh tokens, registry tokens) are ended; this one is renewed.');
    });

  examples(user.command('rm').alias('remove').description('delete a user, its API keys and policies').argument('<user>', 'user id or username'),
    'wharf iam user rm alice')
    .action(async (ref: string) => {
      const api = ApiClient.fromStoredLogin(ctx);
      const found = await findUser(api, ref);
      await api.delete(`/iam/users/${found.id}`);
      writeLine(ctx.stdout, `Deleted user ${found.username} (user:${found.id}).`);
    });

  const service = examples(iam.command('serviceid').alias('service-id').description('service IDs: identities for automation, which log in with API keys'),
    'wharf iam serviceid create ci-pipeline', 'wharf iam apikey create --serviceid ci-pipeline');

  examples(service.command('list').alias('ls').description('list the service IDs of your account').addOption(formatOption()),
    'wharf iam serviceid list')
    .action(async (opts: { format: OutputFormat }) => {
      const services = await listServiceIds(ApiClient.fromStoredLogin(ctx));
      if (opts.format === 'json') return writeJson(ctx.stdout, services);
      ctx.stdout.write(table(['ID', 'Name', 'Description', 'Created'], services.map((s) => [String(s.id), s.name, s.description, relativeTime(s.created, ctx.now())])));
    });

  examples(service.command('create').description('create a service ID')
    .argument('<name>', 'the name')
    .option('-d, --description <text>', 'what it is for')
    .addOption(formatOption()),
  'wharf iam serviceid create ci-pipeline -d "pushes from CI"')
    .action(async (name: string, opts: { description?: string; format: OutputFormat }) => {
      const created = await ApiClient.fromStoredLogin(ctx).post<{ id: number; name: string }>('/iam/service-ids', { name, ...(opts.description ? { description: opts.description } : {}) });
      if (opts.format === 'json') return writeJson(ctx.stdout, created);
      writeLine(ctx.stdout, `Created service ID ${created.name} (service:${created.id}). Give it a key with: wharf iam apikey create --serviceid ${created.name}`);
    });

  examples(service.command('rm').alias('remove').description('delete a service ID, its API keys and policies').argument('<serviceid>', 'service ID id or name'),
    'wharf iam serviceid rm ci-pipeline')
    .action(async (ref: string) => {
      const api = ApiClient.fromStoredLogin(ctx);
      const found = await findServiceId(api, ref);
      await api.delete(`/iam/service-ids/${found.id}`);
      writeLine(ctx.stdout, `Deleted service ID ${found.name} (service:${found.id}).`);
    });

  const apikey = examples(iam.command('apikey').alias('api-key').description('API keys: passwords for automation, shown once at creation'),
    'wharf iam apikey create -d "laptop"', 'wharf iam apikey list');

  examples(apikey.command('list').alias('ls').description('list API keys (yours; every key of the account for a Manager)').addOption(formatOption()),
    'wharf iam apikey list')
    .action(async (opts: { format: OutputFormat }) => {
      const api = ApiClient.fromStoredLogin(ctx);
      const { apiKeys } = await api.get<{ apiKeys: ApiKey[] }>('/iam/api-keys');
      if (opts.format === 'json') return writeJson(ctx.stdout, apiKeys);
      const names = await subjectNames(api);
      ctx.stdout.write(table(['ID', 'Prefix', 'Owner', 'Description', 'Created', 'Last used', 'Status'], apiKeys.map((k) => [
        String(k.id), k.prefix, subjectLabel(k.owner, names), k.description, relativeTime(k.created, ctx.now()),
        k.lastUsed ? relativeTime(k.lastUsed, ctx.now()) : 'never', k.revoked ? 'revoked' : 'active',
      ])));
    });

  examples(apikey.command('create').description('create an API key for yourself, or (as a Manager) for a service ID; the key is shown only once')
    .option('-d, --description <text>', 'what it is for')
    .option('--serviceid <serviceid>', 'create it for this service ID (id or name)')
    .option('-q, --quiet', 'print the key only')
    .addOption(formatOption()),
  'wharf iam apikey create -d laptop',
  'wharf iam apikey create --serviceid ci-pipeline -q > ci.key',
  'wharf login http://localhost:5000 --apikey @ci.key')
    .action(async (opts: { description?: string; serviceid?: string; quiet?: boolean; format: OutputFormat }) => {
      const api = ApiClient.fromStoredLogin(ctx);
      const serviceId = opts.serviceid === undefined ? undefined : /^\d+$/.test(opts.serviceid) ? Number(opts.serviceid) : (await findServiceId(api, opts.serviceid)).id;
      const created = await api.post<ApiKey & { apiKey: string }>('/iam/api-keys', { description: opts.description ?? '', ...(serviceId !== undefined ? { serviceId } : {}) });
      if (opts.format === 'json') return writeJson(ctx.stdout, created);
      if (opts.quiet) return writeLine(ctx.stdout, created.apiKey);
      writeLine(ctx.stdout, `Created API key ${created.id} (${created.prefix}) for ${created.owner}. Save it now: it is not shown again.`);
      writeLine(ctx.stdout);
      writeLine(ctx.stdout, `  ${created.apiKey}`);
      writeLine(ctx.stdout);
      writeLine(ctx.stdout, `Log in with it: wharf login ${api.url} --apikey <key>, or docker login ${api.host} -u iamapikey`);
    });

  examples(apikey.command('rm').alias('revoke').description('revoke an API key').argument('<id>', 'the key\'s id (see wharf iam apikey list)'),
    'wharf iam apikey rm 3')
    .action(async (id: string) => {
      if (!/^\d+$/.test(id)) throw new CliError(`"${id}" is not an API key id: see wharf iam apikey list`, 2);
      await ApiClient.fromStoredLogin(ctx).delete(`/iam/api-keys/${id}`);
      writeLine(ctx.stdout, `Revoked API key ${id}.`);
    });
}
