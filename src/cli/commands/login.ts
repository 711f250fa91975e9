import { readFileSync } from 'node:fs';
import os from 'node:os';
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { ApiClient, ApiError, registryUrl, requestToken } from '../api-client.js';
import { examples, formatOption, type OutputFormat } from '../command-kit.js';
import { readLogin, removeLogin, writeLogin } from '../config-file.js';
import { CliError, UsageError, writeJson, writeLine, type CliContext } from '../context.js';
import { promptSecret, readStdin } from '../prompt.js';

const DEFAULT_URL = 'http://localhost:5000';
const API_KEY_USERNAME = 'iamapikey';

interface Whoami {
  kind: 'user' | 'service';
  id: number;
  name: string;
  account: { id: number; name: string };
  owner: boolean;
  accountRole: string | null;
  viaApiKey: boolean;
}

/** `wharf login`, `wharf logout`, `wharf whoami`. */
export function registerLoginCommands(program: Command, ctx: CliContext): void {
  examples(program.command('login')
    .summary('log in to a registry')
    .description(`log in to a registry and store the login in ~/.wharf/config.json (default ${DEFAULT_URL}, or the registry of the last login)`)
    .argument('[registry-url]', 'the registry, e.g. http://localhost:5000 or registry.example.com')
    .option('-u, --username <username>', 'the user to log in as (asked for when omitted on a terminal)')
    .option('--password-stdin', 'read the password from standard input')
    .option('--apikey <key>', 'log in with an API key instead of a password ("@file" reads it from a file, "-" from standard input)'),
  'wharf login http://localhost:5000 -u alice',
  'echo "$REGISTRY_PASSWORD" | wharf login https://registry.example.com -u alice --password-stdin',
  'wharf login https://registry.example.com --apikey @~/wharf-apikey.txt',
  'wharf login --apikey "$API_KEY"')
    .action(async (url: string | undefined, opts: { username?: string; passwordStdin?: boolean; apikey?: string }) => {
      const base = registryUrl(url ?? readLogin(ctx.configPath)?.url ?? DEFAULT_URL);
      let username: string;
      let secret: string;
      if (opts.apikey !== undefined) {
        if (opts.passwordStdin) throw new UsageError('--apikey and --password-stdin do not go together: "--apikey -" reads the key from standard input');
        username = opts.username ?? API_KEY_USERNAME;
        secret = opts.apikey === '-' ? await readStdin(ctx, 'the API key')
          : opts.apikey.startsWith('@') ? readKeyFile(opts.apikey.slice(1)) : opts.apikey;
      } else {
        username = opts.username ?? await askUsername(ctx);
        secret = opts.passwordStdin ? await readStdin(ctx, 'the password') : await promptSecret(ctx, 'Password: ', '--password-stdin (or log in with --apikey)');
      }
      let tokens;
      try {
        tokens = await requestToken(base, { grant_type: 'password', username, password: secret, access_type: 'offline' }, ctx.now());
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) {
          throw new CliError(`login to ${base} failed: ${err.message}${opts.apikey !== undefined ? ' (create a new key with wharf iam apikey create)' : ''}`);
        }
        throw err;
      }
      if (!tokens.refreshToken) throw new CliError(`${base} did not issue a refresh token: it may run an older Wharf`);
      writeLogin(ctx.configPath, { url: base, username, ...tokens });
      const me = await ApiClient.fromStoredLogin(ctx).get<Whoami>('/whoami').catch(() => undefined);
      writeLine(ctx.stdout, me
        ? `Logged in to ${base} as ${me.kind === 'service' ? 'service ID ' : ''}${me.name} (account ${me.account.name})${me.viaApiKey ? ' with an API key' : ''}.`
        : `Logged in to ${base} as ${username}.`);
    });

  examples(program.command('logout')
    .summary('forget the stored login')
    .description('forget the stored login (removes ~/.wharf/config.json)'),
  'wharf logout')
    .action(() => {
      const login = readLogin(ctx.configPath);
      removeLogin(ctx.configPath);
      writeLine(ctx.stdout, login ? `Logged out of ${login.url}.` : 'Not logged in.');
    });

  examples(program.command('whoami')
    .summary('show who you are logged in as')
    .description('show who you are logged in as, in which account, with which role')
    .addOption(formatOption()),
  'wharf whoami',
  'wharf whoami --format json')
    .action(async (opts: { format: OutputFormat }) => {
      const api = ApiClient.fromStoredLogin(ctx);
      const me = await api.get<Whoami>('/whoami');
      if (opts.format === 'json') return writeJson(ctx.stdout, { registry: api.url, ...me });
      writeLine(ctx.stdout, `Registry   ${api.url}`);
      writeLine(ctx.stdout, `${me.kind === 'service' ? 'Service ID' : 'User      '} ${me.name} (${me.kind}:${me.id})${me.owner ? ', account owner' : ''}`);
      writeLine(ctx.stdout, `Account    ${me.account.name} (#${me.account.id})`);
      writeLine(ctx.stdout, `Role       ${me.accountRole ?? 'none on the account (namespace policies only)'}`);
      writeLine(ctx.stdout, `Login      ${me.viaApiKey ? 'API key' : 'password'}`);
    });
}

function readKeyFile(file: string): string {
  const resolved = file.startsWith('~/') ? `${os.homedir()}${file.slice(1)}` : file;
  try {
    return readFileSync(resolved, 'utf8').trim();
  } catch (err) {
    throw new CliError(`cannot read the API key from ${file}: ${(err as Error).message}`);
  }
}

async function askUsername(ctx: CliContext): Promise<string> {
  if (!ctx.stdin.isTTY) throw new UsageError('no terminal to ask for the username: give it with -u <username> (or log in with --apikey)');
  const rl = createInterface({ input: ctx.stdin, output: ctx.stderr });
  try {
    const answer = (await rl.question('Username: ')).trim();
    if (!answer) throw new UsageError('a username is needed: give it with -u <username>');
    return answer;
  } finally {
    rl.close();
  }
}
