import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SecurityCache } from '../../src/scanner/security-cache.js';

describe('image list security cache', () => {
  it('answers only for the version (scan and exemptions) it was given', () => {
    const cache = new SecurityCache();
    cache.set('ns/app@sha256:a', 'done|1|', { status: '2 Issues', highestSeverity: 'HIGH' });
    assert.deepEqual(cache.get('ns/app@sha256:a', 'done|1|'), { status: '2 Issues', highestSeverity: 'HIGH' });
    assert.equal(cache.get('ns/app@sha256:a', 'done|2|'), undefined, 'rescanned');
    assert.equal(cache.get('ns/app@sha256:a', 'done|1|7'), undefined, 'an exemption added');
    assert.equal(cache.get('ns/other@sha256:a', 'done|1|'), undefined, 'exemptions differ by repository');
  });

  it('stays within its bound, dropping what was written longest ago', () => {
    const cache = new SecurityCache(2);
    cache.set('a', 'v', { status: 'No Issues', highestSeverity: null });
    cache.set('b', 'v', { status: 'No Issues', highestSeverity: null });
    cache.set('a', 'v', { status: '1 Issue', highestSeverity: 'LOW' });
    cache.set('c', 'v', { status: 'No Issues', highestSeverity: null });
    assert.equal(cache.get('b', 'v'), undefined);
    assert.deepEqual(cache.get('a', 'v'), { status: '1 Issue', highestSeverity: 'LOW' });
    assert.ok(cache.get('c', 'v'));
  });
});
