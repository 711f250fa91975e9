/** Many small blobs pushed at once (POST then PUT each), as a CI pipeline of small layers does. */
import { makeSmallBlob } from '../payload.js';
import { runPool } from '../client.js';
import { timed, type WorkloadItem } from './item.js';

let blobs: Array<{ bytes: Buffer; digest: string }> = [];

export const smallBlobs: WorkloadItem = {
  id: 'small-blobs',
  title: 'concurrent small-blob pushes',
  unit: 'blobs/s',
  better: 'higher',
  extras: [{ key: 'cpuUsPerRequest', title: 'small-blob push: server CPU per blob', unit: 'µs', better: 'lower' }],
  async prepare(_round, options) {
    blobs = Array.from({ length: options.smallBlobs }, () => makeSmallBlob(options.smallBlobKib * 1024));
  },
  async run(ctx, round) {
    const repo = `bench/small-${round}`;
    const ms = await timed(() => runPool(blobs.length, ctx.options.smallConcurrency, (i) => ctx.client.pushSmall(repo, blobs[i]!)));
    return { value: blobs.length / (ms / 1000), extra: { ms, requests: blobs.length } };
  },
};
