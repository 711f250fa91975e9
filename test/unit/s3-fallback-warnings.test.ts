import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FallbackWarnings } from '../../src/storage/s3/fallback-warnings.js';

describe('S3 read fallback warnings', () => {
  it('warns at the first fallback, then once a minute with the count since the last warning', () => {
    let now = 0;
    const lines: Array<{ fallbacks: number; err: { message: string } }> = [];
    const warnings = new FallbackWarnings({ warn: (details) => lines.push(details as (typeof lines)[number]) }, () => now);
    warnings.note(new Error('the store answered 403'));
    for (let i = 0; i < 5; i++) {
      now += 10_000;
      warnings.note(new Error('the store answered 403'));
    }
    assert.deepEqual(lines.map((l) => l.fallbacks), [1], 'the five in the next 50 s are only counted');
    now += 10_000;
    warnings.note(new Error('the store closed the connection'));
    assert.deepEqual(lines.map((l) => [l.fallbacks, l.err.message]), [[1, 'the store answered 403'], [6, 'the store closed the connection']]);
  });
});
