// Loads the bundled CLI (dist/bundle/wharf.cjs, built by scripts/build.mjs) with V8's code cache:
// compiling the bundle's JavaScript was the largest part of a start, and the cache written at
// build time (scripts/warm-code-cache.mjs) holds the bytecode of everything a server start runs.
// A cache V8 cannot use (another Node.js version, a damaged file) is ignored and the bundle is
// compiled as usual. CommonJS (bin/package.json), like the bundle: see there why.
'use strict';
const { readFileSync } = require('node:fs');
const Module = require('node:module');
const path = require('node:path');
const vm = require('node:vm');

const bundleFile = path.join(__dirname, '..', 'dist', 'bundle', 'wharf.cjs');
const codeCacheFile = `${bundleFile}.v8cache`;

/** Runs the bundle's module code; returns its exports and the compiled script (to write a cache from). */
function loadBundle() {
  let cachedData;
  try {
    cachedData = readFileSync(codeCacheFile);
  } catch {
    // No cache yet: compile from source.
  }
  // The bundle is ASCII (scripts/build.mjs checks): latin1 skips UTF-8 decoding of 4 MB.
  const script = new vm.Script(Module.wrap(readFileSync(bundleFile, 'latin1')), { filename: bundleFile, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, Module.createRequire(bundleFile), module, bundleFile, path.dirname(bundleFile));
  return { exports: module.exports, script };
}

module.exports = { bundleFile, codeCacheFile, loadBundle };
