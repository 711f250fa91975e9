import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VersionedCache } from '../../src/cache/versioned-cache.js';

describe('versioned cache', () => {
  it('answers only for the version it was given, and not after its maximum age', () => {
    let now = 1_000;
    const cache = new VersionedCache<string>(10, 60_000, () => now);
    cache.set('k', 'v1', 'value');
    assert.equal(cache.get('k', 'v1'), 'value');
    assert.equal(cache.get('k', 'v2'), undefined);
    now += 60_000;
    assert.equal(cache.get('k', 'v1'), 'value', 'still young enough at exactly its maximum age');
    now += 1;
    assert.equal(cache.get('k', 'v1'), undefined);
    cache.set('k', 'v1', 'again');
    assert.equal(cache.get('k', 'v1'), 'again', 'written again, young again');
  });

  it('keeps entries without a maximum age until they are pushed out', () => {
    let now = 0;
    const cache = new VersionedCache<number>(2, Infinity, () => now);
    cache.set('a', 'v', 1);
    now = Number.MAX_SAFE_INTEGER;
    assert.equal(cache.get('a', 'v'), 1);
    cache.set('b', 'v', 2);
    cache.set('c', 'v', 3);
    assert.equal(cache.get('a', 'v'), undefined, 'the oldest write goes past the bound');
  });
});
