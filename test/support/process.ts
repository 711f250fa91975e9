import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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

/** Runs the real `wharf serve` as a subprocess and waits until GET /v2/ answers. */
export async function spawnWharf(env: Record<string, string>, args: string[] = []): Promise<WharfProcess> {
  const port = Number(env.WHARF_HTTP_PORT ?? await freePort());
  const child = spawn(process.execPath, [WHARF_BIN, 'serve', ...args], {
    env: { PATH: process.env.PATH ?? '', WHARF_HTTP_HOST: '127.0.0.1', WHARF_HTTP_PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    const early = await Promise.race([exited.then((e) => e), new Promise((r) => setTimeout(() => r(undefined), 100))]);
    if (early) throw new Error(`wharf exited before it was ready (${JSON.stringify(early)}):\n${out}`);
    try {
      const res = await fetch(`${url}/v2/`);
      if (res.status === 200) break;
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
