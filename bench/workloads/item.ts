/** What a workload item is: how to set it up on a target, run one timed round, and read the result. */
import type { RegistryClient } from '../client.js';
import type { PhysicalLimits } from '../limits.js';
import type { BenchOptions, TargetName } from '../options.js';
import type { Postgres, RunningServer } from '../servers.js';

export interface TargetContext {
  target: TargetName;
  server: RunningServer;
  client: RegistryClient;
  options: BenchOptions;
  postgres?: Postgres;
  /** Where the target keeps a blob's bytes (housekeeping between rounds only). */
  blobFile(digest: string): string;
}

export interface Measurement {
  /** The headline number, in the item's unit. */
  value: number;
  /** Secondary numbers (latency percentiles, bytes, pages) kept in the JSON and shown as extra rows. */
  extra?: Record<string, number>;
}

export interface ExtraRow {
  key: string;
  title: string;
  unit: string;
  better: 'higher' | 'lower';
}

export interface LimitValue {
  value: number;
  /** Which physical limit, e.g. "disk write+fsync". */
  label: string;
}

export interface WorkloadItem {
  id: string;
  title: string;
  unit: string;
  better: 'higher' | 'lower';
  /** The physical limit bounding the item, in the item's unit. */
  limit?(limits: PhysicalLimits, options: BenchOptions): LimitValue | undefined;
  extras?: ExtraRow[];
  /** Targets that cannot run the item (with why), shown instead of a number. */
  unsupported?: Partial<Record<TargetName, string>>;
  /** Runs on the S3 targets (bench/s3-servers.ts) only; every other item runs on the others only. */
  s3?: boolean;
  /** The item starts its own servers: no resource sampling of the shared one. */
  ownServer?: boolean;
  /** Sample server RSS during the item (large blobs: show memory stays flat). */
  memory?: boolean;
  /** Once per round, before any target runs it (e.g. precompute blobs and digests). */
  prepare?(round: number, options: BenchOptions): Promise<void>;
  /** Once per target, untimed. */
  setup?(ctx: TargetContext): Promise<void>;
  run(ctx: TargetContext, round: number): Promise<Measurement>;
  /** After each timed run, untimed. */
  cleanup?(ctx: TargetContext, round: number): Promise<void>;
}

export const MIB = 1024 * 1024;

/** Milliseconds taken by `fn`. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}
