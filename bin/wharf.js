#!/usr/bin/env node
// The CLI runs from one bundle of the compiled sources (dist/bundle/, built by `npm install`
// through the prepare script, see scripts/build.mjs), loaded with its V8 code cache.
'use strict';
const { loadBundle } = require('./load-bundle.js');

const { main } = loadBundle().exports;
main(process.argv).then(
  (code) => { if (typeof code === 'number') process.exitCode = code; },
  (err) => { console.error(err instanceof Error ? err.message : String(err)); process.exitCode = 1; },
);
