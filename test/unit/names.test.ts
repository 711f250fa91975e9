import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isValidRepositoryName, isValidTag } from '../../src/oci/names.js';

describe('repository name grammar', () => {
  for (const good of ['a', 'library/ubuntu', 'ns/repo/sub', 'a.b_c__d-e---f/g0', 'x'.repeat(255)]) {
    it(`accepts ${good.slice(0, 40)}`, () => assert.equal(isValidRepositoryName(good), true));
  }
  for (const bad of ['', 'A', 'Ns/repo', '/a', 'a/', 'a//b', '.a', 'a/..', '../a', 'a/../b', 'a/./b', 'a___b', 'a.-b', 'a%2fb', 'a%2F..%2Fb', 'a b', 'a\\b', 'x'.repeat(256), '_a', 'a-', 'a:b']) {
    it(`refuses ${JSON.stringify(bad.slice(0, 40))}`, () => assert.equal(isValidRepositoryName(bad), false));
  }
});

describe('tag grammar', () => {
  for (const good of ['latest', 'v1.0.0', '_x', 'A-b_c.d', 'a'.repeat(128)]) {
    it(`accepts ${good.slice(0, 40)}`, () => assert.equal(isValidTag(good), true));
  }
  for (const bad of ['', '.hidden', '-x', 'a'.repeat(129), 'a/b', 'a:b', 'a b', 'a%20b', 'é']) {
    it(`refuses ${JSON.stringify(bad.slice(0, 40))}`, () => assert.equal(isValidTag(bad), false));
  }
});
