import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileGlob, globMatches, GlobError } from '../../src/oci/globs.js';
import { ImmutableTags } from '../../src/registry/immutability.js';

describe('immutability globs', () => {
  it('* stays within one path segment, ** crosses them, ? is one character', () => {
    assert.equal(globMatches('v*', 'v1.2.3'), true);
    assert.equal(globMatches('v*', 'version'), true);
    assert.equal(globMatches('v*', 'latest'), false);
    assert.equal(globMatches('team/*', 'team/app'), true);
    assert.equal(globMatches('team/*', 'team/app/web'), false);
    assert.equal(globMatches('team/**', 'team/app/web'), true);
    assert.equal(globMatches('**', 'a/b/c'), true);
    assert.equal(globMatches('v?', 'v1'), true);
    assert.equal(globMatches('v?', 'v10'), false);
  });

  it('matches the whole name, literally apart from wildcards, case-sensitively', () => {
    assert.equal(globMatches('latest', 'latest'), true);
    assert.equal(globMatches('latest', 'latest-rc'), false);
    assert.equal(globMatches('1.0', '1x0'), false, 'a dot is a dot');
    assert.equal(globMatches('Latest', 'latest'), false);
  });

  it('{a,b} is either alternative', () => {
    assert.equal(globMatches('{release,stable}-*', 'stable-2'), true);
    assert.equal(globMatches('{release,stable}-*', 'beta-2'), false);
  });

  it('refuses malformed patterns with a message naming them', () => {
    assert.throws(() => compileGlob('v{1'), (e: unknown) => e instanceof GlobError && /"v\{1" opens a brace it never closes/.test(e.message));
    assert.throws(() => compileGlob('v}'), GlobError);
    assert.throws(() => compileGlob('{a,{b}}'), GlobError);
    assert.throws(() => compileGlob('v[0-9]'), /not a valid pattern/);
    assert.throws(() => compileGlob(''), GlobError);
  });

  it('rules match the repository path inside the namespace and the first matching rule is named', () => {
    const rules = new ImmutableTags([{ repository: 'app*', tags: 'v*' }, { repository: '**', tags: 'release-*' }]);
    assert.deepEqual(rules.ruleFor('team/app-web', 'v1'), { repository: 'app*', tags: 'v*' });
    assert.equal(rules.ruleFor('team/other', 'v1'), undefined);
    assert.equal(rules.ruleFor('app/other', 'v1'), undefined, 'the namespace is not part of the repository path');
    assert.deepEqual(rules.ruleFor('team/deep/path', 'release-3'), { repository: '**', tags: 'release-*' });
    assert.deepEqual(rules.firstImmutable('team/app', ['latest', 'v2']), { tag: 'v2', rule: { repository: 'app*', tags: 'v*' } });
  });
});
