import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cutSegments, stagedSize, type Segment } from '../../src/storage/s3/s3-staging.js';

const MiB = 1024 * 1024;
const segments: Segment[] = [
  { leaf: 'a', start: 0, length: 6 * MiB, sha256: 'state-a' },
  { leaf: 'b', start: 6 * MiB, length: 5 * MiB, sha256: 'state-b' },
  { leaf: 'c', start: 11 * MiB, length: 100, sha256: 'state-c' },
];

describe('staged S3 upload segments', () => {
  it('keeps whole segments, with their saved digest states, when the cut falls on a boundary', () => {
    const { kept, dropped } = cutSegments(segments, 11 * MiB);
    assert.deepEqual(kept, segments.slice(0, 2));
    assert.deepEqual(dropped.map((s) => s.leaf), ['c']);
    assert.equal(stagedSize({ segments: kept }), 11 * MiB);
  });

  it('shortens the segment the cut falls in and forgets its digest state, which no longer matches', () => {
    const { kept, dropped } = cutSegments(segments, 7 * MiB);
    assert.deepEqual(kept, [segments[0], { leaf: 'b', start: 6 * MiB, length: MiB }]);
    assert.deepEqual(dropped.map((s) => s.leaf), ['c']);
    assert.equal(stagedSize({ segments: kept }), 7 * MiB);
  });

  it('cuts everything at zero, and nothing at the staged size', () => {
    assert.deepEqual(cutSegments(segments, 0), { kept: [], dropped: segments });
    assert.deepEqual(cutSegments(segments, stagedSize({ segments })), { kept: segments, dropped: [] });
    assert.equal(stagedSize({ segments: [] }), 0);
  });
});
