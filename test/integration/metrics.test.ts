import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { engines, startTestServer, type TestServer } from '../support/server.js';
import { pushImage, repoName } from '../support/http.js';

const TOKEN = 'metrics-token-0123456789abcdef';
const PROMETHEUS = '/usr/bin/prometheus';

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Polls until `check` holds, showing the last value seen when it never does. */
async function until<T>(what: string, read: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    try {
      last = await read();
      if (check(last)) return last;
    } catch (err) {
      last = err as T;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not reached in ${timeoutMs / 1000} s; last seen ${JSON.stringify(last instanceof Error ? last.message : last)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A real Prometheus (Debian's package) scraping the server every second with the metrics token. */
async function startPrometheus(target: string): Promise<{ url: string; stop(): Promise<void>; log(): string }> {
  assert.ok(existsSync(PROMETHEUS), `${PROMETHEUS} not found: install Debian's prometheus package (.ci/run does)`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wharf-prom-'));
  const config = path.join(dir, 'prometheus.yml');
  writeFileSync(config, [
    'global:', '  scrape_interval: 1s', '  scrape_timeout: 1s',
    'scrape_configs:', '  - job_name: wharf', '    metrics_path: /metrics',
    '    authorization:', '      type: Bearer', `      credentials: ${TOKEN}`,
    '    static_configs:', `      - targets: ['${target}']`, '',
  ].join('\n'));
  const port = await freePort();
  let output = '';
  const child: ChildProcess = spawn(PROMETHEUS, [`--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    child.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await until('Prometheus ready', () => fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) }).then((r) => r.status), (s) => s === 200, 60_000);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${output.slice(-2000)}`);
  }
  return { url, stop, log: () => output };
}

async function query(prometheus: string, expr: string): Promise<number> {
  const res = await fetch(`${prometheus}/api/v1/query?query=${encodeURIComponent(expr)}`, { signal: AbortSignal.timeout(5000) });
  const body = await res.json() as { data: { result: Array<{ value: [number, string] }> } };
  return body.data.result.length === 0 ? Number.NaN : Number(body.data.result[0]!.value[1]);
}

for (const engine of engines()) {
  describe(`metrics [${engine}]`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine, { metrics: { token: TOKEN, listen: '127.0.0.1:0' }, storage: { gcInterval: 0 } });
    });
    after(async () => { await server.stop(); });

    it('serves /metrics to the token only, and the internal listener without credentials', async () => {
      assert.equal((await fetch(`${server.url}/metrics`)).status, 401);
      assert.equal((await fetch(`${server.url}/metrics`, { headers: { Authorization: 'Bearer wrong-token-0123456789' } })).status, 401);
      const res = await fetch(`${server.url}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      for (const name of ['wharf_http_requests_total', 'wharf_http_request_duration_seconds_bucket', 'wharf_uploads_in_progress', 'wharf_blobs_stored', 'wharf_scan_queue', 'wharf_process_resident_memory_bytes']) {
        assert.match(text, new RegExp(`^${name}`, 'm'), `${name} is exposed`);
      }
      assert.ok(server.metricsUrl, 'metrics.listen bound a port');
      const internal = await fetch(`${server.metricsUrl}/metrics`);
      assert.equal(internal.status, 200);
      assert.match(await internal.text(), /^wharf_http_requests_total/m);
      assert.equal((await fetch(`${server.metricsUrl}/v2/`)).status, 404, 'the internal listener serves nothing else');
    });

    it('a real Prometheus scrapes requests, bytes, stored blobs and garbage collection after a push and a pull', async () => {
      const target = new URL(server.url).host;
      const prometheus = await startPrometheus(target);
      try {
        const name = repoName('metrics');
        const image = await pushImage(server.url, name, 'v1');
        const pulled = await fetch(`${server.url}/v2/${name}/manifests/v1`, { headers: { Accept: image.mediaType } });
        assert.equal(pulled.status, 200);
        await pulled.arrayBuffer();
        const blob = await fetch(`${server.url}/v2/${name}/blobs/${image.layers[0]!.digest}`);
        await blob.arrayBuffer();
        await server.gc.run();
        await until('Prometheus scraped Wharf', () => query(prometheus.url, 'up{job="wharf"}'), (v) => v === 1);
        await until('a manifest push counted', () => query(prometheus.url, 'sum(wharf_http_requests_total{family="manifests",method="PUT",status="201"})'), (v) => v >= 1);
        await until('the manifest pull counted', () => query(prometheus.url, 'sum(wharf_http_requests_total{family="manifests",method="GET",status="200"})'), (v) => v >= 1);
        await until('blob bytes sent', () => query(prometheus.url, 'sum(wharf_http_sent_bytes_total{family="blobs"})'), (v) => v >= image.layers[0]!.size);
        await until('upload bytes received', () => query(prometheus.url, 'sum(wharf_http_received_bytes_total{family="uploads"})'), (v) => v >= image.layers[0]!.size);
        await until('stored blobs', () => query(prometheus.url, 'wharf_blobs_stored'), (v) => v >= 2);
        await until('a garbage collection', () => query(prometheus.url, 'sum(wharf_gc_runs_total{outcome="success"})'), (v) => v >= 1);
        await until('latency histogram', () => query(prometheus.url, 'sum(wharf_http_request_duration_seconds_count{family="manifests"})'), (v) => v >= 2);
      } finally {
        await prometheus.stop();
      }
    });
  });
}
