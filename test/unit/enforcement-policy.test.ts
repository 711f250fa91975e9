import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hostMatches, parsePolicy, PolicyError, repositoryMatches, severityRank } from '../../src/enforcement/policy.js';
import { parseWorkloadImage, pinnedReference } from '../../src/enforcement/image-reference.js';

describe('image policy rules', () => {
  it('accepts every rule, normalises severities and drops duplicate entries', () => {
    const policy = parsePolicy({ registries: ['docker.io', 'docker.io', '*.example.com:5000'], namespaces: ['team-a', 'team-b/app*'], signedBy: ['ci'], vulnerabilities: { maxSeverity: 'medium', maxScanAgeDays: 7, allowUnsupportedOs: true }, requireDigest: true }, 'cluster');
    assert.deepEqual(policy, { registries: ['docker.io', '*.example.com:5000'], namespaces: ['team-a', 'team-b/app*'], signedBy: ['ci'], vulnerabilities: { maxSeverity: 'MEDIUM', maxScanAgeDays: 7, allowUnsupportedOs: true }, requireDigest: true });
    assert.deepEqual(parsePolicy({}, 'account'), {});
  });

  it('refuses what it cannot enforce, saying how to write it', () => {
    const refused = (input: unknown, scope: 'cluster' | 'namespace' = 'namespace') => assert.throws(() => parsePolicy(input, scope), PolicyError);
    refused({ registries: ['docker.io'] });
    assert.throws(() => parsePolicy({ registries: ['docker.io'] }, 'account'), /cluster-wide default only/);
    assert.throws(() => parsePolicy({ signedby: ['ci'] }, 'account'), /unknown rule "signedby"/);
    assert.throws(() => parsePolicy({ vulnerabilities: { maxSeverity: 'severe' } }, 'account'), /maxSeverity must be one of none, negligible, low, medium, high, critical/);
    assert.throws(() => parsePolicy({ vulnerabilities: { maxSeverity: 'low', maxScanAgeDays: 0 } }, 'account'), /maxScanAgeDays/);
    assert.throws(() => parsePolicy({ namespaces: ['team{a'] }, 'account'), /namespaces: .*brace/);
    assert.throws(() => parsePolicy({ signedBy: [] }, 'account'), /names no key/);
    assert.throws(() => parsePolicy({ signedBy: ['bad key'] }, 'account'), /not a trusted key name/);
    assert.throws(() => parsePolicy({ requireDigest: 'yes' }, 'account'), /true or false/);
    refused({ registries: ['docker.io/library'] }, 'cluster');
    refused([], 'cluster');
  });

  it('matches hosts case-insensitively with * and repositories by namespace or by full name', () => {
    assert.equal(hostMatches('docker.io', 'docker.io'), true);
    assert.equal(hostMatches('*.example.com', 'registry.example.com'), true);
    assert.equal(hostMatches('*.example.com', 'example.com'), false);
    assert.equal(hostMatches('docker.io', 'xdocker.io'), false);
    assert.equal(hostMatches('Quay.IO', 'quay.io'), true);
    assert.equal(repositoryMatches('team-a', 'team-a/app'), true);
    assert.equal(repositoryMatches('team-a', 'team-a/deep/app'), true);
    assert.equal(repositoryMatches('team-a', 'team-ab/app'), false);
    assert.equal(repositoryMatches('team-*', 'team-b/app'), true);
    assert.equal(repositoryMatches('team-a/app*', 'team-a/app-web'), true);
    assert.equal(repositoryMatches('team-a/app*', 'team-a/db'), false);
  });

  it('ranks UNKNOWN like CRITICAL: an unrated issue is never within a limit', () => {
    assert.ok(severityRank('UNKNOWN') > severityRank('HIGH'));
    assert.ok(severityRank('NEGLIGIBLE') < severityRank('LOW'));
    assert.equal(severityRank('NONE'), 0);
  });
});

describe('image references in pod specs', () => {
  it('makes Docker Hub and library/ explicit, as the kubelet does', () => {
    assert.deepEqual(parseWorkloadImage('nginx'), { host: 'docker.io', repository: 'library/nginx', tag: 'latest' });
    assert.deepEqual(parseWorkloadImage('bitnami/redis:7'), { host: 'docker.io', repository: 'bitnami/redis', tag: '7' });
    assert.deepEqual(parseWorkloadImage('Registry.Example.com:5000/team-a/app:v1'), { host: 'registry.example.com:5000', repository: 'team-a/app', tag: 'v1' });
    assert.deepEqual(parseWorkloadImage('localhost/team-a/app'), { host: 'localhost', repository: 'team-a/app', tag: 'latest' });
    const digest = `sha256:${'a'.repeat(64)}`;
    assert.deepEqual(parseWorkloadImage(`r.example.com/team-a/app:v1@${digest}`), { host: 'r.example.com', repository: 'team-a/app', tag: 'v1', digest });
    assert.deepEqual(parseWorkloadImage(`r.example.com/team-a/app@${digest}`), { host: 'r.example.com', repository: 'team-a/app', digest });
  });

  it('refuses what no runtime could pull', () => {
    assert.throws(() => parseWorkloadImage('r.example.com/Team/App'), /not a repository name/);
    assert.throws(() => parseWorkloadImage('r.example.com/team/app@sha256:12'), /malformed digest/);
    assert.throws(() => parseWorkloadImage(''), /not an image reference/);
    assert.throws(() => parseWorkloadImage('team/app:-bad'), /invalid tag/);
  });

  it('pins a tag to its digest and keeps the tag for readers', () => {
    const digest = `sha256:${'b'.repeat(64)}`;
    assert.equal(pinnedReference(parseWorkloadImage('r.example.com/team-a/app:v1'), digest), `r.example.com/team-a/app:v1@${digest}`);
  });
});
