/** Cold start: a fresh server on fresh storage, from spawn to the first 200 on GET /v2/. */
import { coldStart, replicaStart } from '../servers.js';
import type { WorkloadItem } from './item.js';

let counter = 0;

export const coldStartItem: WorkloadItem = {
  id: 'cold-start',
  title: 'cold start to first GET /v2/ 200',
  unit: 'ms',
  better: 'lower',
  ownServer: true,
  limit: (limits) => ({ value: limits.emptyNodeStartMs, label: 'empty node:http process' }),
  async run(ctx) {
    return { value: await coldStart(ctx.target, ctx.postgres, `wharf_cold_${process.pid}_${++counter}`) };
  },
};

/** A new replica on an existing registry (PostgreSQL: its database exists; SQLite: a restart). */
export const replicaStartItem: WorkloadItem = {
  id: 'replica-start',
  title: 'new replica on an existing registry, to first GET /v2/ 200',
  unit: 'ms',
  better: 'lower',
  ownServer: true,
  limit: (limits) => ({ value: limits.emptyNodeStartMs, label: 'empty node:http process' }),
  async run(ctx) {
    return { value: await replicaStart(ctx.target, ctx.postgres, `wharf_replica_${process.pid}_${++counter}`) };
  },
};
