// Cold starts, interleaved: an empty node:http process, then Wharf from each checkout given (a
// directory with a built bin/wharf.js, e.g. this one and a `git archive` of main), on a fresh data
// directory each time; wall ms from spawn to the first 200 on GET /v2/, and the CPU the server
// process used by then (/proc, 10 ms ticks), which holds up better than wall time on a loaded machine.
//
//   N=7 node bench/probes/cold-start.mjs . /tmp/wharf-main      (embedded SQLite; the bench's cold-start item covers PostgreSQL)
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
const n = Number(process.env.N ?? 7);
const roots = process.argv.slice(2);
function get(port) { return new Promise((res) => { const r = http.get({ host: '127.0.0.1', port, path: '/v2/', agent: false }, (m) => { m.resume(); m.on('end', () => res(m.statusCode)); }); r.on('error', () => res(0)); }); }
const cpu = (pid) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8'); const x = f.slice(f.lastIndexOf(')') + 2).split(' '); return (Number(x[11]) + Number(x[12])) * 10; };
let port = 40000 + (process.pid % 10000);
async function one(args, env) {
  port++;
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH, ...env, WHARF_HTTP_PORT: String(port) }, stdio: ['ignore', 'ignore', 'ignore'] });
  for (;;) { if (await get(port) === 200) break; await new Promise((r) => setTimeout(r, 1)); }
  const ms = performance.now() - t0; const c = cpu(child.pid);
  await new Promise((r) => { child.once('exit', r); child.kill('SIGTERM'); });
  return [ms, c];
}
const res = { node: [] }; for (const r of roots) res[r] = [];
for (let i = 0; i < n; i++) {
  res.node.push(await one(['-e', `require('node:http').createServer((q,s)=>{s.end('{}')}).listen(process.env.WHARF_HTTP_PORT,'127.0.0.1')`], {}));
  for (const root of roots) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cold-'));
    const env = { WHARF_HTTP_HOST: '127.0.0.1', WHARF_STORAGE_DATA_DIR: dir, WHARF_LOG_LEVEL: 'error', WHARF_AUTH_ENABLED: 'false', WHARF_SCANNER_ENABLED: 'false' };
    res[root].push(await one([path.join(root, 'bin/wharf.js'), 'serve'], env));
    rmSync(dir, { recursive: true, force: true });
  }
}
const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
for (const [k, v] of Object.entries(res)) console.log(`${k.padEnd(20)} wall median ${med(v.map((x) => x[0])).toFixed(1)} ms (min ${Math.min(...v.map((x) => x[0])).toFixed(1)}), cpu median ${med(v.map((x) => x[1]))} ms; wall ratio to node ${(med(v.map((x) => x[0])) / med(res.node.map((x) => x[0]))).toFixed(2)}`);
