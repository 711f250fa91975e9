import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import jsonpatch from 'fast-json-patch';
import { admissionResponse, AdmissionReviewError, parseAdmissionReview } from '../../src/enforcement/admission-review.js';
import { decideAdmission, type AdmissionSettings } from '../../src/enforcement/admission.js';
import { PolicyEvaluator } from '../../src/enforcement/evaluate.js';
import { admissionReview, workload, WORKLOAD_KINDS, type PodSpecInput } from '../support/admission.js';
import { digestOf, HOST, MemoryFacts, MemoryPolicies, MemorySignatures } from '../support/enforcement.js';

const SETTINGS: AdmissionSettings = { evaluationTimeoutMs: 5000, failOpen: false };

function setup() {
  const policies = new MemoryPolicies();
  const facts = new MemoryFacts();
  const signatures = new MemorySignatures();
  const evaluator = new PolicyEvaluator({ policies, facts, signatures, now: () => Date.now() });
  facts.add('team-a/app', 'v1', digestOf(1)).add('team-a/init', 'v1', digestOf(2)).add('team-a/debug', 'v1', digestOf(3)).add('team-a/unsigned', 'v1', digestOf(4));
  for (const d of [1, 2, 3]) signatures.verdictsByDigest.set(digestOf(d), [{ format: 'cosign', key: 'ci', verified: true }]);
  policies.set('namespace', 'team-a', { signedBy: ['ci'], requireDigest: true });
  const decide = (review: unknown, mode: 'validate' | 'mutate', settings = SETTINGS) =>
    decideAdmission(parseAdmissionReview(review), evaluator, { accountId: 1, registryHosts: new Set([HOST]), pinning: mode === 'mutate' }, settings);
  return { policies, facts, signatures, decide };
}

const SPEC: PodSpecInput = {
  initContainers: [{ name: 'migrate', image: `${HOST}/team-a/init:v1` }],
  containers: [{ name: 'web', image: `${HOST}/team-a/app:v1` }, { name: 'pinned', image: `${HOST}/team-a/app@${digestOf(1)}` }],
  ephemeralContainers: [{ name: 'debugger', image: `${HOST}/team-a/debug:v1` }],
};

/** Every image of the pod spec inside `object`, wherever the kind keeps it. */
function imagesOf(object: unknown): string[] {
  const found: string[] = [];
  const walk = (node: unknown, key?: string): void => {
    if (Array.isArray(node)) node.forEach((n) => walk(n));
    else if (node && typeof node === 'object') for (const [k, v] of Object.entries(node)) walk(v, k);
    else if (key === 'image' && typeof node === 'string') found.push(node);
  };
  walk(object);
  return found;
}

describe('admission reviews', () => {
  for (const kind of WORKLOAD_KINDS) {
    it(`${kind}: mutate pins every tag of the pod spec (init, regular, ephemeral) to the checked digest; the patched object then validates`, async () => {
      const { decide } = setup();
      const object = workload(kind, SPEC);
      const review = admissionReview(kind, object);
      const mutated = await decide(review, 'mutate');
      assert.equal(mutated.allowed, true, mutated.message);
      const response = admissionResponse((review.request.uid as string), { allowed: true, patch: mutated.patch }).response as { uid: string; patchType: string; patch: string };
      assert.equal(response.uid, review.request.uid);
      assert.equal(response.patchType, 'JSONPatch');
      const patch = JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8')) as jsonpatch.Operation[];
      assert.equal(jsonpatch.validate(patch, object), undefined, 'a valid RFC 6902 patch of this object');
      const patched = jsonpatch.applyPatch(structuredClone(object), patch).newDocument;
      assert.deepEqual(imagesOf(patched), [
        `${HOST}/team-a/init:v1@${digestOf(2)}`, `${HOST}/team-a/app:v1@${digestOf(1)}`, `${HOST}/team-a/app@${digestOf(1)}`, `${HOST}/team-a/debug:v1@${digestOf(3)}`,
      ]);
      const validated = await decide(admissionReview(kind, patched), 'validate');
      assert.equal(validated.allowed, true, validated.message);
      assert.deepEqual(validated.patch, [], 'validation never patches');
    });

    it(`${kind}: validate denies a tag (requireDigest) and an unsigned image, naming container, image and rule`, async () => {
      const { decide } = setup();
      const object = workload(kind, { ...SPEC, containers: [{ name: 'web', image: `${HOST}/team-a/app:v1` }, { name: 'sidecar', image: `${HOST}/team-a/unsigned@${digestOf(4)}` }] });
      const outcome = await decide(admissionReview(kind, object), 'validate');
      assert.equal(outcome.allowed, false);
      const lines = outcome.message!.split('\n');
      assert.deepEqual(lines.map((l) => l.split(':')[0]), ['init container "migrate"', 'container "web"', 'container "sidecar"', 'ephemeral container "debugger"']);
      assert.match(lines[1]!, new RegExp(`^container "web": image ${HOST}/team-a/app:v1 is denied by the policy of namespace team-a: \\[requireDigest\\] images must be named by digest: write ${HOST}/team-a/app@${digestOf(1)}$`));
      assert.match(lines[2]!, /^container "sidecar": image .*team-a\/unsigned@sha256:0+4 is denied by the policy of namespace team-a: \[signedBy\] no signature verifies with key ci \(the image has no signature\): sign the image with key ci/);
    });
  }

  it('the response echoes the uid, says 403 with the message on denial and carries no patch then', () => {
    const denied = admissionResponse('705ab4f5-6393-11e8-b7cc-42010a800002', { allowed: false, message: 'container "web": no', patch: [{ op: 'replace', path: '/spec/containers/0/image', value: 'x' }] });
    assert.deepEqual(denied, {
      apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
      response: { uid: '705ab4f5-6393-11e8-b7cc-42010a800002', allowed: false, status: { code: 403, reason: 'Forbidden', message: 'container "web": no' } },
    });
    assert.deepEqual(admissionResponse('u', { allowed: true, patch: [] }), { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'u', allowed: true } });
  });

  it('an UPDATE judges only the images it changes; DELETE has nothing to judge', async () => {
    const { decide } = setup();
    const old = workload('Deployment', { containers: [{ name: 'web', image: `${HOST}/team-a/unsigned@${digestOf(4)}` }] });
    const relabelled = structuredClone(old);
    (relabelled.metadata as { labels: Record<string, string> }).labels.tier = 'front';
    assert.equal((await decide(admissionReview('Deployment', relabelled, { operation: 'UPDATE', oldObject: old }), 'validate')).allowed, true, 'an admitted workload can still be relabelled');
    const changed = workload('Deployment', { containers: [{ name: 'web', image: `${HOST}/team-a/unsigned:v1` }] });
    assert.equal((await decide(admissionReview('Deployment', changed, { operation: 'UPDATE', oldObject: old }), 'validate')).allowed, false);
    // kubectl debug: an UPDATE of pods/ephemeralcontainers adding a container.
    const pod = workload('Pod', { containers: [{ name: 'web', image: `${HOST}/team-a/app@${digestOf(1)}` }] });
    const debugged = workload('Pod', { containers: [{ name: 'web', image: `${HOST}/team-a/app@${digestOf(1)}` }], ephemeralContainers: [{ name: 'shell', image: 'busybox' }] });
    const outcome = await decide(admissionReview('Pod', debugged, { operation: 'UPDATE', oldObject: pod, subResource: 'ephemeralcontainers' }), 'validate');
    assert.equal(outcome.allowed, false);
    assert.match(outcome.message!, /^ephemeral container "shell": image busybox is denied: \[registries\] images from docker\.io are not allowed/);
    assert.equal((await decide(admissionReview('Pod', null, { operation: 'DELETE', oldObject: pod }), 'validate')).allowed, true);
  });

  it('fails closed when the registry cannot decide in time, or open with a warning when configured', async () => {
    const { facts, decide } = setup();
    facts.resolveDelayMs = 300;
    const review = admissionReview('Pod', workload('Pod', { containers: [{ name: 'web', image: `${HOST}/team-a/app@${digestOf(1)}` }] }));
    const closed = await decide(review, 'validate', { evaluationTimeoutMs: 20, failOpen: false });
    assert.equal(closed.allowed, false);
    assert.match(closed.message!, /could not evaluate the image policy within 0\.02 s \(enforcement\.evaluationTimeout\): deploy again in a moment/);
    const open = await decide(review, 'validate', { evaluationTimeoutMs: 20, failOpen: true });
    assert.deepEqual([open.allowed, open.warnings.length], [true, 1]);
    assert.match(open.warnings[0]!, /admitted unchecked because enforcement\.failOpen is true/);
  });

  it('an evaluation error is no admission: denied, the error kept for the log', async () => {
    const { facts, decide } = setup();
    facts.resolve = async () => { throw new Error('database is down'); };
    const outcome = await decide(admissionReview('Pod', workload('Pod', { containers: [{ name: 'web', image: `${HOST}/team-a/app:v1` }] })), 'mutate');
    assert.equal(outcome.allowed, false);
    assert.equal(outcome.error?.message, 'database is down');
    assert.doesNotMatch(outcome.message!, /database is down/, 'internals stay in the log');
  });

  it('refuses reviews the API server could not have sent, saying what is missing', () => {
    const bad: Array<[unknown, RegExp]> = [
      [null, /not an AdmissionReview/],
      [{ apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: {} }, /admissionReviewVersions: \["v1"\]/],
      [{ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }, /no request object/],
      [{ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { kind: { kind: 'Pod' }, operation: 'CREATE' } }, /no uid/],
      [{ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u', operation: 'CREATE' } }, /no kind/],
    ];
    for (const [body, message] of bad) assert.throws(() => parseAdmissionReview(body), (err: unknown) => err instanceof AdmissionReviewError && message.test(err.message));
  });

  it('a well-formed review of an object without a pod spec, or of a kind without one, is denied with the reason', async () => {
    const { decide } = setup();
    const review = admissionReview('Deployment', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: {} });
    const outcome = await decide(review, 'validate');
    assert.deepEqual([outcome.allowed, outcome.message], [false, 'the Deployment has no pod spec at .spec.template.spec']);
    const service = admissionReview('Pod', { kind: 'Service' });
    (service.request.kind as { kind: string }).kind = 'Service';
    assert.match((await decide(service, 'validate')).message!, /does not know where a Service keeps its containers: limit the webhook's rules to Pod, Deployment/);
  });
});
