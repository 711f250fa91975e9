// What a start costs before Wharf's own work, to judge the cold-start goal (within 2× of an empty
// node:http process): interleaved starts, spawn to the first 200 on GET /v2/, of
//   node:http      an empty node:http server (the benchmark's yardstick)
//   fastify        Fastify with one route, bundled by esbuild and loaded with a V8 code cache the
//                  way bin/load-bundle.js loads Wharf (the least a Fastify server can cost)
//   wharf-load     Wharf's bundle loaded with its code cache, then an empty node:http server
//                  (the bundle alone, nothing of Wharf started)
//   wharf          `wharf serve` on fresh storage (SQLite, authentication off, as the benchmark runs it)
// Run: npm run build && node bench/start-floor.mjs [starts]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const starts = Number(process.argv[2] ?? 11);
const work = mkdtempSync(path.join(os.tmpdir(), 'wharf-start-floor-'));

const serveOnPort = "require('node:http').createServer((q, s) => { s.end('{}'); }).listen(Number(process.env.WHARF_HTTP_PORT), '127.0.0.1');";
// Loads a CommonJS bundle with its code cache (written by the first, untimed, run) and runs it.
const loader = (bundle) => `
const fs = require('node:fs'), vm = require('node:vm'), Module = require('node:module'), path = require('node:path');
const file = ${JSON.stringify(bundle)};
let cachedData; try { cachedData = fs.readFileSync(file + '.v8cache'); } catch {}
const script = new vm.Script(Module.wrap(fs.readFileSync(file, 'latin1')), { filename: file, cachedData });
const module_ = { exports: {} };
script.runInThisContext()(module_.exports, Module.createRequire(file), module_, file, path.dirname(file));
if (process.env.WRITE_CACHE) setTimeout(() => { fs.writeFileSync(file + '.v8cache', script.createCachedData()); process.exit(0); }, 500);
`;

try {
  const fastifyEntry = path.join(work, 'fastify-entry.cjs');
  writeFileSync(fastifyEntry, `const app = require('fastify')({ logger: false }); app.get('/v2/', async () => ({})); app.listen({ port: Number(process.env.WHARF_HTTP_PORT), host: '127.0.0.1' });`);
  const fastifyBundle = path.join(work, 'fastify.cjs');
  await build({ entryPoints: [fastifyEntry], outfile: fastifyBundle, bundle: true, format: 'cjs', platform: 'node', target: 'node20', minifyWhitespace: true, nodePaths: [path.join(root, 'node_modules')], logLevel: 'warning' });
  const fastifyLoader = path.join(work, 'fastify-loader.cjs');
  writeFileSync(fastifyLoader, loader(fastifyBundle));
  const wharfLoadOnly = path.join(work, 'wharf-load.cjs');
  writeFileSync(wharfLoadOnly, `require(${JSON.stringify(path.join(root, 'bin', 'load-bundle.js'))}).loadBundle();\n${serveOnPort}`);
  const nodeHttp = path.join(work, 'node-http.cjs');
  writeFileSync(nodeHttp, serveOnPort);

  const kinds = {
    'node:http': [nodeHttp],
    fastify: [fastifyLoader],
    'wharf-load': [wharfLoadOnly],
    wharf: [path.join(root, 'bin', 'wharf.js'), 'serve'],
  };
  // The Fastify bundle's code cache, as Wharf's build writes its own.
  await once(fastifyLoader, [], { WRITE_CACHE: '1' }, false);

  const times = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]));
  for (let i = 0; i < starts; i++) {
    for (const [kind, args] of Object.entries(kinds)) times[kind].push(await once(args[0], args.slice(1), {}, true));
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const base = median(times['node:http']);
  console.log(`spawn to first GET /v2/ 200, median of ${starts} interleaved starts (load average ${os.loadavg()[0].toFixed(2)})`);
  for (const [kind, xs] of Object.entries(times)) console.log(`${kind.padEnd(11)} ${median(xs).toFixed(0).padStart(4)} ms  ${(median(xs) / base).toFixed(2)}× node:http`);
} finally {
  rmSync(work, { recursive: true, force: true });
}

/** One start, timed from spawn to the first 200 (`timed`), or run until it exits by itself. */
async function once(script, args, env, timed) {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'wharf-start-floor-data-'));
  const child = spawn(process.execPath, [script, ...args], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { PATH: process.env.PATH, HOME: process.env.HOME, WHARF_HTTP_HOST: '127.0.0.1', WHARF_HTTP_PORT: String(port), WHARF_STORAGE_DATA_DIR: dataDir, WHARF_LOG_LEVEL: 'error', WHARF_AUTH_ENABLED: 'false', WHARF_SCANNER_ENABLED: 'false', ...env },
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    if (!timed) {
      await exited;
      return 0;
    }
    const started = performance.now();
    while ((await status(port)) !== 200) {
      if (child.exitCode !== null) throw new Error(`${script} exited with ${child.exitCode} before answering`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    return performance.now() - started;
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function status(port) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/v2/' }, (res) => { res.resume(); resolve(res.statusCode); });
    req.on('error', () => resolve(0));
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    }).on('error', reject);
  });
}
