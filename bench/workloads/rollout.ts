/** A rollout: many clients pull the same blob at the same time, each on its own connection. */
import { RegistryClient } from '../client.js';
import { makeBlob, type BlobSpec } from '../payload.js';
import { MIB, timed, type WorkloadItem } from './item.js';

const REPO = 'bench/rollout';
const blobs = new Map<string, BlobSpec>();

export const rollout: WorkloadItem = {
  id: 'rollout',
  title: 'concurrent pulls of one blob (rollout)',
  unit: 'MiB/s',
  better: 'higher',
  memory: true,
  limit: (limits) => ({ value: limits.loopbackMiBs, label: 'loopback TCP' }),
  extras: [{ key: 'ms', title: 'rollout wall time', unit: 'ms', better: 'lower' }],
  async setup(ctx) {
    const blob = makeBlob(ctx.options.rolloutBlobMib * MIB);
    await ctx.client.pushPostPut(REPO, blob);
    blobs.set(ctx.target, blob);
  },
  async run(ctx) {
    const blob = blobs.get(ctx.target)!;
    const clients = ctx.options.rolloutClients;
    const pool = new RegistryClient(ctx.server.url, clients);
    try {
      const ms = await timed(() => Promise.all(Array.from({ length: clients }, async () => {
        const bytes = await pool.pullBlob(REPO, blob.digest);
        if (bytes !== blob.size) throw new Error(`rollout pulled ${bytes} of ${blob.size} bytes`);
      })));
      return { value: (clients * blob.size) / MIB / (ms / 1000), extra: { ms } };
    } finally {
      await pool.close();
    }
  },
};
