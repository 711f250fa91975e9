/**
 * Closed-loop manifest pulls against a seeded registry at scale (bench/scale-seed.ts), one phase at
 * a time, with the longest event-loop stall inside Wharf over the phase (bench/probes/event-loop.mjs
 * writes it). Used by bench/scale.ts and the `scale` item of `npm run bench`.
 */
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';
import { percentile } from './stats.js';

export const ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json';

export interface PhaseResult {
  phase: string;
  requests: number;
  pullsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
  /** Longest event-loop delay inside Wharf during the phase. */
  maxStallMs: number;
  /** Longest pause of V8's garbage collector inside Wharf during the phase (part of a stall). */
  maxGcPauseMs: number;
  /** 250 ms windows of the phase whose longest delay exceeded 100 ms. */
  windowsOver100Ms: number;
  windows: number;
}

export async function runPhase(url: string, probeFile: string, phase: string, seconds: number, connections: number, pathOf: () => string): Promise<PhaseResult> {
  const pool = new Pool(url, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
  const latencies: number[] = [];
  let errors = 0;
  let stop = false;
  const worker = async (): Promise<void> => {
    while (!stop) {
      const t0 = performance.now();
      try {
        const res = await pool.request({ method: 'GET', path: pathOf(), headers: { accept: ACCEPT } });
        await res.body.dump();
        if (res.statusCode !== 200) errors++;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - t0);
    }
  };
  const startedAt = Date.now();
  const t0 = performance.now();
  const workers = Array.from({ length: connections }, worker);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  stop = true;
  await Promise.all(workers);
  const elapsed = (performance.now() - t0) / 1000;
  const endedAt = Date.now();
  await pool.close();
  const sorted = Float64Array.from(latencies).sort();
  const windows = readFileSync(probeFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { t: number; maxMs: number; gcMaxMs?: number })
    .filter((w) => w.t > startedAt + 250 && w.t <= endedAt + 250);
  return {
    phase,
    requests: latencies.length,
    pullsPerSecond: latencies.length / elapsed,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted[sorted.length - 1] ?? Number.NaN,
    errors,
    maxStallMs: Math.max(0, ...windows.map((w) => w.maxMs)),
    maxGcPauseMs: Math.max(0, ...windows.map((w) => w.gcMaxMs ?? 0)),
    windowsOver100Ms: windows.filter((w) => w.maxMs > 100).length,
    windows: windows.length,
  };
}
