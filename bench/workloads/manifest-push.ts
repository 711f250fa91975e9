/**
 * Manifest pushes (PUT by tag) of already-uploaded blobs, many at once, as CI tagging images does.
 * Each one is an acknowledged metadata commit, so this is where the database's durability costs.
 */
import { runPool } from '../client.js';
import { percentile } from '../stats.js';
import { timed, type WorkloadItem } from './item.js';
import { pushSeedImage, seedManifest } from './seed.js';

const REPO = 'bench/manifest-push';

export const manifestPush: WorkloadItem = {
  id: 'manifest-put',
  title: 'concurrent manifest pushes (PUT by tag)',
  unit: 'manifests/s',
  better: 'higher',
  extras: [
    { key: 'p50Ms', title: 'manifest PUT p50 latency', unit: 'ms', better: 'lower' },
    { key: 'p99Ms', title: 'manifest PUT p99 latency', unit: 'ms', better: 'lower' },
  ],
  async setup(ctx) {
    await pushSeedImage(ctx.client, REPO, 'seed');
  },
  async run(ctx, round) {
    // Distinct manifests (an annotation per push), so every PUT stores a new manifest and a new tag.
    const count = ctx.options.smallBlobs;
    const manifests = Array.from({ length: count }, (_, i) => seedManifest(`${round}-${i}`));
    const latencies = new Float64Array(count);
    const ms = await timed(() => runPool(count, ctx.options.smallConcurrency, async (i) => {
      latencies[i] = await timed(() => ctx.client.putManifest(REPO, `r${round}-${i}`, manifests[i]!));
    }));
    latencies.sort();
    return { value: count / (ms / 1000), extra: { ms, requests: count, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) } };
  },
};
