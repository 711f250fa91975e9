import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseOptions } from '../../bench/options.js';
import { isS3Item, renderS3 } from '../../bench/s3-report.js';
import type { BenchResults, ItemResult, TargetResult } from '../../bench/report.js';
import type { WorkloadItem } from '../../bench/workloads/item.js';

function result(median: number, extras: Record<string, number> = {}): TargetResult {
  const summary = (m: number) => ({ median: m, min: m, max: m, spread: 0, samples: [m] });
  return { summary: summary(median), extras: Object.fromEntries(Object.entries(extras).map(([k, v]) => [k, summary(v)])), resources: [], errors: [] };
}

function results(items: ItemResult[]): BenchResults {
  return { date: '2026-11-30', mode: 'quick', machine: {}, options: parseOptions(['--quick'], {}), limits: {} as BenchResults['limits'], items, durationSeconds: 1 };
}

describe('benchmark: S3 targets and garbage collection settings', () => {
  it('has quick and full sizes for the S3 blobs and the GC item, and accepts the S3 targets', () => {
    const quick = parseOptions(['--quick'], {});
    assert.equal(quick.s3BlobMib, 16);
    assert.equal(quick.gcBlobs, 10_000);
    assert.ok(quick.targets.includes('wharf-s3-redirect') && quick.targets.includes('distribution-s3'));
    assert.equal(parseOptions([], {}).gcBlobs, 100_000);
    assert.equal(parseOptions(['--quick', '--gc-blobs', '500'], {}).gcBlobs, 500);
    assert.equal(parseOptions(['--quick'], { BENCH_S3_BLOB_MIB: '64' }).s3BlobMib, 64);
    assert.deepEqual(parseOptions(['--targets', 'wharf-s3,distribution-s3'], {}).targets, ['wharf-s3', 'distribution-s3']);
    assert.throws(() => parseOptions(['--gc-blobs', '0'], {}), /--gc-blobs must be a positive number/);
    assert.throws(() => parseOptions(['--targets', 'wharf-s4'], {}), /unknown target "wharf-s4"/);
  });

  it('renders the S3 table with Wharf ÷ Distribution ratios, proxied and redirected, extras inverted for times', () => {
    const rollout: ItemResult = {
      id: 's3-rollout', title: 'S3: rollout', unit: 'MiB/s', better: 'higher', memory: false,
      targets: {
        'wharf-s3': result(60, { ms: 1000 }), 'distribution-s3': result(30, { ms: 2000 }),
        'wharf-s3-redirect': result(40, { ms: 1500 }), 'distribution-s3-redirect': result(80, { ms: 750 }),
      },
    };
    const other: ItemResult = { id: 'manifest-get', title: 'manifest GET', unit: 'req/s', better: 'higher', memory: false, targets: { wharf: result(1) } };
    const byId = new Map<string, WorkloadItem>([['s3-rollout', { extras: [{ key: 'ms', title: 'S3: rollout wall time', unit: 'ms', better: 'lower' }] } as unknown as WorkloadItem]]);
    const text = renderS3(results([other, rollout]), byId).join('\n');
    assert.ok(isS3Item(rollout) && !isS3Item(other));
    assert.doesNotMatch(text, /manifest GET/);
    const row = text.split('\n').find((l) => l.startsWith('| S3: rollout |'))!;
    assert.match(row, /\| 2\.00× \|/);
    assert.match(row, /\| 0\.50× \|$/);
    const wall = text.split('\n').find((l) => l.startsWith('| S3: rollout wall time |'))!;
    assert.match(wall, /1,000 ms ±0% \| 2,000 ms ±0% \| 2\.00× \|/);
    assert.deepEqual(renderS3(results([other]), byId), []);
  });
});
