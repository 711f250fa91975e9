import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SecurityCache, type ReportSummary } from '../../src/scanner/security-cache.js';
import { emptySeverityCounts } from '../../src/scanner/report.js';

const summary = (status: ReportSummary['status'], highestSeverity: ReportSummary['highestSeverity']): ReportSummary => ({
  status, highestSeverity, severityCounts: { ...emptySeverityCounts(), ...(highestSeverity ? { [highestSeverity]: 1 } : {}) },
});

describe('report summary cache', () => {
  it('answers only for the version (scan and exemptions) it was given', () => {
    const cache = new SecurityCache();
    cache.set('ns/app@sha256:a', 'done|1|', summary('2 Issues', 'HIGH'));
    assert.deepEqual(cache.get('ns/app@sha256:a', 'done|1|'), summary('2 Issues', 'HIGH'));
    assert.equal(cache.get('ns/app@sha256:a', 'done|2|'), undefined, 'rescanned');
    assert.equal(cache.get('ns/app@sha256:a', 'done|1|7'), undefined, 'an exemption added');
    assert.equal(cache.get('ns/other@sha256:a', 'done|1|'), undefined, 'exemptions differ by repository');
  });

  it('stays within its bound, dropping what was written longest ago', () => {
    const cache = new SecurityCache(2);
    cache.set('a', 'v', summary('No Issues', null));
    cache.set('b', 'v', summary('No Issues', null));
    cache.set('a', 'v', summary('1 Issue', 'LOW'));
    cache.set('c', 'v', summary('No Issues', null));
    assert.equal(cache.get('b', 'v'), undefined);
    assert.deepEqual(cache.get('a', 'v'), summary('1 Issue', 'LOW'));
    assert.ok(cache.get('c', 'v'));
  });
});
