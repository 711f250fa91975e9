import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeDenial, PolicyEvaluator, type ImageDecision } from '../../src/enforcement/evaluate.js';
import { digestOf, HOST, MemoryFacts, MemoryPolicies, MemorySignatures } from '../support/enforcement.js';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const daysAgo = (d: number) => new Date(NOW - d * 86_400_000).toISOString();

function setup() {
  const policies = new MemoryPolicies();
  const facts = new MemoryFacts();
  const signatures = new MemorySignatures();
  const evaluator = new PolicyEvaluator({ policies, facts, signatures, now: () => NOW });
  const evaluate = (image: string, pinning = false, accountId = 1): Promise<ImageDecision> => evaluator.evaluate(image, { accountId, registryHosts: new Set([HOST]), pinning });
  return { policies, facts, signatures, evaluate };
}

const rules = (d: ImageDecision) => d.failures.map((f) => f.rule);

describe('image policy evaluation', () => {
  it('without any policy, denies and says who sets one', async () => {
    const { facts, evaluate } = setup();
    facts.add('team-a/app', 'v1', digestOf(1));
    const d = await evaluate(`${HOST}/team-a/app:v1`);
    assert.equal(d.allowed, false);
    assert.deepEqual(rules(d), ['policy']);
    assert.match(d.failures[0]!.message, /no image policy applies to team-a\/app.*wharf policy set --namespace team-a/);
  });

  it('the most specific policy wins: repository, then namespace, then account, then the cluster default', async () => {
    const { policies, facts, evaluate } = setup();
    facts.add('team-a/app', 'v1', digestOf(1)).add('team-a/db', 'v1', digestOf(2)).add('team-b/web', 'v1', digestOf(3)).add('team-c/x', 'v1', digestOf(4));
    policies.set('cluster', '', { requireDigest: true })
      .set('account', '', { namespaces: ['team-b'] }, 1)
      .set('namespace', 'team-a', { namespaces: ['team-a/db'] })
      .set('repository', 'team-a/app', {});
    assert.deepEqual((await evaluate(`${HOST}/team-a/app:v1`)).policy, { scope: 'repository', target: 'team-a/app' });
    assert.equal((await evaluate(`${HOST}/team-a/app:v1`)).allowed, true, 'the repository policy has no rule, and replaces the namespace one');
    const db = await evaluate(`${HOST}/team-a/db:v1`);
    assert.deepEqual([db.allowed, db.policy?.scope], [true, 'namespace']);
    const web = await evaluate(`${HOST}/team-b/web:v1`);
    assert.deepEqual([web.allowed, web.policy?.scope], [true, 'account']);
    const x = await evaluate(`${HOST}/team-c/x:v1`);
    assert.deepEqual([x.allowed, x.policy?.scope, rules(x)], [false, 'account', ['namespaces']]);
    // Another account has no policy of its own: the cluster default decides for it.
    const other = await evaluate(`${HOST}/team-c/x:v1`, false, 2);
    assert.deepEqual([other.policy?.scope, rules(other)], ['cluster', ['requireDigest']]);
  });

  it('namespaces: a repository outside the allowed ones is denied, naming them', async () => {
    const { policies, facts, evaluate } = setup();
    facts.add('team-z/app', 'v1', digestOf(1)).add('team-a/app', 'v1', digestOf(2));
    policies.set('account', '', { namespaces: ['team-a', 'team-b/*'] });
    const d = await evaluate(`${HOST}/team-z/app:v1`);
    assert.deepEqual(rules(d), ['namespaces']);
    assert.match(d.failures[0]!.message, /repository team-z\/app is not among the allowed team-a, team-b\/\*/);
    assert.equal((await evaluate(`${HOST}/team-a/app:v1`)).allowed, true);
  });

  it('registries: another registry\'s image is judged by the cluster default\'s allow list only', async () => {
    const { policies, evaluate } = setup();
    policies.set('account', '', {});
    const none = await evaluate('nginx:1.27');
    assert.deepEqual(rules(none), ['registries']);
    assert.match(none.failures[0]!.message, /images from docker\.io are not allowed: push the image to this registry, or ask the registry operator to allow the host \(wharf policy set --cluster --allow-registry docker\.io\)/);
    policies.set('cluster', '', { registries: ['docker.io', '*.gcr.io'], requireDigest: true });
    const tagged = await evaluate('docker.io/library/nginx:1.27');
    assert.deepEqual(rules(tagged), ['requireDigest']);
    const pinned = await evaluate(`nginx@${digestOf(9)}`);
    assert.deepEqual([pinned.allowed, pinned.pinned], [true, undefined], 'another registry\'s images are never pinned: Wharf cannot resolve them');
    assert.equal((await evaluate(`eu.gcr.io/proj/app@${digestOf(9)}`)).allowed, true);
    assert.deepEqual(rules(await evaluate(`quay.io/proj/app@${digestOf(9)}`)), ['registries']);
  });

  it('an image the principal cannot read (or that does not exist) is denied alike, and no other rule is asked', async () => {
    const { policies, signatures, evaluate } = setup();
    policies.set('account', '', { signedBy: ['ci'], vulnerabilities: { maxSeverity: 'none' } });
    const d = await evaluate(`${HOST}/team-a/ghost:v1`);
    assert.deepEqual(rules(d), ['image']);
    assert.match(d.failures[0]!.message, /team-a\/ghost:v1 is not in this registry, or the cluster's service ID may not read it: push it, or give the service ID the Reader role on namespace team-a/);
    assert.equal(signatures.asked.length, 0);
  });

  it('requireDigest: a tag is denied when validating, holds when the mutating webhook pins it', async () => {
    const { policies, facts, evaluate } = setup();
    facts.add('team-a/app', 'v1', digestOf(1));
    policies.set('account', '', { requireDigest: true });
    const tag = await evaluate(`${HOST}/team-a/app:v1`);
    assert.deepEqual(rules(tag), ['requireDigest']);
    assert.match(tag.failures[0]!.message, new RegExp(`write ${HOST}/team-a/app@${digestOf(1)}`));
    const pinning = await evaluate(`${HOST}/team-a/app:v1`, true);
    assert.deepEqual([pinning.allowed, pinning.pinned], [true, `${HOST}/team-a/app:v1@${digestOf(1)}`]);
    const byDigest = await evaluate(`${HOST}/team-a/app@${digestOf(1)}`);
    assert.deepEqual([byDigest.allowed, byDigest.pinned, byDigest.digest], [true, undefined, digestOf(1)]);
    // Both: the digest is what runs, so the digest is judged (the tag may have moved since).
    facts.add('team-a/app', 'v2', digestOf(2));
    assert.equal((await evaluate(`${HOST}/team-a/app:v2@${digestOf(1)}`)).digest, digestOf(1));
  });

  it('signedBy: only a verified signature by a named key admits; the message says what was found', async () => {
    const { policies, facts, signatures, evaluate } = setup();
    facts.add('team-a/app', 'v1', digestOf(1));
    policies.set('account', '', { signedBy: ['ci-key', 'release-key'] });
    const unsigned = await evaluate(`${HOST}/team-a/app:v1`);
    assert.deepEqual(rules(unsigned), ['signedBy']);
    assert.match(unsigned.failures[0]!.message, /no signature verifies with one of the keys ci-key, release-key \(the image has no signature\): sign the image/);
    assert.deepEqual(signatures.asked.at(-1), { accountId: 1, repository: 'team-a/app', digest: digestOf(1) });

    signatures.verdictsByDigest.set(digestOf(1), [{ format: 'cosign', key: 'someone-else', verified: true }]);
    assert.match((await evaluate(`${HOST}/team-a/app:v1`)).failures[0]!.message, /cosign signature by key someone-else, which this policy does not name/);
    signatures.verdictsByDigest.set(digestOf(1), [{ format: 'simple-signing', key: null, verified: false, reason: 'signed by an unknown key' }]);
    assert.match((await evaluate(`${HOST}/team-a/app:v1`)).failures[0]!.message, /simple-signing signature that does not verify \(signed by an unknown key\)/);
    signatures.verdictsByDigest.set(digestOf(1), [{ format: 'notation', key: 'ci-key', verified: false, reason: 'the signature does not match' }]);
    assert.equal((await evaluate(`${HOST}/team-a/app:v1`)).allowed, false, 'a tampered signature by the right key does not count');

    // A signature added after a denial makes the next evaluation pass.
    signatures.verdictsByDigest.set(digestOf(1), [{ format: 'notation', key: 'ci-key', verified: false }, { format: 'simple-signing', key: 'release-key', verified: true, signer: 'ci@example.com' }]);
    assert.equal((await evaluate(`${HOST}/team-a/app:v1`)).allowed, true);
  });

  it('vulnerabilities: open issues above the limit deny, exempted ones do not', async () => {
    const { policies, facts, evaluate } = setup();
    facts.add('team-a/app', 'v1', digestOf(1), {
      status: '2 Issues', scannedAt: daysAgo(1), issues: [
        { id: 'CVE-2024-0001', severity: 'HIGH', exempt: false, what: 'openssl 3.0.1' },
        { id: 'CVE-2024-0002', severity: 'LOW', exempt: false, what: 'zlib 1.2' },
        { id: 'CVE-2024-0003', severity: 'CRITICAL', exempt: true, what: 'curl 7' },
      ],
    });
    policies.set('repository', 'team-a/app', { vulnerabilities: { maxSeverity: 'medium' } });
    const d = await evaluate(`${HOST}/team-a/app:v1`);
    assert.deepEqual(rules(d), ['vulnerabilities']);
    assert.match(d.failures[0]!.message, /the image has 1 open issue where the policy allows no open issue above medium: CVE-2024-0001 \(high, openssl 3\.0\.1\); fix them \(wharf va <image> lists the fixes\) or have a Manager exempt them \(wharf exemption add\)/);
    policies.policies.length = 0;
    policies.set('repository', 'team-a/app', { vulnerabilities: { maxSeverity: 'high' } });
    assert.equal((await evaluate(`${HOST}/team-a/app:v1`)).allowed, true, 'the critical issue is exempt');
    policies.policies.length = 0;
    policies.set('repository', 'team-a/app', { vulnerabilities: { maxSeverity: 'none' } });
    assert.match((await evaluate(`${HOST}/team-a/app:v1`)).failures[0]!.message, /2 open issues where the policy allows no open issue:/);
  });

  it('vulnerabilities: not yet scanned, failed, unsupported OS and a stale scan each deny with what to do', async () => {
    const { policies, facts, evaluate } = setup();
    policies.set('account', '', { vulnerabilities: { maxSeverity: 'critical', maxScanAgeDays: 7 } });
    const cases: Array<[string, string | null, RegExp]> = [
      ['Scanning', null, /has not been scanned by the Vulnerability Advisor yet: wait for the scan/],
      ['Not scanned', null, /has not been scanned/],
      ['Scan failed', daysAgo(0), /could not scan the image: see wharf va/],
      ['Unsupported OS', daysAgo(0), /does not cover the OS of the image.*vulnerabilities\.allowUnsupportedOs/],
      ['No Issues', daysAgo(30), /was last scanned 30 days ago; the policy wants a scan at most 7 days old/],
      ['Not scannable', daysAgo(0), /is an artifact, not a container image/],
    ];
    for (const [i, [status, scannedAt, message]] of cases.entries()) {
      facts.add('team-a/app', `t${i}`, digestOf(10 + i), { status, scannedAt, issues: [] });
      const d = await evaluate(`${HOST}/team-a/app:t${i}`);
      assert.deepEqual(rules(d), ['vulnerabilities'], status);
      assert.match(d.failures[0]!.message, message);
    }
    facts.add('team-a/app', 'fresh', digestOf(30), { status: 'No Issues', scannedAt: daysAgo(6), issues: [] });
    assert.equal((await evaluate(`${HOST}/team-a/app:fresh`)).allowed, true);
    policies.policies.length = 0;
    policies.set('account', '', { vulnerabilities: { maxSeverity: 'critical', allowUnsupportedOs: true } });
    assert.equal((await evaluate(`${HOST}/team-a/app:t3`)).allowed, true);
  });

  it('an index is as good as its worst platform image', async () => {
    const { policies, facts, evaluate } = setup();
    facts.reports.set(digestOf(2), { status: 'No Issues', scannedAt: daysAgo(0), issues: [] });
    facts.reports.set(digestOf(3), { status: '1 Issue', scannedAt: daysAgo(0), issues: [{ id: 'CVE-2024-9', severity: 'HIGH', exempt: false, what: 'glibc' }] });
    facts.add('team-a/multi', 'v1', digestOf(1), { status: 'Not scannable', scannedAt: null, issues: [] }, [digestOf(2), digestOf(3)]);
    policies.set('account', '', { vulnerabilities: { maxSeverity: 'low' } });
    const d = await evaluate(`${HOST}/team-a/multi:v1`);
    assert.deepEqual(rules(d), ['vulnerabilities']);
    assert.match(d.failures[0]!.message, new RegExp(`platform image ${digestOf(3)} has 1 open issue`));
    assert.equal(d.digest, digestOf(1), 'the index is what is pinned');
  });

  it('reports every failed rule at once, in one line naming the policy', async () => {
    const { policies, facts, evaluate } = setup();
    facts.add('team-x/app', 'v1', digestOf(1), { status: 'Scanning', scannedAt: null, issues: [] });
    policies.set('namespace', 'team-x', { namespaces: ['team-a'], signedBy: ['ci'], vulnerabilities: { maxSeverity: 'none' }, requireDigest: true });
    const d = await evaluate(`${HOST}/team-x/app:v1`);
    assert.deepEqual(rules(d), ['namespaces', 'requireDigest', 'signedBy', 'vulnerabilities']);
    assert.match(describeDenial(d), /^image registry\.example\.com\/team-x\/app:v1 is denied by the policy of namespace team-x: \[namespaces\] .*; \[requireDigest\] .*; \[signedBy\] .*; \[vulnerabilities\] /);
  });

  it('a malformed reference is denied as such', async () => {
    const { evaluate } = setup();
    const d = await evaluate(`${HOST}/Team/App:v1`);
    assert.deepEqual(rules(d), ['reference']);
    assert.match(d.failures[0]!.message, /fix the image field/);
  });
});
