import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { translateIbmcloudNames } from '../../src/cli/ibmcloud-names.js';
import { UsageError } from '../../src/cli/context.js';

const run = (...args: string[]) => translateIbmcloudNames(['node', 'wharf', ...args]).slice(2);

describe('ibmcloud cr command names', () => {
  it('rewrites the hyphenated names to the Wharf command, keeping arguments and options', () => {
    assert.deepEqual(run('image-list', '--restrict', 'team-a'), ['image', 'list', '--restrict', 'team-a']);
    assert.deepEqual(run('retention-policy-set', '--images', '5', 'team-a'), ['retention', 'set', '--images', '5', 'team-a']);
    assert.deepEqual(run('retention-policy-list'), ['retention', 'list']);
    assert.deepEqual(run('namespace-add', 'team-a'), ['namespace', 'add', 'team-a']);
    assert.deepEqual(run('image-prune-untagged', 'team-a'), ['prune-untagged', 'team-a']);
    assert.deepEqual(run('vulnerability-assessment', 'team-a/app:1'), ['va', 'team-a/app:1']);
    assert.deepEqual(run('image-untag', 'team-a/app:old'), ['image', 'rm', 'team-a/app:old']);
  });

  it('runs the default of the groups ibmcloud uses as commands (images, quota), but leaves their subcommands and help alone', () => {
    assert.deepEqual(run('images'), ['image', 'list']);
    assert.deepEqual(run('images', '-q'), ['image', 'list', '-q']);
    assert.deepEqual(run('quota', '--format', 'json'), ['quota', 'get', '--format', 'json']);
    assert.deepEqual(run('quota', 'set', '--storage', '1GB'), ['quota', 'set', '--storage', '1GB']);
    assert.deepEqual(run('images', 'rm', 'a/b:c'), ['images', 'rm', 'a/b:c']);
    assert.deepEqual(run('quota', '--help'), ['quota', '--help']);
  });

  it('leaves Wharf\'s own names and an empty command line alone', () => {
    assert.deepEqual(run('image', 'list'), ['image', 'list']);
    assert.deepEqual(run('login', 'http://localhost:5000'), ['login', 'http://localhost:5000']);
    assert.deepEqual(run(), []);
  });

  it('refuses image-untag of a digest, which would move the image to the trash', () => {
    assert.throws(() => run('image-untag', 'team-a/app@sha256:' + 'a'.repeat(64)), (err: unknown) => err instanceof UsageError && /image-untag removes tags/.test(err.message));
  });
});
