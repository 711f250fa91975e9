#!/usr/bin/env node
// `npm run build` (also run by `npm install`, the tests and the benchmark): tsc compiles src/ into
// dist/ (type-checked, one file per module), then esbuild bundles the `wharf` command from that
// output into dist/bundle/. Node spends most of a start resolving, reading and compiling hundreds
// of ES modules; one bundle, split at the dynamic imports so each command loads only what it runs,
// starts in about half the time. bin/wharf.js runs the bundle.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(root, 'tsconfig.json')], { stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

const outdir = path.join(root, 'dist', 'bundle');
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: { main: path.join(root, 'dist', 'cli', 'main.js') },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunks/[name]-[hash]',
  // Native addons load from node_modules at run time; pg-native is pg's optional native driver.
  external: ['better-sqlite3', '@node-rs/argon2', 'pg-native'],
  // Bundled CommonJS packages call require() for Node's built-ins.
  banner: { js: "import { createRequire as __wharfCreateRequire } from 'node:module'; const require = __wharfCreateRequire(import.meta.url);" },
  sourcemap: 'linked',
  logLevel: 'warning',
});
