/** Manifest GET and HEAD by tag at many concurrent keep-alive connections: requests/s and latency. */
import { MANIFEST_ACCEPT } from '../client.js';
import { runLoad } from '../loadgen.js';
import type { WorkloadItem } from './item.js';
import { pushSeedImage } from './seed.js';

const REPO = 'bench/manifests';

function manifestItem(method: 'GET' | 'HEAD'): WorkloadItem {
  return {
    id: `manifest-${method.toLowerCase()}`,
    title: `manifest ${method} by tag`,
    unit: 'req/s',
    better: 'higher',
    limit: (limits) => ({ value: limits.emptyHttpRps, label: 'empty node:http server' }),
    extras: [
      { key: 'p50Ms', title: `manifest ${method} p50 latency`, unit: 'ms', better: 'lower' },
      { key: 'p99Ms', title: `manifest ${method} p99 latency`, unit: 'ms', better: 'lower' },
      { key: 'cpuUsPerRequest', title: `manifest ${method}: server CPU per request`, unit: 'µs', better: 'lower' },
    ],
    async setup(ctx) {
      if (method === 'GET') await pushSeedImage(ctx.client, REPO, 'latest');
    },
    async run(ctx) {
      const result = await runLoad(ctx.server.url, {
        connections: ctx.options.connections,
        durationMs: ctx.options.durationSeconds * 1000,
        method,
        path: `/v2/${REPO}/manifests/latest`,
        headers: { accept: MANIFEST_ACCEPT },
      });
      if (result.errors > 0) throw new Error(`${result.errors} manifest ${method} requests failed`);
      return { value: result.requestsPerSecond, extra: { p50Ms: result.p50Ms, p99Ms: result.p99Ms, requests: result.requests } };
    },
  };
}

export const manifestGet = manifestItem('GET');
export const manifestHead = manifestItem('HEAD');
