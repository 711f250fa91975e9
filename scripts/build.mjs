#!/usr/bin/env node
// `npm run build` (also run by `npm install`, the tests and the benchmark): tsc compiles src/ into
// dist/ (type-checked, one file per module), then esbuild bundles the `wharf` command from that
// output into dist/bundle/wharf.cjs, and scripts/warm-code-cache.mjs writes V8's code cache for it.
// Vite builds the web console (web/) into dist/console, which the registry serves at /.
// Node spent most of a start resolving, reading and compiling some 700 modules; one bundle with
// its bytecode cached starts in well under half the time. bin/wharf.js runs the bundle.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(root, 'tsconfig.json')], { stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

// The migrations' statements for a new database, recorded now from the compiled sources and carried
// in the bundle (src/metadata/fresh-schema.ts): a new registry does not record them at start.
const { recordMigrations } = await import(pathToFileURL(path.join(root, 'dist', 'metadata', 'fresh-schema.js')).href);
const { WharfMigrations } = await import(pathToFileURL(path.join(root, 'dist', 'metadata', 'migrations', 'index.js')).href);
const recordedMigrations = {};
for (const engine of ['sqlite', 'postgres']) {
  const provider = new WharfMigrations(engine);
  recordedMigrations[engine] = { names: Object.keys(await provider.getMigrations()), statements: await recordMigrations(engine, provider) };
}

const outdir = path.join(root, 'dist', 'bundle');
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [path.join(root, 'dist', 'cli', 'main.js')],
  outfile: path.join(outdir, 'wharf.cjs'),
  bundle: true,
  // CommonJS, so bin/load-bundle.js can compile it as one vm.Script with a V8 code cache (Node 20
  // has no code cache for ES modules). Dynamic imports become require(), loaded when reached.
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  supported: { 'dynamic-import': false },
  define: { 'import.meta.url': '__wharfBundleUrl', WHARF_RECORDED_MIGRATIONS: JSON.stringify(JSON.stringify(recordedMigrations)) },
  banner: { js: "var __wharfBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  // Native addons load from node_modules at run time; pg-native is pg's optional native driver.
  external: ['better-sqlite3', '@node-rs/argon2', 'pg-native'],
  // Without comments and indentation the file is ASCII and a third smaller: bin/load-bundle.js
  // reads it as latin1 (no UTF-8 decoding) and V8 hashes less; stack traces map through the source map.
  minifyWhitespace: true,
  legalComments: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
});

// The console: skipped only when asked (WHARF_BUILD_CONSOLE=0), e.g. for a server-only build.
if (process.env.WHARF_BUILD_CONSOLE !== '0') {
  const { build: viteBuild } = await import('vite');
  await viteBuild({ configFile: path.join(root, 'web', 'vite.config.ts'), logLevel: 'warn' });
}

// bin/load-bundle.js reads the bundle as latin1, which is only right for ASCII (esbuild escapes
// non-ASCII in strings; a comment kept by mistake would be the way one gets in).
const nonAscii = readFileSync(path.join(outdir, 'wharf.cjs')).findIndex((byte) => byte > 0x7f);
if (nonAscii >= 0) {
  console.error(`dist/bundle/wharf.cjs has a non-ASCII byte at offset ${nonAscii}: bin/load-bundle.js reads it as latin1; escape it or keep it out of the bundle`);
  process.exit(1);
}

const warm = spawnSync(process.execPath, [path.join(root, 'scripts', 'warm-code-cache.mjs')], { stdio: 'inherit' });
if (warm.status !== 0) process.exit(warm.status ?? 1);
