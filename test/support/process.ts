import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { get as httpsGet } from 'node:https';

export const WHARF_BIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'wharf.js');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export interface WharfProcess {
  child: ChildProcess;
  url: string;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Runs the real `wharf serve` as a subprocess and waits until GET /v2/ answers (200, or 401 when
 * authentication is on). Authentication is off unless `env` sets WHARF_AUTH_ENABLED. With `tlsCa`
 * (the PEM CA that issued WHARF_HTTP_TLS_CERT) it is reached over https:// and its certificate checked.
 */
export async function spawnWharf(env: Record<string, string>, args: string[] = [], tlsCa?: Buffer): Promise<WharfProcess> {
  const port = Number(env.WHARF_HTTP_PORT ?? await freePort());
  const child = spawn(process.execPath, [WHARF_BIN, 'serve', ...args], {
    env: { PATH: process.env.PATH ?? '', WHARF_HTTP_HOST: '127.0.0.1', WHARF_HTTP_PORT: String(port), WHARF_AUTH_ENABLED: 'false', WHARF_ADMIN_PASSWORD: 'test-admin-password-0123', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const url = `${tlsCa ? 'https' : 'http'}://127.0.0.1:${port}`;
  const announces = ['trace', 'debug', 'info'].includes(env.WHARF_LOG_LEVEL ?? 'info');
  const deadline = Date.now() + 20_000;
  for (;;) {
    const early = await Promise.race([exited.then((e) => e), new Promise((r) => setTimeout(() => r(undefined), 100))]);
    if (early) throw new Error(`wharf exited before it was ready (${JSON.stringify(early)}):\n${out}`);
    try {
      // Bounded: while the starting server holds its port it cuts connections off, and undici has
      // been seen to leave a fetch whose connection was reset that way pending forever (no socket, no timer).
      const status = tlsCa ? await httpsStatus(`${url}/v2/`, tlsCa) : await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(5000) }).then(async (res) => {
        await res.arrayBuffer();
        return res.status;
      });
      // The port answers before the start has finished (the administrator is made just after it
      // opens); the CLI says "Wharf listening" once it has, when its log level shows info lines.
      if ((status === 200 || status === 401) && (!announces || /Wharf listening on /.test(out))) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`wharf did not become ready in 20 s:\n${out}`);
    }
  }
  return { child, url, output: () => out, exited };
}

/**
 * The status of a GET over https with the given CA, bounded to 5 s. Not npm's undici: importing it
 * installs its own Agent as the global dispatcher of Node's fetch, which then refuses headers the
 * built-in fetch sends (every test file importing this module would be affected).
 */
function httpsStatus(url: string, ca: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpsGet(url, { ca, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', reject);
  });
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command without blocking the event loop (the in-process server must keep answering
 * while a client such as skopeo talks to it). Never rejects on a non-zero exit: callers assert.
 */
export function runCommand(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string; processGroup?: boolean } = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    // processGroup: the command runs in a group of its own, and a timeout kills the whole group.
    // A script such as debootstrap leaves its children (dpkg in a chroot) running otherwise, and
    // they keep its output pipes open, so the command would never be seen to end.
    const child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: options.processGroup === true });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => {
      if (options.processGroup && child.pid !== undefined) {
        try { process.kill(-child.pid, 'SIGKILL'); } catch { child.kill('SIGKILL'); }
      } else {
        child.kill('SIGKILL');
      }
      stderr += `\n[killed after ${options.timeoutMs ?? 120_000} ms]`;
    }, options.timeoutMs ?? 120_000);
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

/** Formats a command and its outcome for an assertion message. */
export function describeRun(command: string, args: string[], result: CommandResult): string {
  return `${command} ${args.join(' ')} exited ${result.code}\nstdout: ${result.stdout.slice(-2000)}\nstderr: ${result.stderr.slice(-2000)}`;
}

/** Builds dist/ and its bundle when any source is newer than its output, so `bin/wharf.js` runs current code. */
export async function ensureBuilt(): Promise<void> {
  const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const stale = (dir: string): boolean => readdirSync(path.join(root, dir), { withFileTypes: true }).some((entry) => {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) return stale(rel);
    if (!entry.name.endsWith('.ts')) return false;
    const out = path.join(root, 'dist', path.relative('src', rel).replace(/\.ts$/, '.js'));
    return !existsSync(out) || statSync(out).mtimeMs < statSync(path.join(root, rel)).mtimeMs;
  });
  if (!stale('src')) return;
  const result = await runCommand(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { cwd: root });
  if (result.code !== 0) throw new Error(`building dist/ failed:\n${result.stdout}\n${result.stderr}`);
}

/**
 * The real `wharf` binary with a home and CLI configuration of its own under `home()` (read at each
 * call: suites create it in `before`); `input` goes to its standard input, as a typed password would.
 * `ok` runs it and asserts it succeeded, showing the run when it did not.
 */
export function wharfCli(home: () => string): { run(args: string[], input?: string): Promise<CommandResult>; ok(args: string[], input?: string): Promise<CommandResult> } {
  const run = (args: string[], input?: string): Promise<CommandResult> => runCommand('sh', ['-c', `${input === undefined ? '' : 'printf "%s\\n" "$WHARF_INPUT" | '}"$NODE" "$WHARF_BIN" "$@"`, 'wharf', ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: home(), WHARF_CLI_CONFIG: path.join(home(), 'config.json'), NODE: process.execPath, WHARF_BIN, WHARF_INPUT: input ?? '' },
    timeoutMs: 60_000,
  });
  return {
    run,
    async ok(args, input) {
      const result = await run(args, input);
      assert.equal(result.code, 0, describeRun('wharf', args, result));
      return result;
    },
  };
}
