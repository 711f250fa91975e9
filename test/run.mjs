#!/usr/bin/env node
// The test command (`npm test`): starts a throwaway PostgreSQL so the integration suites run on both
// metadata engines, and a throwaway S3 store (radosgw) when a chosen file uses it (test/support/s3.ts),
// then runs the test files with Node's test runner. Arguments narrow the files.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPostgres } from './support/postgres.mjs';
import { startRadosgw } from './support/radosgw.mjs';

const root = path.dirname(fileURLToPath(import.meta.url));

function findTests(dir) {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return entry === 'support' || entry === 'fixtures' ? [] : findTests(full);
    return entry.endsWith('.test.ts') ? [full] : [];
  });
}

const filters = process.argv.slice(2);
const files = findTests(root).filter((f) => filters.length === 0 || filters.some((x) => f.includes(x))).sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}

// Tests that run the real `wharf` binary need dist/ (and its bundle) to match src/.
const build = spawnSync(process.execPath, [path.join(root, '..', 'scripts', 'build.mjs')], { stdio: 'inherit' });
if (build.status !== 0) {
  console.error('build failed');
  process.exit(1);
}

let pg;
if (!process.env.WHARF_TEST_DATABASE_URL) {
  pg = await startPostgres();
  process.env.WHARF_TEST_DATABASE_URL = pg.url;
  console.log(`# PostgreSQL for tests at ${pg.url}`);
}

let s3;
if (!process.env.S3_ENDPOINT && files.some((f) => readFileSync(f, 'utf8').includes('support/s3.js'))) {
  try {
    s3 = await startRadosgw();
  } catch (err) {
    pg?.stop();
    console.error(err.message);
    process.exit(1);
  }
  Object.assign(process.env, s3.env);
  console.log(`# S3 (radosgw) for tests at ${s3.env.S3_ENDPOINT}, bucket ${s3.env.S3_BUCKET}`);
}

const child = spawn(process.execPath, [
  '--import', 'tsx',
  '--test',
  `--test-concurrency=${process.env.WHARF_TEST_CONCURRENCY ?? 2}`,
  // A test that hangs fails (after half an hour: debootstrap on a loaded machine is the slowest step)
  // instead of holding the run until CI's own limit.
  '--test-timeout=1800000',
  '--test-reporter=spec',
  ...files,
], { stdio: 'inherit', env: process.env });

const finish = (code) => {
  pg?.stop();
  s3?.stop();
  process.exit(code);
};
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => { child.kill(signal); });
child.on('exit', (code, signal) => finish(code ?? (signal ? 1 : 0)));
