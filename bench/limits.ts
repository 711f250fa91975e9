/**
 * What this machine can physically do, measured in the same sitting as the workloads:
 * sequential disk write with fsync and read, SHA-256, loopback TCP, an empty Node HTTP server,
 * and the two paths a blob takes through a bare node:http server (no registry): received, hashed
 * and written durably; sent from memory.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { runLoad } from './loadgen.js';
import { startEmptyNodeServer } from './servers.js';
import { curlAvailable, curlDownload } from './curl.js';
import { request } from 'undici';

/**
 * A limit is the best of its tries: noise on a shared machine only ever makes a try slower, and a
 * median of three short tries was at times exceeded by a registry measured minutes later.
 */
const best = (values: number[]): number => Math.max(...values);
const fastest = (values: number[]): number => Math.min(...values);

const MIB = 1024 * 1024;

export interface PhysicalLimits {
  /** MiB/s, 1 MiB writes then fsync, in the directory the servers use. */
  diskWriteMiBs: number;
  /** MiB/s, 1 MiB reads of the file just written (page cache, as the servers read it). */
  diskReadMiBs: number;
  /** MiB/s of one core. */
  sha256MiBs: number;
  /** MiB/s from this process to another over 127.0.0.1. */
  loopbackMiBs: number;
  /**
   * MiB/s of a push through a bare node:http server in another process: the body hashed with
   * SHA-256 and written to a file, fsync'd, then answered; sent by the benchmark's own client. The
   * three limits above at once, on the cores the client shares: what bounds a push here.
   */
  pushPipelineMiBs: number;
  /** MiB/s a bare node:http server sends from memory to curl (undefined without curl). */
  nodeToCurlMiBs?: number;
  /** Requests/s of an empty node:http server with the same client and connections as the manifest items. */
  emptyHttpRps: number;
  emptyHttpP50Ms: number;
  /** Milliseconds from spawn to the first 200 of an empty node:http server. */
  emptyNodeStartMs: number;
}

async function diskThroughput(bytes: number): Promise<{ write: number; read: number }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wharf-bench-disk-'));
  const file = path.join(dir, 'probe');
  const block = randomBytes(MIB);
  try {
    const w = await open(file, 'w');
    const t0 = performance.now();
    for (let done = 0; done < bytes; done += MIB) await w.write(block, 0, MIB);
    await w.sync();
    const writeS = (performance.now() - t0) / 1000;
    await w.close();
    const r = await open(file, 'r');
    const buf = Buffer.allocUnsafe(MIB);
    const t1 = performance.now();
    while ((await r.read(buf, 0, MIB)).bytesRead > 0) { /* read it all */ }
    const readS = (performance.now() - t1) / 1000;
    await r.close();
    return { write: bytes / MIB / writeS, read: bytes / MIB / readS };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function sha256Throughput(bytes: number): number {
  const block = randomBytes(MIB);
  const hash = createHash('sha256');
  const t0 = performance.now();
  for (let done = 0; done < bytes; done += MIB) hash.update(block);
  hash.digest();
  return bytes / MIB / ((performance.now() - t0) / 1000);
}

/** A sink in another process; this one writes `bytes` to it as fast as the socket takes them. */
async function loopbackThroughput(bytes: number): Promise<number> {
  const sink = await listeningChild(`const s = require('node:net').createServer((c) => { let n = 0; c.on('data', (d) => { n += d.length; }); c.on('end', () => c.end(String(n))); });`);
  try {
    const { port } = sink;
    const block = randomBytes(MIB);
    const socket = connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    const t0 = performance.now();
    for (let done = 0; done < bytes; done += MIB) {
      if (!socket.write(block)) await new Promise((r) => socket.once('drain', r));
    }
    socket.end();
    await new Promise<void>((resolve) => socket.on('data', () => resolve()));
    const seconds = (performance.now() - t0) / 1000;
    socket.destroy();
    return bytes / MIB / seconds;
  } finally {
    sink.stop();
  }
}

/** Runs `script` (which defines a server `s`) in another process and waits until it listens on loopback. */
async function listeningChild(script: string): Promise<{ port: number; stop(): void }> {
  const child = spawn(process.execPath, ['-e', `${script} s.listen(0, '127.0.0.1', () => console.log(s.address().port));`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  return { port, stop: () => child.kill() };
}

/** A node:http server in its own process running `handler` (the body of a request listener). */
function bareServer(handler: string): Promise<{ port: number; stop(): void }> {
  return listeningChild(`const http = require('node:http'); const fs = require('node:fs'); const crypto = require('node:crypto'); const s = http.createServer(async (req, res) => { ${handler} });`);
}

async function pushPipelineThroughput(bytes: number): Promise<number> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wharf-bench-push-'));
  const file = path.join(dir, 'blob');
  const server = await bareServer(`
    const hash = crypto.createHash('sha256');
    const out = fs.createWriteStream(${JSON.stringify(file)}, { highWaterMark: 1024 * 1024 });
    req.on('data', (chunk) => hash.update(chunk));
    req.pipe(out);
    out.on('finish', () => { const fd = fs.openSync(${JSON.stringify(file)}, 'r+'); fs.fsyncSync(fd); fs.closeSync(fd); res.end(hash.digest('hex')); });`);
  try {
    const block = randomBytes(MIB);
    const t0 = performance.now();
    const res = await request(`http://127.0.0.1:${server.port}/`, {
      method: 'PUT',
      headers: { 'content-length': String(bytes) },
      body: (function* () { for (let done = 0; done < bytes; done += MIB) yield block; })() as unknown as Buffer,
    });
    await res.body.text();
    return bytes / MIB / ((performance.now() - t0) / 1000);
  } finally {
    server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function nodeToCurlThroughput(bytes: number): Promise<number | undefined> {
  if (!curlAvailable()) return undefined;
  const server = await bareServer(`
    const block = crypto.randomBytes(1024 * 1024);
    res.writeHead(200, { 'content-length': ${bytes} });
    for (let done = 0; done < ${bytes}; done += block.length) {
      if (!res.write(block)) await new Promise((r) => res.once('drain', r));
    }
    res.end();`);
  try {
    const answer = await curlDownload(`http://127.0.0.1:${server.port}/`);
    return answer.bytes / MIB / (answer.ms / 1000);
  } finally {
    server.stop();
  }
}

export async function measureLimits(options: { bytes: number; connections: number; durationMs: number }, log: (m: string) => void): Promise<PhysicalLimits> {
  const disk: Array<{ write: number; read: number }> = [];
  const sha: number[] = [];
  const loop: number[] = [];
  const push: number[] = [];
  const curl: number[] = [];
  for (let i = 0; i < 3; i++) {
    disk.push(await diskThroughput(options.bytes));
    sha.push(sha256Throughput(options.bytes));
    loop.push(await loopbackThroughput(options.bytes));
    push.push(await pushPipelineThroughput(options.bytes));
    const toCurl = await nodeToCurlThroughput(options.bytes);
    if (toCurl !== undefined) curl.push(toCurl);
  }
  log(`limits: disk write+fsync ${best(disk.map((d) => d.write)).toFixed(0)} MiB/s, read ${best(disk.map((d) => d.read)).toFixed(0)} MiB/s, sha256 ${best(sha).toFixed(0)} MiB/s, loopback ${best(loop).toFixed(0)} MiB/s, bare push pipeline ${best(push).toFixed(0)} MiB/s${curl.length ? `, node:http to curl ${best(curl).toFixed(0)} MiB/s` : ''}`);
  const starts: number[] = [];
  const rps: number[] = [];
  const p50: number[] = [];
  for (let i = 0; i < 3; i++) {
    const server = await startEmptyNodeServer();
    starts.push(server.startMs);
    const load = await runLoad(server.url, { connections: options.connections, durationMs: options.durationMs, method: 'GET', path: '/v2/' });
    rps.push(load.requestsPerSecond);
    p50.push(load.p50Ms);
    await server.stop();
  }
  log(`limits: empty node:http ${best(rps).toFixed(0)} req/s at ${options.connections} connections, cold start ${fastest(starts).toFixed(0)} ms`);
  return {
    diskWriteMiBs: best(disk.map((d) => d.write)),
    diskReadMiBs: best(disk.map((d) => d.read)),
    sha256MiBs: best(sha),
    loopbackMiBs: best(loop),
    pushPipelineMiBs: best(push),
    nodeToCurlMiBs: curl.length ? best(curl) : undefined,
    emptyHttpRps: best(rps),
    emptyHttpP50Ms: fastest(p50),
    emptyNodeStartMs: fastest(starts),
  };
}
