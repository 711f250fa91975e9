/** Closed-loop request load: N keep-alive connections, each sending the next request as soon as the last answered. */
import { Pool } from 'undici';
import { percentile } from './stats.js';

export interface LoadResult {
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

export async function runLoad(baseUrl: string, options: { connections: number; durationMs: number; method: 'GET' | 'HEAD'; path: string; headers?: Record<string, string>; warmupMs?: number }): Promise<LoadResult> {
  const pool = new Pool(baseUrl, { connections: options.connections, pipelining: 1, keepAliveTimeout: 60_000 });
  const latencies: number[] = [];
  let errors = 0;
  let recording = false;
  let stop = false;
  const one = async (): Promise<void> => {
    const t0 = performance.now();
    try {
      // reset: false keeps the connection after HEAD (undici closes it by default, which would time TCP setup).
      const res = await pool.request({ method: options.method, path: options.path, headers: options.headers, reset: false });
      await res.body.dump();
      if (res.statusCode !== 200) errors++;
    } catch {
      errors++;
    }
    if (recording) latencies.push(performance.now() - t0);
  };
  const worker = async (): Promise<void> => {
    while (!stop) await one();
  };
  const workers = Array.from({ length: options.connections }, worker);
  // Warm-up: connections opened, JIT warm, before anything is counted.
  await new Promise((r) => setTimeout(r, options.warmupMs ?? 300));
  recording = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, options.durationMs));
  recording = false;
  const elapsed = performance.now() - t0;
  stop = true;
  await Promise.all(workers);
  await pool.close();
  const sorted = Float64Array.from(latencies).sort();
  return {
    requests: latencies.length,
    requestsPerSecond: latencies.length / (elapsed / 1000),
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    errors,
  };
}
