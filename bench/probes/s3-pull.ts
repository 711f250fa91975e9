/**
 * Proxied S3 pulls, many samples: Wharf and Distribution on one throwaway radosgw (the bench's
 * S3 targets), one blob pushed to each, then N interleaved `curl` pulls of it from each, and M
 * interleaved rollouts of C clients pulling 2 layers of 4 MiB at once (--redirect: the redirect
 * targets, whose pulls are the store's own speed plus a 307). Reports medians and the server CPU per pull (/proc, 10 ms ticks). The
 * bench's three rounds of one pull each are too few to tell a few milliseconds apart.
 *
 *   N=15 M=5 [GAP_MS=3000] node --import tsx bench/probes/s3-pull.ts [--redirect]
 *   BENCH_WHARF_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" ...   (profile Wharf meanwhile)
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { RegistryClient } from '../client.js';
import { makeBlob } from '../payload.js';
import { startS3Target, stopRadosgw, type S3Target } from '../s3-servers.js';
import type { RunningServer } from '../servers.js';

const N = Number(process.env.N ?? 15);
const M = Number(process.env.M ?? 5);
const CLIENTS = Number(process.env.C ?? 50);
/** Idle milliseconds before each pull (the bench pulls once a round, after the other targets' items). */
const GAP_MS = Number(process.env.GAP_MS ?? 0);
const MIB = 1024 * 1024;
const SIZE = Number(process.env.BLOB_MIB ?? 16) * MIB;
const redirect = process.argv.includes('--redirect');
const targets: S3Target[] = redirect ? ['wharf-s3-redirect', 'distribution-s3-redirect'] : ['wharf-s3', 'distribution-s3'];

const cpuMs = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
};

function curl(url: string): Promise<{ bytes: number; ms: number; firstByteMs: number }> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-s', '-L', '-o', '/dev/null', '-w', '%{size_download} %{time_total} %{time_starttransfer}', url], (err, out) => {
      if (err) return reject(err);
      const [bytes, seconds, first] = out.trim().split(' ').map(Number) as [number, number, number];
      resolve({ bytes, ms: seconds * 1000, firstByteMs: first * 1000 });
    });
  });
}

async function drain(url: string): Promise<number> {
  const res = await fetch(url, { redirect: 'follow' });
  if (res.status !== 200 || !res.body) throw new Error(`GET ${url} answered ${res.status}`);
  let n = 0;
  for await (const part of res.body) n += (part as Uint8Array).length;
  return n;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const servers: RunningServer[] = [];
try {
  for (const target of targets) servers.push(await startS3Target(target));
  const blob = makeBlob(SIZE);
  const layers = [makeBlob(4 * MIB), makeBlob(4 * MIB)];
  for (const server of servers) {
    const client = new RegistryClient(server.url);
    await client.pushPostPut('probe/pull', blob);
    for (const layer of layers) await client.pushPostPut('probe/rollout', layer);
    await client.close();
  }
  const peakRss = (pid: number): string => /VmHWM:\s*(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '?';
  const afterPush = new Map(servers.map((s) => [s.target, peakRss(s.pid)]));
  const pulls = new Map<string, { ms: number[]; first: number[]; cpu: number[] }>(servers.map((s) => [s.target, { ms: [], first: [], cpu: [] }]));
  for (let i = 0; i < N; i++) {
    for (const server of i % 2 ? [...servers].reverse() : servers) {
      if (GAP_MS) await new Promise((resolve) => setTimeout(resolve, GAP_MS));
      const before = cpuMs(server.pid);
      const answer = await curl(`${server.url}/v2/probe/pull/blobs/${blob.digest}`);
      if (answer.bytes !== blob.size) throw new Error(`${server.target} sent ${answer.bytes} of ${blob.size} bytes`);
      pulls.get(server.target)!.ms.push(answer.ms);
      pulls.get(server.target)!.first.push(answer.firstByteMs);
      pulls.get(server.target)!.cpu.push(cpuMs(server.pid) - before);
    }
  }
  const rollouts = new Map<string, { ms: number[]; cpu: number[] }>(servers.map((s) => [s.target, { ms: [], cpu: [] }]));
  for (let i = 0; i < M; i++) {
    for (const server of i % 2 ? [...servers].reverse() : servers) {
      const before = cpuMs(server.pid);
      const t = performance.now();
      await Promise.all(Array.from({ length: CLIENTS }, async () => {
        for (const layer of layers) if (await drain(`${server.url}/v2/probe/rollout/blobs/${layer.digest}`) !== layer.size) throw new Error('short layer');
      }));
      rollouts.get(server.target)!.ms.push(performance.now() - t);
      rollouts.get(server.target)!.cpu.push(cpuMs(server.pid) - before);
    }
  }
  console.log(`load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  for (const server of servers) console.log(`peak RSS ${server.target}: ${afterPush.get(server.target)} kB after the pushes, ${peakRss(server.pid)} kB at the end`);
  for (const [target, r] of pulls) {
    console.log(`pull ${SIZE / MIB} MiB  ${target.padEnd(26)} median ${median(r.ms).toFixed(1)} ms (${(SIZE / MIB / (median(r.ms) / 1000)).toFixed(0)} MiB/s), first byte ${median(r.first).toFixed(1)} ms, server CPU ${median(r.cpu)} ms; all ${r.ms.map((x) => x.toFixed(0)).join(' ')}`);
  }
  for (const [target, r] of M > 0 ? rollouts : []) {
    console.log(`rollout ${CLIENTS}x2x4 MiB ${target.padEnd(22)} median ${median(r.ms).toFixed(0)} ms, server CPU ${median(r.cpu)} ms; all ${r.ms.map((x) => x.toFixed(0)).join(' ')}`);
  }
} finally {
  for (const server of servers) await server.stop().catch(() => undefined);
  stopRadosgw();
}
