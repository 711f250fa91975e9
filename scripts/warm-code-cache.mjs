#!/usr/bin/env node
// Writes the bundle's V8 code cache (run by scripts/build.mjs): starts a throwaway server from the
// bundle in this process, answers a few requests so their code is compiled too, then saves the
// bytecode V8 holds for the bundle next to it (bin/load-bundle.js reads it at every start).
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import launcher from '../bin/load-bundle.js';

const { codeCacheFile, loadBundle } = launcher;

const port = await new Promise((resolve, reject) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const { port: free } = probe.address();
    probe.close(() => resolve(free));
  }).on('error', reject);
});
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'wharf-code-cache-'));
for (const key of Object.keys(process.env)) if (key.startsWith('WHARF_')) delete process.env[key];
Object.assign(process.env, {
  WHARF_HTTP_HOST: '127.0.0.1',
  WHARF_HTTP_PORT: String(port),
  WHARF_STORAGE_DATA_DIR: dataDir,
  WHARF_LOG_LEVEL: 'silent',
  WHARF_ADMIN_PASSWORD: 'code-cache-warm-up',
  WHARF_SCANNER_ENABLED: 'false',
});

const finish = (code) => {
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(code);
};
try {
  const { exports, script } = loadBundle();
  exports.main([process.execPath, 'wharf', 'serve']).catch((err) => {
    console.error(`warning: no V8 code cache written: the warm-up server failed: ${err instanceof Error ? err.message : String(err)}`);
    finish(0);
  });
  const base = `http://127.0.0.1:${port}`;
  for (let tries = 0; ; tries++) {
    // Bounded: a connection the starting server cuts off (it holds its port while starting) must not leave a fetch pending.
    const ready = await fetch(`${base}/v2/`, { signal: AbortSignal.timeout(5000) }).then((res) => res.status === 401, () => false);
    if (ready) break;
    if (tries > 3000) throw new Error('the server did not start within 30 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  // The commonest first requests: the registry's base and a missing manifest, an API listing.
  await fetch(`${base}/v2/library/none/manifests/latest`);
  await fetch(`${base}/api/v1/images`);
  const temporary = `${codeCacheFile}.${process.pid}`;
  writeFileSync(temporary, script.createCachedData());
  renameSync(temporary, codeCacheFile);
  finish(0);
} catch (err) {
  // Without a cache Wharf still runs (it compiles at start); say so, do not fail the build.
  console.error(`warning: no V8 code cache written: ${err instanceof Error ? err.message : String(err)}`);
  finish(0);
}
