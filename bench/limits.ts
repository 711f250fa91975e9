/**
 * What this machine can physically do, measured in the same sitting as the workloads:
 * sequential disk write with fsync and read, SHA-256, loopback TCP, an empty Node HTTP server.
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
import { median } from './stats.js';

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
  const sink = spawn(process.execPath, ['-e', `const s = require('node:net').createServer((c) => { let n = 0; c.on('data', (d) => { n += d.length; }); c.on('end', () => c.end(String(n))); }); s.listen(0, '127.0.0.1', () => console.log(s.address().port));`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const port = await new Promise<number>((resolve) => sink.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
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
    sink.kill();
  }
}

export async function measureLimits(options: { bytes: number; connections: number; durationMs: number }, log: (m: string) => void): Promise<PhysicalLimits> {
  const disk: Array<{ write: number; read: number }> = [];
  const sha: number[] = [];
  const loop: number[] = [];
  for (let i = 0; i < 3; i++) {
    disk.push(await diskThroughput(options.bytes));
    sha.push(sha256Throughput(options.bytes));
    loop.push(await loopbackThroughput(options.bytes));
  }
  log(`limits: disk write+fsync ${median(disk.map((d) => d.write)).toFixed(0)} MiB/s, read ${median(disk.map((d) => d.read)).toFixed(0)} MiB/s, sha256 ${median(sha).toFixed(0)} MiB/s, loopback ${median(loop).toFixed(0)} MiB/s`);
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
  log(`limits: empty node:http ${median(rps).toFixed(0)} req/s at ${options.connections} connections, cold start ${median(starts).toFixed(0)} ms`);
  return {
    diskWriteMiBs: median(disk.map((d) => d.write)),
    diskReadMiBs: median(disk.map((d) => d.read)),
    sha256MiBs: median(sha),
    loopbackMiBs: median(loop),
    emptyHttpRps: median(rps),
    emptyHttpP50Ms: median(p50),
    emptyNodeStartMs: median(starts),
  };
}
