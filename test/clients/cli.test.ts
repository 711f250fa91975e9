import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from '../support/server.js';
import { describeRun, ensureBuilt, freePort, runCommand, WHARF_BIN, type CommandResult } from '../support/process.js';
import { OciLayout, multiLayerImage, singleLayerImage, type BuiltImage } from '../support/oci-layout.js';
import { humanSize } from '../../src/cli/format.js';

/**
 * The real `wharf` binary (bin/wharf.js, compiled dist/) run as a subprocess against a real server,
 * as a user would: log in, add a namespace, push with skopeo, list, tag, remove, restore, hit a
 * quota, run retention. Table output is checked line by line, JSON output parsed.
 */

const skopeoVersion = await runCommand('skopeo', ['--version']).then((r) => (r.code === 0 ? r.stdout.trim() : undefined), () => undefined);

const NS = 'team-cli';
const hasScript = await runCommand('script', ['--version']).then((r) => r.code === 0, () => false);

interface ImageRow {
  repository: string; name: string; namespace: string; tag: string | null; digest: string; mediaType: string;
  created: string; size: number; securityStatus: string; lastPulled: string | null; pullCount: number;
}

/** The cells of a table line: columns are separated by three or more spaces. */
function cells(line: string): string[] {
  return line.split(/ {3,}/);
}

/** Each column starts at the same offset in every line, and no line has trailing spaces. */
function assertAligned(lines: string[]): void {
  const starts = (line: string) => [...line.matchAll(/(?:^| {3,})(\S)/g)].map((m) => m.index! + m[0].length - 1);
  const header = starts(lines[0]!);
  for (const line of lines) {
    assert.equal(line, line.trimEnd(), `no trailing spaces: ${JSON.stringify(line)}`);
    assert.deepEqual(starts(line).slice(0, header.length), header.slice(0, starts(line).length), `columns aligned with the header:\n${lines.join('\n')}`);
  }
}

function tableLines(stdout: string): string[] {
  return stdout.split('\n').filter((l) => l.length > 0);
}

describe('wharf CLI against a real server', { skip: skopeoVersion ? false : 'skopeo is not installed (Debian package "skopeo")' }, () => {
  let server: TestServer;
  let host: string;
  let work: string;
  let configDir: string;
  let configPath: string;
  let layout: OciLayout;
  let single: BuiltImage;
  let big: BuiltImage;
  let newer: BuiltImage;

  /**
   * Runs `wharf <args>` with the test's config file, optionally feeding standard input, adding
   * variables, or closing its stdout at once (as `| head` does once it has read enough).
   */
  function wharf(args: string[], input?: string, options: { env?: Record<string, string>; closeStdout?: boolean } = {}): Promise<CommandResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [WHARF_BIN, ...args], {
        env: { PATH: process.env.PATH ?? '', HOME: work, WHARF_CLI_CONFIG: configPath, ...options.env },
        stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      });
      if (options.closeStdout) child.stdout!.destroy();
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
      child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('error', reject);
      child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
      if (input !== undefined) child.stdin!.end(input);
    });
  }

  async function ok(args: string[], input?: string, options: { env?: Record<string, string> } = {}): Promise<CommandResult> {
    const result = await wharf(args, input, options);
    assert.equal(result.code, 0, describeRun('wharf', args, result));
    assert.equal(result.stderr, '', `no warnings on stderr: ${describeRun('wharf', args, result)}`);
    return result;
  }

  async function fails(args: string[], code: number, message: RegExp, input?: string, options: { env?: Record<string, string> } = {}): Promise<CommandResult> {
    const result = await wharf(args, input, options);
    assert.equal(result.code, code, describeRun('wharf', args, result));
    assert.match(result.stderr, message, describeRun('wharf', args, result));
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    return result;
  }

  /** Runs `wharf <args>` on a pseudo-terminal (util-linux `script`), typing each reply when its prompt shows. */
  async function onTerminal(args: string[], replies: Array<[prompt: string, reply: string]>): Promise<{ code: number | null; out: string }> {
    const command = [process.execPath, WHARF_BIN, ...args].map((a) => JSON.stringify(a)).join(' ');
    const child = spawn('script', ['-qec', command, '/dev/null'], { env: { PATH: process.env.PATH ?? '', HOME: work, WHARF_CLI_CONFIG: configPath }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let next = 0;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      while (next < replies.length && out.includes(replies[next]![0])) child.stdin.write(`${replies[next++]![1]}\r`);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(timer);
    return { code, out };
  }

  async function push(image: BuiltImage, tag: string, repo = 'app'): Promise<CommandResult> {
    const args = ['copy', '--dest-tls-verify=false', '--dest-creds', `admin:${TEST_ADMIN_PASSWORD}`, `oci:${layout.dir}:${image.tag}`, `docker://${host}/${NS}/${repo}:${tag}`];
    return runCommand('skopeo', args, { timeoutMs: 60_000 });
  }

  async function listJson(...extra: string[]): Promise<ImageRow[]> {
    return JSON.parse((await ok(['image', 'list', '--format', 'json', ...extra])).stdout) as ImageRow[];
  }

  before(async () => {
    await ensureBuilt();
    server = await startTestServer('sqlite', { auth: { enabled: true } });
    host = new URL(server.url).host;
    work = mkdtempSync(path.join(os.tmpdir(), 'wharf-cli-'));
    configDir = path.join(work, 'dot-wharf');
    configPath = path.join(configDir, 'config.json');
    layout = new OciLayout(path.join(work, 'layout'));
    single = singleLayerImage(layout, 'single');
    newer = singleLayerImage(layout, 'newer');
    big = multiLayerImage(layout, 'big', 3);
  });

  after(async () => {
    await server?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('shows examples in the --help of every command', async () => {
    const commands = [
      [], ['login'], ['logout'], ['whoami'], ['serve'],
      ['namespace'], ['namespace', 'add'], ['namespace', 'list'], ['namespace', 'rm'], ['namespace', 'update'],
      ['image'], ['image', 'list'], ['image', 'inspect'], ['image', 'tag'], ['image', 'rm'], ['image', 'digests'], ['image', 'restore'],
      ['trash'], ['trash', 'list'], ['quota'], ['quota', 'get'], ['quota', 'set'],
      ['retention'], ['retention', 'get'], ['retention', 'list'], ['retention', 'set'], ['retention', 'run'], ['prune-untagged'],
      ['account'], ['account', 'create'], ['account', 'list'],
      ['iam'], ['iam', 'user'], ['iam', 'user', 'list'], ['iam', 'user', 'create'], ['iam', 'user', 'rm'], ['iam', 'user', 'passwd'],
      ['iam', 'serviceid'], ['iam', 'serviceid', 'list'], ['iam', 'serviceid', 'create'], ['iam', 'serviceid', 'rm'],
      ['iam', 'apikey'], ['iam', 'apikey', 'list'], ['iam', 'apikey', 'create'], ['iam', 'apikey', 'rm'],
      ['iam', 'group'], ['iam', 'group', 'list'], ['iam', 'group', 'create'], ['iam', 'group', 'rm'], ['iam', 'group', 'add-member'], ['iam', 'group', 'rm-member'],
      ['iam', 'policy'], ['iam', 'policy', 'list'], ['iam', 'policy', 'create'], ['iam', 'policy', 'rm'],
    ];
    for (let i = 0; i < commands.length; i += 8) {
      await Promise.all(commands.slice(i, i + 8).map(async (command) => {
        const { stdout } = await ok([...command, '--help']);
        assert.match(stdout, new RegExp(`^Usage: wharf ${command.join(' ')}`, 'm'), `help of wharf ${command.join(' ')}`);
        assert.match(stdout, /\nExamples:\n {2}wharf /, `examples in the help of wharf ${command.join(' ')}`);
      }));
    }
  });

  it('exits 2 on bad usage, pointing at --help', async () => {
    await fails([], 2, /Usage: wharf/);
    await fails(['no-such-command'], 2, /unknown command 'no-such-command'/);
    await fails(['image', 'list', '--format', 'xml'], 2, /argument 'xml' is invalid.*choices/s);
    await fails(['namespace', 'add'], 2, /missing required argument 'name'[\s\S]*wharf namespace add --help/);
    await fails(['image', 'lst'], 2, /Did you mean one of list, ls\?/);
    await fails(['quota', 'set', '--storage', '500'], 2, /"500" has no unit: write e\.g\. 500MB/);
    await fails(['iam', 'policy', 'create', 'user:1', '--role', 'Owner'], 2, /the role is one of Reader, Writer, Manager/);
  });

  it('runs the operator\'s vulndb commands in a shell that set WHARF_CLI_CONFIG', async () => {
    // wharf() always sets WHARF_CLI_CONFIG, as a CLI user's shell does.
    const { stdout } = await ok(['vulndb', 'status'], undefined, { env: { WHARF_STORAGE_DATA_DIR: path.join(work, 'vulndb-data') } });
    assert.match(stdout, /^Advisories: 0\nData date: {2}none loaded\n/);
  });

  it('tells a user who is not logged in to run wharf login', async () => {
    for (const args of [['image', 'list'], ['whoami'], ['namespace', 'list'], ['quota', 'get']]) {
      const result = await fails(args, 1, /^wharf: not logged in: run wharf login <registry-url>/);
      assert.equal(result.stdout, '');
    }
  });

  it('refuses a wrong password, and asks for --password-stdin when there is no terminal', async () => {
    await fails(['login', server.url, '-u', 'admin', '--password-stdin'], 1, /login to http:\/\/127\.0\.0\.1:\d+ failed: invalid username, password or API key/, 'wrong-password-123\n');
    await fails(['login', server.url, '-u', 'admin'], 2, /no terminal to ask for the password: pass it on standard input with --password-stdin/);
    await fails(['login', server.url], 2, /give it with -u <username>/);
    const closed = await freePort();
    await fails(['login', `http://127.0.0.1:${closed}`, '-u', 'admin', '--password-stdin'], 1, new RegExp(`cannot reach the registry at http://127\\.0\\.0\\.1:${closed} \\(connection refused\\): check that it is running`), 'x\n');
    assert.equal(existsSync(configPath), false, 'a failed login stores nothing');
  });

  it('logs in with a password and stores the login in a 0600 file in a 0700 directory', async () => {
    const { stdout } = await ok(['login', server.url, '-u', 'admin', '--password-stdin'], `${TEST_ADMIN_PASSWORD}\n`);
    assert.match(stdout, new RegExp(`^Logged in to ${server.url.replace(/[.]/g, '\\.')} as admin \\(account [^)]+\\)\\.\\n$`));
    assert.equal(statSync(configPath).mode & 0o777, 0o600);
    assert.equal(statSync(configDir).mode & 0o777, 0o700);
    const stored = JSON.parse(readFileSync(configPath, 'utf8')) as { login: Record<string, string> };
    assert.equal(stored.login.url, server.url);
    assert.equal(stored.login.username, 'admin');
    assert.match(stored.login.refreshToken!, /^wrt_/);
    assert.ok(stored.login.accessToken!.split('.').length === 3, 'the access token is a JWT');
    assert.doesNotMatch(readFileSync(configPath, 'utf8'), new RegExp(TEST_ADMIN_PASSWORD), 'the password is not stored');
  });

  it('asks for the username and password on a terminal, without echoing the password', { skip: hasScript ? false : 'script (util-linux) is not installed' }, async () => {
    // `script` gives the command a pseudo-terminal; answer each prompt when it appears.
    const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(WHARF_BIN)} login ${server.url}`;
    const child = spawn('script', ['-qec', command, '/dev/null'], { env: { PATH: process.env.PATH ?? '', HOME: work, WHARF_CLI_CONFIG: configPath }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    const answered = new Set<string>();
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Username: ') && !answered.has('user')) { answered.add('user'); child.stdin.write('admin\r'); }
      if (out.includes('Password: ') && !answered.has('password')) { answered.add('password'); child.stdin.write(`${TEST_ADMIN_PASSWORD}\r`); }
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(timer);
    assert.equal(code, 0, out);
    assert.match(out, /Logged in to .* as admin/);
    assert.ok(!out.includes(TEST_ADMIN_PASSWORD), `the password is not echoed: ${JSON.stringify(out)}`);
    assert.equal(statSync(configPath).mode & 0o777, 0o600);
  });

  it('whoami prints who is logged in, as lines and as JSON', async () => {
    const lines = tableLines((await ok(['whoami'])).stdout);
    assert.deepEqual(lines.map((l) => l.split(/\s+/)[0]), ['Registry', 'User', 'Account', 'Role', 'Login']);
    assert.equal(lines[0], `Registry   ${server.url}`);
    assert.match(lines[1]!, /^User {7}admin \(user:\d+\), account owner$/);
    assert.equal(lines[3], 'Role       manager');
    assert.equal(lines[4], 'Login      password');
    const me = JSON.parse((await ok(['whoami', '--format', 'json'])).stdout) as { registry: string; kind: string; name: string; viaApiKey: boolean };
    assert.deepEqual([me.registry, me.kind, me.name, me.viaApiKey], [server.url, 'user', 'admin', false]);
  });

  it('ends quietly with status 0 when the reader of its output goes away (| head)', async () => {
    for (const args of [['whoami'], ['--help'], ['namespace', 'list', '--format', 'json']]) {
      const result = await wharf(args, undefined, { closeStdout: true });
      assert.equal(result.code, 0, describeRun('wharf', args, result));
      assert.equal(result.stderr, '', `no EPIPE stack trace: ${describeRun('wharf', args, result)}`);
    }
    const piped = await runCommand('bash', ['-o', 'pipefail', '-c', `${JSON.stringify(process.execPath)} ${JSON.stringify(WHARF_BIN)} whoami | head -1`], {
      env: { PATH: process.env.PATH ?? '', HOME: work, WHARF_CLI_CONFIG: configPath },
    });
    assert.equal(piped.code, 0, describeRun('bash', ['wharf whoami | head -1'], piped));
    assert.equal(piped.stdout, `Registry   ${server.url}\n`);
    assert.equal(piped.stderr, '');
  });

  it('renews an expired access token with the refresh token, and says to log in when that is gone', async () => {
    const stored = JSON.parse(readFileSync(configPath, 'utf8')) as { login: Record<string, string> };
    writeFileSync(configPath, JSON.stringify({ ...stored, login: { ...stored.login, accessToken: 'expired', accessTokenExpires: new Date(Date.now() - 1000).toISOString() } }), { mode: 0o600 });
    await ok(['whoami']);
    const renewed = JSON.parse(readFileSync(configPath, 'utf8')) as { login: Record<string, string> };
    assert.notEqual(renewed.login.accessToken, 'expired');
    assert.ok(Date.parse(renewed.login.accessTokenExpires!) > Date.now());
    assert.equal(statSync(configPath).mode & 0o777, 0o600);

    writeFileSync(configPath, JSON.stringify({ ...renewed, login: { ...renewed.login, accessToken: 'bad', refreshToken: 'wrt_1_bogus' } }), { mode: 0o600 });
    await fails(['whoami'], 1, new RegExp(`your login to ${server.url.replace(/[.]/g, '\\.')} has expired or was revoked: run wharf login`));
    writeFileSync(configPath, JSON.stringify(renewed), { mode: 0o600 });
  });

  it('adds and lists a namespace', async () => {
    assert.match((await ok(['namespace', 'add', NS])).stdout, new RegExp(`^Added namespace ${NS}\\. Push to it as ${host}/${NS}/<repository>:<tag>\\.`));
    await fails(['namespace', 'add', NS], 1, /already in use/);
    await fails(['namespace', 'add', 'UPPER'], 1, /may contain only lowercase letters/);
    const lines = tableLines((await ok(['namespace', 'list'])).stdout);
    assert.deepEqual(cells(lines[0]!), ['Namespace', 'Images', 'Public pull', 'Created']);
    assert.equal(lines.length, 2);
    assert.deepEqual(cells(lines[1]!).slice(0, 3), [NS, '0', 'no']);
    assert.match(cells(lines[1]!)[3]!, /^(Less than a second|1 second|\d+ seconds) ago$/);
    assertAligned(lines);
    const json = JSON.parse((await ok(['namespace', 'list', '--format', 'json'])).stdout) as Array<{ name: string; imageCount: number }>;
    assert.deepEqual(json.map((n) => [n.name, n.imageCount]), [[NS, 0]]);
  });

  it('creates an API key and logs in with it (as iamapikey)', async () => {
    const created = JSON.parse((await ok(['iam', 'apikey', 'create', '-d', 'cli test', '--format', 'json'])).stdout) as { id: number; apiKey: string; owner: string };
    assert.match(created.apiKey, /^wharf_/);
    const human = (await ok(['iam', 'apikey', 'create', '-d', 'shown once'])).stdout;
    assert.match(human, /Save it now: it is not shown again\.\n\n {2}wharf_\S+\n\nLog in with it: wharf login/);
    const keys = tableLines((await ok(['iam', 'apikey', 'list'])).stdout);
    assert.deepEqual(cells(keys[0]!), ['ID', 'Prefix', 'Owner', 'Description', 'Created', 'Last used', 'Status']);
    assert.ok(keys.some((l) => cells(l)[0] === String(created.id) && cells(l)[2] === `${created.owner} (admin)` && cells(l)[3] === 'cli test' && cells(l)[6] === 'active'), keys.join('\n'));

    const { stdout } = await ok(['login', server.url, '--apikey', created.apiKey]);
    assert.match(stdout, /as admin \(account [^)]+\) with an API key\.\n$/);
    const stored = JSON.parse(readFileSync(configPath, 'utf8')) as { login: Record<string, string> };
    assert.equal(stored.login.username, 'iamapikey');
    assert.doesNotMatch(readFileSync(configPath, 'utf8'), new RegExp(created.apiKey), 'the API key is not stored');
    assert.equal(tableLines((await ok(['whoami'])).stdout)[4], 'Login      API key');

    writeFileSync(path.join(work, 'key.txt'), `${created.apiKey}\n`);
    await ok(['login', server.url, '--apikey', `@${path.join(work, 'key.txt')}`]);
    await ok(['login', server.url, '--apikey', '-'], `${created.apiKey}\n`);
    await fails(['login', server.url, '--apikey', 'wharf_notakey_0000'], 1, /invalid username, password or API key \(create a new key with wharf iam apikey create\)/);
  });

  it('lists a pushed image with two tags as two rows with one digest', async () => {
    for (const tag of ['1.0', 'stable']) {
      const pushed = await push(single, tag);
      assert.equal(pushed.code, 0, describeRun('skopeo', ['copy', '…', tag], pushed));
    }
    const expectedSize = single.config!.size + single.layers!.reduce((sum, l) => sum + l.descriptor.size, 0);

    const lines = tableLines((await ok(['image', 'list'])).stdout);
    assert.equal(lines.length, 3, lines.join('\n'));
    assert.deepEqual(cells(lines[0]!), ['Repository', 'Tag', 'Digest', 'Namespace', 'Created', 'Size', 'Security status', 'Signed']);
    const rows = lines.slice(1).map(cells).sort((a, b) => a[1]!.localeCompare(b[1]!));
    const short = single.root.digest.slice('sha256:'.length, 'sha256:'.length + 12);
    for (const [row, tag] of [[rows[0]!, '1.0'], [rows[1]!, 'stable']] as const) {
      assert.equal(row.length, 8, row.join('|'));
      assert.equal(row[7], 'no', 'the image carries no signature');
      assert.deepEqual(row.slice(0, 4), [`${host}/${NS}/app`, tag, short, NS]);
      assert.match(row[4]!, /^(Less than a second|1 second|\d+ seconds|About a minute) ago$/);
      assert.equal(row[5], humanSize(expectedSize));
      assert.match(row[5]!, /^\d+ kB$/);
      // The layers hold plain files, no OS or package database, and no USER: once scanned, the one
      // issue is that it runs as root (configuration issues count on an unsupported OS too).
      assert.match(row[6]!, /^(Scanning|1 Issue)$/);
    }
    assertAligned(lines);

    const json = await listJson();
    assert.deepEqual(json.map((i) => i.tag).sort(), ['1.0', 'stable']);
    for (const image of json) {
      assert.equal(image.digest, single.root.digest);
      assert.equal(image.repository, `${host}/${NS}/app`);
      assert.equal(image.name, `${NS}/app`);
      assert.equal(image.namespace, NS);
      assert.equal(image.size, expectedSize);
      assert.ok(!Number.isNaN(Date.parse(image.created)));
    }

    const quiet = (await ok(['image', 'list', '-q'])).stdout.split('\n').filter(Boolean).sort();
    assert.deepEqual(quiet, [`${host}/${NS}/app:1.0`, `${host}/${NS}/app:stable`]);
    const full = tableLines((await ok(['image', 'list', '--no-trunc', '--restrict', NS])).stdout);
    assert.equal(cells(full[1]!)[2], single.root.digest);
    assertAligned(full);
    assert.equal((await ok(['image', 'list', '--restrict', `${NS}/other`])).stdout, `No images in ${NS}/other. Push one to ${host}/<namespace>/<repository>:<tag>.\n`);
    assert.equal((await listJson('--restrict', `${NS}/app`, '--tag', 'stable')).length, 1);

    const digests = tableLines((await ok(['image', 'digests'])).stdout);
    assert.deepEqual(cells(digests[0]!), ['Repository', 'Digest', 'Tags', 'Namespace', 'Created', 'Size', 'Security status', 'Signed']);
    assert.equal(digests.length, 2);
    assert.deepEqual(cells(digests[1]!).slice(0, 4), [`${host}/${NS}/app`, short, '1.0, stable', NS]);
    const digestJson = JSON.parse((await ok(['image', 'digests', '--format', 'json'])).stdout) as Array<{ digest: string; tags: string[] }>;
    assert.deepEqual(digestJson.map((d) => [d.digest, d.tags.sort()]), [[single.root.digest, ['1.0', 'stable']]]);
  });

  it('accepts the command names of ibmcloud cr (image-list, namespace-list, quota, …)', async () => {
    const same = async (ibmcloud: string[], wharfArgs: string[]) => {
      assert.equal((await ok(ibmcloud)).stdout, (await ok(wharfArgs)).stdout, `wharf ${ibmcloud.join(' ')} is wharf ${wharfArgs.join(' ')}`);
    };
    await same(['image-list', '--format', 'json'], ['image', 'list', '--format', 'json']);
    await same(['images', '-q'], ['image', 'list', '-q']);
    await same(['image-digests', '--format', 'json'], ['image', 'digests', '--format', 'json']);
    await same(['image-inspect', `${NS}/app:1.0`], ['image', 'inspect', `${NS}/app:1.0`]);
    await same(['namespace-list', '-q'], ['namespace', 'list', '-q']);
    await same(['namespaces', '--format', 'json'], ['namespace', 'list', '--format', 'json']);
    await same(['quota', '--format', 'json'], ['quota', 'get', '--format', 'json']);
    await same(['trash-list', '--format', 'json'], ['trash', 'list', '--format', 'json']);
    await same(['retention-policy-list', '--format', 'json'], ['retention', 'list', '--format', 'json']);
    await same(['vulnerability-assessment', `${NS}/app:1.0`, '--format', 'json'], ['va', `${NS}/app:1.0`, '--format', 'json']);
    assert.match((await ok(['image-list', '--help'])).stdout, /^Usage: wharf image list/);
    assert.match((await ok(['--help'])).stdout, /\nThe command names of ibmcloud cr work too:\n {2}image-list, [\s\S]*retention-policy-set,/);
    await fails(['image-untag', `${NS}/app@${single.root.digest}`], 2, /image-untag removes tags: give namespace\/repository:tag/);
    await fails(['image-tag', `${NS}/app:1.0`], 2, /missing required argument 'target'/);
  });

  it('filters wharf va by severity and fixability, keeping the image\'s status, and refuses an unknown severity', async () => {
    const all = JSON.parse((await ok(['va', `${NS}/app:1.0`, '--format', 'json'])).stdout) as { status: string; vulnerabilities: unknown[] };
    const high = JSON.parse((await ok(['va', `${NS}/app:1.0`, '--severity', 'high', '--fixable', '--format', 'json'])).stdout) as { status: string; vulnerabilities: Array<{ severity: string; fixedVersion: string | null }> };
    assert.equal(high.status, all.status);
    assert.ok(high.vulnerabilities.every((v) => (v.severity === 'CRITICAL' || v.severity === 'HIGH') && v.fixedVersion !== null));
    await fails(['va', `${NS}/app:1.0`, '--severity', 'severe'], 2, /--severity severe: give one of CRITICAL, HIGH, MEDIUM, LOW, NEGLIGIBLE, UNKNOWN/);
  });

  it('inspects an image by tag and by digest, with the registry host or without', async () => {
    const [byTag] = JSON.parse((await ok(['image', 'inspect', `${NS}/app:1.0`])).stdout) as Array<{ digest: string; tags: string[]; layers: Array<{ digest: string; size: number }>; config: { architecture: string } }>;
    assert.equal(byTag!.digest, single.root.digest);
    assert.deepEqual(byTag!.tags.sort(), ['1.0', 'stable']);
    assert.deepEqual(byTag!.layers.map((l) => [l.digest, l.size]), single.layers!.map((l) => [l.descriptor.digest, l.descriptor.size]));
    assert.equal(byTag!.config.architecture, 'amd64');
    const both = JSON.parse((await ok(['image', 'inspect', `${host}/${NS}/app@${single.root.digest}`, `${NS}/app:stable`])).stdout) as Array<{ digest: string }>;
    assert.deepEqual(both.map((d) => d.digest), [single.root.digest, single.root.digest]);
    await fails(['image', 'inspect', `${NS}/app:nope`], 1, /^wharf: .*nope|^wharf: .*not found|^wharf: /m);
    await fails(['image', 'inspect', 'registry.example.com/ns/app:1'], 2, /is an image on registry\.example\.com, but you are logged in to/);
  });

  it('tags an image in its repository and into another one, and untags by tag', async () => {
    assert.equal((await ok(['image', 'tag', `${NS}/app:1.0`, `${NS}/app:copy`, `${NS}/other:1.0`])).stdout,
      `Tagged ${NS}/app:copy (${single.root.digest}).\nTagged ${NS}/other:1.0 (${single.root.digest}).\n`);
    const tagged = await listJson();
    assert.deepEqual(tagged.map((i) => `${i.name}:${i.tag}`).sort(), [`${NS}/app:1.0`, `${NS}/app:copy`, `${NS}/app:stable`, `${NS}/other:1.0`]);

    assert.equal((await ok(['image', 'rm', `${NS}/app:copy`])).stdout, `Untagged ${NS}/app:copy.\n`);
    assert.ok(!(await listJson()).some((i) => i.tag === 'copy'));
    await fails(['image', 'rm', `${NS}/app`], 2, /names neither a tag nor a digest/);
  });

  it('removes an image by digest to the trash, lists the trash and restores it', async () => {
    const ref = `${NS}/other@${single.root.digest}`;
    assert.equal((await ok(['image', 'rm', ref])).stdout, `Moved ${ref} to the trash. Restore it with: wharf image restore ${ref}\n`);
    assert.ok(!(await listJson()).some((i) => i.name === `${NS}/other`));

    const lines = tableLines((await ok(['trash', 'list'])).stdout);
    assert.deepEqual(cells(lines[0]!), ['Image', 'Digest', 'Tags', 'Deleted', 'Days until expiry', 'Size']);
    const row = cells(lines[1]!);
    assert.deepEqual(row.slice(0, 3), [`${NS}/other`, single.root.digest.slice(7, 19), '1.0']);
    assert.match(row[3]!, /ago$/);
    assert.equal(row[4], '30');
    assertAligned(lines.slice(0, 2));
    assert.equal(lines.at(-1), 'Restore one with: wharf image restore <image>@<digest> (use --no-trunc for full digests)');
    const items = JSON.parse((await ok(['trash', 'list', '--format', 'json'])).stdout) as Array<{ name: string; digest: string; tags: string[] }>;
    assert.deepEqual(items.map((i) => [i.name, i.digest, i.tags]), [[`${NS}/other`, single.root.digest, ['1.0']]]);
    assert.deepEqual((await ok(['trash', 'list', '-q'])).stdout, `${ref}\n`);

    await fails(['image', 'restore', `${NS}/other:1.0`], 2, /names no digest/);
    assert.equal((await ok(['image', 'restore', ref])).stdout, `Restored ${ref} with tags 1.0.\n`);
    assert.ok((await listJson()).some((i) => i.name === `${NS}/other` && i.tag === '1.0'));
    assert.equal((await ok(['trash', 'list'])).stdout, 'The trash is empty.\n');
  });

  it('sets a storage quota, and a push over it fails with a clear error', async () => {
    const before = tableLines((await ok(['quota', 'get'])).stdout);
    assert.deepEqual(cells(before[0]!), ['Quota', 'Limit', 'Used']);
    assert.equal(cells(before[1]!)[0], 'Storage');
    assert.equal(cells(before[1]!)[1], 'Unlimited');
    assert.match(cells(before[2]!)[0]!, /^Pull traffic \(\d{4}-\d{2}\)$/);
    assertAligned(before);

    const set = tableLines((await ok(['quota', 'set', '--storage', '1MB'])).stdout);
    assert.deepEqual(cells(set[1]!).slice(0, 2), ['Storage', '1 MB']);
    const quota = JSON.parse((await ok(['quota', 'get', '--format', 'json'])).stdout) as { storage: { limit: number; used: number } };
    assert.equal(quota.storage.limit, 1_000_000);
    assert.ok(quota.storage.used > 0);

    const pushed = await push(big, '3.0');
    assert.notEqual(pushed.code, 0, 'the push over the quota fails');
    assert.match(pushed.stderr, /quota/i, pushed.stderr);
    assert.match(pushed.stderr, /denied/i, pushed.stderr);

    await fails(['quota', 'set'], 2, /say what to set: --storage <size>, --traffic <size>, --public-traffic <size>, or several/);
    const unlimited = JSON.parse((await ok(['quota', 'set', '--storage', 'unlimited', '--traffic', '10GiB', '--public-traffic', '5GB', '--format', 'json'])).stdout) as { storage: { limit: number | null }; pullTraffic: { limit: number | null }; publicPullTraffic: { limit: number | null } };
    assert.equal(unlimited.storage.limit, null);
    assert.equal(unlimited.pullTraffic.limit, 10 * 2 ** 30);
    assert.equal(unlimited.publicPullTraffic.limit, 5_000_000_000);
    const rows = tableLines((await ok(['quota', 'get'])).stdout);
    assert.deepEqual(cells(rows[3]!).slice(1, 2), ['5 GB'], 'the public pull limit is its own row');
    assert.match(cells(rows[3]!)[0]!, /^Public pull traffic \(\d{4}-\d{2}\)$/);
    assertAligned(rows);
  });

  it('sets a retention policy, lists what a dry run would remove, and runs it', async () => {
    await new Promise((r) => setTimeout(r, 1100));
    const pushed = await push(newer, '2.0');
    assert.equal(pushed.code, 0, describeRun('skopeo', ['copy', '…'], pushed));

    assert.equal((await ok(['retention', 'get', NS])).stdout, `Retention of ${NS}: keeps every image; untagged images are kept.\n`);
    // Without a terminal to confirm on, a policy that removes images now is shown and refused.
    const refused = await fails(['retention', 'set', NS, '--images', '1'], 2, new RegExp(`not set: this policy would move 1 image of ${NS} to the trash, and there is no terminal to confirm on; add --force to set it anyway`));
    const shown = tableLines(refused.stdout);
    assert.equal(shown[0], `Retention of ${NS}: keeps the newest 1 image of each repository; untagged images are kept. Its first run moves 1 image to the trash:`);
    assert.deepEqual(cells(shown[1]!), ['Image', 'Digest', 'Tags']);
    assert.deepEqual(cells(shown[2]!), [`${NS}/app`, single.root.digest, '1.0, stable']);
    assert.equal((await ok(['retention', 'get', NS])).stdout, `Retention of ${NS}: keeps every image; untagged images are kept.\n`, 'nothing was set');
    if (hasScript) {
      const answered = await onTerminal(['retention', 'set', NS, '--images', '1'], [['Set this policy? [y/N] ', 'n']]);
      assert.equal(answered.code, 1, answered.out);
      assert.match(answered.out, new RegExp(`Its first run moves 1 image to the trash:[\\s\\S]*${NS}/app[\\s\\S]*Set this policy\\? \\[y/N\\] [\\s\\S]*wharf: cancelled: the retention policy of ${NS} is unchanged`));
      assert.equal((await ok(['retention', 'get', NS])).stdout, `Retention of ${NS}: keeps every image; untagged images are kept.\n`, 'a "no" sets nothing');
      const yes = await onTerminal(['retention', 'set', NS, '--images', '1'], [['Set this policy? [y/N] ', 'y']]);
      assert.equal(yes.code, 0, yes.out);
      assert.match(yes.out, new RegExp(`Set this policy\\? \\[y/N\\] [^\\n]*y\\s+Retention of ${NS}: keeps the newest 1 image of each repository; untagged images are kept\\.\\s*$`));
      assert.equal((await ok(['retention', 'get', NS])).stdout, `Retention of ${NS}: keeps the newest 1 image of each repository; untagged images are kept.\n`);
    }
    assert.equal((await ok(['retention', 'set', NS, '--images', '1', '--force'])).stdout, `Retention of ${NS}: keeps the newest 1 image of each repository; untagged images are kept.\n`);
    const listed = tableLines((await ok(['retention', 'list'])).stdout);
    assert.deepEqual(cells(listed[0]!), ['Namespace', 'Images kept per repository', 'Untagged images']);
    assert.deepEqual(cells(listed.find((l) => cells(l)[0] === NS)!), [NS, '1', 'kept']);
    const policy = JSON.parse((await ok(['retention', 'get', NS, '--format', 'json'])).stdout) as { keepImages: number; removeUntagged: boolean };
    assert.deepEqual([policy.keepImages, policy.removeUntagged], [1, false]);

    const dry = tableLines((await ok(['retention', 'run', NS, '--dry-run'])).stdout);
    assert.equal(dry[0], 'Would move 1 image to the trash (dry run, nothing changed):');
    assert.deepEqual(cells(dry[1]!), ['Image', 'Digest', 'Tags']);
    assert.deepEqual(cells(dry[2]!), [`${NS}/app`, single.root.digest, '1.0, stable']);
    assert.equal(dry[3], `Run it for real with: wharf retention run ${NS}`);
    assert.equal((await listJson('--restrict', `${NS}/app`)).length, 3, 'a dry run changes nothing');

    const run = JSON.parse((await ok(['retention', 'run', NS, '--format', 'json'])).stdout) as { dryRun: boolean; removed: Array<{ name: string; digest: string }> };
    assert.equal(run.dryRun, false);
    assert.deepEqual(run.removed.map((r) => [r.name, r.digest]), [[`${NS}/app`, single.root.digest]]);
    assert.deepEqual((await listJson()).map((i) => `${i.name}:${i.tag}`).sort(), [`${NS}/app:2.0`, `${NS}/other:1.0`]);
    const trash = JSON.parse((await ok(['trash', 'list', '--format', 'json'])).stdout) as Array<{ name: string; digest: string }>;
    assert.deepEqual(trash.map((i) => [i.name, i.digest]), [[`${NS}/app`, single.root.digest]]);
    assert.equal((await ok(['retention', 'run', NS])).stdout, 'No images to remove.\n');
    await ok(['retention', 'set', NS, '--images', 'all']);
  });

  it('prunes untagged images', async () => {
    await ok(['image', 'rm', `${NS}/app:2.0`]);
    const untagged = tableLines((await ok(['image', 'list', '--untagged'])).stdout);
    assert.equal(untagged.length, 2);
    assert.deepEqual(cells(untagged[1]!).slice(0, 3), [`${host}/${NS}/app`, '<none>', newer.root.digest.slice(7, 19)]);
    assert.deepEqual((await ok(['image', 'list', '--untagged', '-q'])).stdout, `${host}/${NS}/app@${newer.root.digest}\n`);

    const dry = tableLines((await ok(['prune-untagged', NS, '--dry-run'])).stdout);
    assert.equal(dry[0], 'Would move 1 image to the trash (dry run, nothing changed):');
    assert.deepEqual(cells(dry[2]!), [`${NS}/app`, newer.root.digest, '<none>']);
    assert.equal(tableLines((await ok(['prune-untagged', NS])).stdout)[0], 'Moved 1 image to the trash:');
    assert.equal((await ok(['prune-untagged', NS])).stdout, 'No untagged images to remove.\n');
  });

  it('manages users, service IDs, groups and policies', async () => {
    await ok(['iam', 'user', 'create', 'alice-cli', '--password-stdin'], 'alice-password-1234\n');
    const users = tableLines((await ok(['iam', 'user', 'list'])).stdout);
    assert.deepEqual(cells(users[0]!), ['ID', 'Username', 'Owner', 'Created']);
    assert.ok(users.some((l) => cells(l)[1] === 'alice-cli'));
    await ok(['iam', 'serviceid', 'create', 'ci-cli', '-d', 'pushes from CI']);
    await ok(['iam', 'group', 'create', 'devs-cli']);
    assert.match((await ok(['iam', 'group', 'add-member', 'devs-cli', 'user:alice-cli', 'service:ci-cli'])).stdout, /Added user:alice-cli to access group devs-cli\.\nAdded service:ci-cli/);
    const groups = tableLines((await ok(['iam', 'group', 'list'])).stdout);
    const members = cells(groups.find((l) => cells(l)[1] === 'devs-cli')!)[2]!.split(', ').sort();
    assert.match(members.join(' '), /^service:\d+ \(ci-cli\) user:\d+ \(alice-cli\)$/);

    const policy = JSON.parse((await ok(['iam', 'policy', 'create', 'group:devs-cli', '--role', 'writer', '--namespace', NS, '--format', 'json'])).stdout) as { id: number; role: string };
    assert.equal(policy.role, 'writer');
    const policies = tableLines((await ok(['iam', 'policy', 'list'])).stdout);
    assert.deepEqual(cells(policies[0]!), ['ID', 'Subject', 'Role', 'Scope', 'Created']);
    assert.deepEqual(cells(policies.find((l) => cells(l)[0] === String(policy.id))!).slice(1, 4), [subjectCell(policies, 'devs-cli'), 'writer', `namespace ${NS}`]);
    await fails(['iam', 'policy', 'create', 'user:nobody-here', '--role', 'Reader', '--namespace', NS], 1, /no user "nobody-here" in your account: see wharf iam user list/);
    // Account-wide access is never what a forgotten option grants.
    await fails(['iam', 'policy', 'create', 'group:devs-cli', '--role', 'Writer'], 2, /without a scope this would make group:devs-cli Writer on the whole account \(every namespace, present and future\): add --account if that is meant, or --namespace <namespace> to limit it/);
    await fails(['iam', 'policy', 'create', 'group:devs-cli', '--role', 'Writer', '--account', '--namespace', NS], 2, /--account and --namespace contradict each other/);
    const wide = await ok(['iam', 'policy', 'create', 'group:devs-cli', '--role', 'Reader', '--account']);
    const wideId = /^Created policy (\d+): group:devs-cli is reader on the whole account\.\n$/.exec(wide.stdout)?.[1];
    assert.ok(wideId, wide.stdout);
    assert.deepEqual(cells(tableLines((await ok(['iam', 'policy', 'list'])).stdout).find((l) => cells(l)[0] === wideId)!).slice(2, 4), ['reader', 'account']);
    await ok(['iam', 'policy', 'rm', wideId]);

    const key = (await ok(['iam', 'apikey', 'create', '--serviceid', 'ci-cli', '-q'])).stdout.trim();
    assert.match(key, /^wharf_/);
    await ok(['iam', 'policy', 'rm', String(policy.id)]);
    await ok(['iam', 'group', 'rm-member', 'devs-cli', 'user:alice-cli']);
    await ok(['iam', 'group', 'rm', 'devs-cli']);
    await ok(['iam', 'serviceid', 'rm', 'ci-cli']);
    await ok(['iam', 'user', 'rm', 'alice-cli']);
    assert.ok(!tableLines((await ok(['iam', 'user', 'list'])).stdout).some((l) => cells(l)[1] === 'alice-cli'));
  });

  it('changes your own password only with the current one, and stays logged in', async () => {
    await ok(['iam', 'user', 'create', 'pat-cli', '--password-stdin'], 'pat-password-1234\n');
    await ok(['login', server.url, '-u', 'pat-cli', '--password-stdin'], 'pat-password-1234\n');
    try {
      await fails(['iam', 'user', 'passwd', 'me', '--password-stdin'], 2, /the current password on the first line and the new one on the second/, 'pat-password-5678\n');
      await fails(['iam', 'user', 'passwd', 'pat-cli', '--password-stdin'], 1, /the current password is wrong/, 'wrong-password-0000\npat-password-5678\n');
      assert.match((await ok(['iam', 'user', 'passwd', 'me', '--password-stdin'], 'pat-password-1234\npat-password-5678\n')).stdout, /^Your password is changed\./);
      assert.match((await ok(['whoami'])).stdout, /pat-cli/, 'the login was renewed with the new password');
      await fails(['login', server.url, '-u', 'pat-cli', '--password-stdin'], 1, /invalid username, password or API key/, 'pat-password-1234\n');
    } finally {
      await ok(['login', server.url, '-u', 'admin', '--password-stdin'], `${TEST_ADMIN_PASSWORD}\n`);
    }
    await ok(['iam', 'user', 'rm', 'pat-cli']);
  });

  it('creates and lists accounts as the registry operator, and refuses anyone else', async () => {
    const created = await ok(['account', 'create', 'tenant-cli', '--owner', 'tenant-cli-owner', '--password-stdin'], 'tenant-owner-password-1\n');
    assert.match(created.stdout, new RegExp(`^Created account tenant-cli \\(#\\d+\\) with owner tenant-cli-owner\\. They log in with: wharf login ${server.url.replace(/[.]/g, '\\.')} -u tenant-cli-owner\\n$`));
    const lines = tableLines((await ok(['account', 'list'])).stdout);
    assert.deepEqual(cells(lines[0]!), ['ID', 'Account', 'Owners', 'Namespaces', 'Created']);
    assert.deepEqual(lines.slice(1).map(cells).find((c) => c[1] === 'tenant-cli')?.slice(2, 4), ['tenant-cli-owner', '0']);
    assertAligned(lines);
    const json = JSON.parse((await ok(['account', 'list', '--format', 'json'])).stdout) as Array<{ name: string; owners: string[]; namespaces: number }>;
    assert.deepEqual(json.find((a) => a.name === 'default')?.owners, ['admin']);
    assert.ok(json.find((a) => a.name === 'default')!.namespaces >= 1);
    await fails(['account', 'create', 'tenant-cli', '--owner', 'someone-else', '--password-stdin'], 1, /account tenant-cli already exists/, 'another-password-123\n');

    // The new account's owner manages their account, not the registry's accounts.
    const other = { WHARF_CLI_CONFIG: path.join(work, 'tenant-cli.json') };
    await ok(['login', server.url, '-u', 'tenant-cli-owner', '--password-stdin'], 'tenant-owner-password-1\n', { env: other });
    await fails(['account', 'list'], 1, /listing accounts needs the owner of the default account \(the registry operator\)/, undefined, { env: other });
    await fails(['account', 'create', 'tenant-x', '--owner', 'x-owner', '--password-stdin'], 1, /creating accounts needs the owner of the default account/, 'x-owner-password-123\n', { env: other });
  });

  it('refuses to remove a namespace that holds images unless forced', async () => {
    await fails(['namespace', 'rm', NS], 1, new RegExp(`namespace ${NS} holds \\d+ image\\(s\\): remove them first, or remove the namespace with force`));
    const images = await listJson();
    assert.ok(images.length > 0);
    assert.equal((await ok(['namespace', 'rm', NS, '--force'])).stdout, `Removed namespace ${NS}.\n`);
    assert.equal((await ok(['namespace', 'list'])).stdout, 'No namespaces yet: add one with wharf namespace add <name>.\n');

    // Its images are in the account's trash, and restoring one brings the namespace back.
    const trash = JSON.parse((await ok(['trash', 'list', '--format', 'json'])).stdout) as Array<{ name: string; digest: string; namespaceState: string }>;
    for (const image of images) assert.ok(trash.some((i) => i.name === image.name && i.digest === image.digest && i.namespaceState === 'removed'), `${image.name}@${image.digest} is in the trash`);
    assert.ok(tableLines((await ok(['trash', 'list'])).stdout).includes(`Namespace ${NS} was removed: restoring one of its images re-creates it.`));
    const ref = `${images[0]!.name}@${images[0]!.digest}`;
    const restored = (await ok(['image', 'restore', ref])).stdout.split('\n');
    assert.match(restored[0]!, new RegExp(`^Restored ${ref.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.equal(restored[1], `Its namespace ${NS} had been removed: it is back, without the policies it had (wharf iam policy create).`);
    assert.ok((await listJson()).some((i) => i.name === images[0]!.name && i.digest === images[0]!.digest));
    assert.equal((await ok(['namespace', 'rm', NS, '--force'])).stdout, `Removed namespace ${NS}.\n`);
  });

  it('removes an image from the trash for good, and the operator runs garbage collection', async () => {
    // The images of the namespace the previous test removed are in the trash.
    const before = JSON.parse((await ok(['trash', 'list', '--format', 'json'])).stdout) as Array<{ name: string; digest: string }>;
    assert.ok(before.length > 0);
    const ref = `${before[0]!.name}@${before[0]!.digest}`;
    await fails(['trash', 'rm', ref], 2, /no terminal to confirm on: add --force/);
    assert.match((await ok(['trash', 'rm', ref, '--force'])).stdout, new RegExp(`^Removed ${ref.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} from the trash.*\\. Its storage is freed at the next garbage collection\\.\\n$`));
    const after = JSON.parse((await ok(['trash', 'list', '--format', 'json'])).stdout) as Array<{ name: string; digest: string }>;
    assert.ok(!after.some((i) => `${i.name}@${i.digest}` === ref), 'gone from the trash');
    await fails(['image', 'restore', ref], 1, /in the trash/);
    assert.match((await ok(['gc', '--dry-run'])).stdout, /^Would remove \d+ blob\(s\), [\d.]+ [KMG]?B; \d+ repository link\(s\); \d+ orphaned file\(s\), [\d.]+ [KMG]?B\. Took [\d.]+ s\.\n$/);
    const report = JSON.parse((await ok(['gc', '--format', 'json'])).stdout) as { dryRun: boolean; blobsRemoved: number };
    assert.equal(report.dryRun, false);
  });

  it('logs out by removing the stored login and nothing else', async () => {
    const neighbour = path.join(configDir, 'keep-me.txt');
    mkdirSync(configDir, { recursive: true });
    writeFileSync(neighbour, 'not wharf login state');
    assert.equal((await ok(['logout'])).stdout, `Logged out of ${server.url}.\n`);
    assert.equal(existsSync(configPath), false);
    assert.equal(readFileSync(neighbour, 'utf8'), 'not wharf login state');
    assert.equal((await ok(['logout'])).stdout, 'Not logged in.\n');
    await fails(['whoami'], 1, /not logged in: run wharf login/);
  });
});

/** The subject cell of the row that names `name`, e.g. "group:3 (devs-cli)". */
function subjectCell(lines: string[], name: string): string {
  const cell = lines.map(cells).flat().find((c) => c.endsWith(`(${name})`));
  assert.ok(cell, `a cell names ${name}:\n${lines.join('\n')}`);
  return cell;
}
