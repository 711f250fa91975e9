import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import jsonpatch from 'fast-json-patch';
import { Validator } from '@seriousme/openapi-schema-validator';
import { engines, startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from '../support/server.js';
import { api, apiJson, basic, send, setUpTenants, type Creds, type Tenants } from '../support/iam.js';
import { tarOf } from '../support/scanner-layers.js';
import { pushLayerImage } from '../support/layer-image.js';
import { admissionReview, workload, WORKLOAD_KINDS } from '../support/admission.js';
import { startReceiver } from '../support/webhook-receiver.js';
import { eventually } from '../support/http.js';
import { cosignPayload, cosignSign, sigstoreTestKey, type SigstoreTestKey } from '../support/signatures.js';
import { Enforcement } from '../../src/enforcement/enforcement.js';
import type { SignatureVerdict } from '../../src/enforcement/ports.js';
import { listenForAdmission } from '../../src/http/admission/listener.js';
import { pino } from 'pino';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const fixture = (...p: string[]) => readFileSync(path.join(fixtures, ...p));
const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const enc = encodeURIComponent;

interface ReviewResponse { apiVersion: string; kind: string; response: { uid: string; allowed: boolean; status?: { code: number; message: string }; patchType?: string; patch?: string; warnings?: string[] } }

for (const engine of engines()) {
  describe(`deployment enforcement: admission webhook and image policies [${engine}]`, () => {
    let server: TestServer;
    let tenants: Tenants;
    let host: string;
    let cluster: Creds;
    const admin = basic({ username: 'admin', password: TEST_ADMIN_PASSWORD });
    const images: Record<string, string> = {};

    /** Pushes an image of one layer holding `files` as admin; returns its digest. */
    const pushImage = async (name: string, tag: string, files: Array<{ name: string; content: Buffer }>, config: Record<string, unknown>): Promise<string> =>
      pushLayerImage(server.url, admin, name, tag, gzipSync(await tarOf(files)), config);

    async function review(mode: 'validate' | 'mutate', body: unknown, authorization: string | null = basic(cluster)): Promise<Response> {
      return fetch(`${server.url}/admission/${mode}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...(authorization ? { Authorization: authorization } : {}) }, body: JSON.stringify(body) });
    }
    async function reviewed(mode: 'validate' | 'mutate', body: { request: Record<string, unknown> }, authorization?: string): Promise<ReviewResponse['response']> {
      const res = await review(mode, body, authorization);
      const text = await res.text();
      assert.equal(res.status, 200, text);
      const answer = JSON.parse(text) as ReviewResponse;
      assert.deepEqual([answer.apiVersion, answer.kind, answer.response.uid], ['admission.k8s.io/v1', 'AdmissionReview', body.request.uid]);
      return answer.response;
    }
    const pod = (image: string, name = 'web') => admissionReview('Pod', workload('Pod', { containers: [{ name, image }] }));
    const setPolicy = (where: string, policy: unknown, who = admin) => apiJson(server.url, 'PUT', `/policies/images/${where}`, who, policy);

    before(async () => {
      server = await startTestServer(engine, { auth: { enabled: true }, scanner: { pollInterval: '50ms' }, webhooks: { pollInterval: '100ms', retryBackoff: '50ms', allowPrivateNetworks: true } });
      host = new URL(server.url).host;
      tenants = await setUpTenants(server);
      // The cluster's credentials: a service ID that may read team A's images, and nothing more.
      const k8s = await server.iam.service.createServiceId(tenants.adminCaller, 'k8s-prod', 'admission webhook of the prod cluster');
      await server.iam.service.createPolicy(tenants.adminCaller, { subject: `service:${k8s.id}`, role: 'reader', namespace: 'teama' });
      cluster = { username: 'iamapikey', password: (await server.iam.service.createApiKey(tenants.adminCaller, 'kube-apiserver', k8s.id)).apiKey };
      await server.vulndb.import(path.join(fixtures, 'osv'));
      images.clean = await pushImage('teama/clean', 'v1', [{ name: 'app/node_modules/minimist/package.json', content: fixture('scanner', 'minimist-1.2.8.package.json') }], { User: 'app' });
      images.vulnerable = await pushImage('teama/vulnerable', 'v1', [{ name: 'app/node_modules/minimist/package.json', content: fixture('scanner', 'minimist-1.2.0.package.json') }], { User: 'app' });
      await server.jobs.drain();
    });
    after(async () => { await server.stop(); });

    it('scans really happened: the images carry the statuses the policies are judged on', async () => {
      const status = async (ref: string) => (await apiJson<{ status: string }>(server.url, 'GET', `/images/${enc(ref)}/report`, admin)).status;
      assert.equal(await status('teama/clean:v1'), 'No Issues');
      assert.match(await status('teama/vulnerable:v1'), /^\d+ Issues?$/);
    });

    it('without a policy an image is denied (fail closed), and the denial is audited', async () => {
      const body = pod(`${host}/teama/clean:v1`);
      const response = await reviewed('validate', body);
      assert.equal(response.allowed, false);
      assert.equal(response.status?.code, 403);
      assert.match(response.status!.message, new RegExp(`^container "web": image ${host}/teama/clean:v1 is denied: \\[policy\\] no image policy applies to teama/clean.*wharf policy set --namespace teama`));
      const { events } = await apiJson<{ events: Array<{ action: string; outcome: string; actor: string; resource: string; detail: { uid: string; image: string } }> }>(server.url, 'GET', '/audit?limit=20', admin);
      const denial = events.find((e) => e.action === 'image-policy.deny' && e.detail?.uid === body.request.uid);
      assert.ok(denial, 'a policy denial entry');
      assert.deepEqual([denial.outcome, denial.actor, denial.resource, denial.detail.image], ['deny', 'service k8s-prod', 'Pod shop/web, container web', `${host}/teama/clean:v1`]);
      // kubectl --dry-run=server: the same answer, and no side effect (sideEffects: NoneOnDryRun).
      const dry = admissionReview('Pod', workload('Pod', { containers: [{ name: 'web', image: `${host}/teama/clean:v1` }] }), { dryRun: true });
      assert.equal((await reviewed('validate', dry)).status?.message, response.status!.message);
      const after = await apiJson<{ events: Array<{ detail: { uid?: string } | null }> }>(server.url, 'GET', '/audit?limit=20', admin);
      assert.ok(!after.events.some((e) => e.detail?.uid === dry.request.uid), 'a dry run is not audited');
    });

    it('Vulnerability Advisor rule on every workload kind: the clean image is admitted and pinned, the vulnerable one denied until exempted', async () => {
      await setPolicy('namespaces/teama', { vulnerabilities: { maxSeverity: 'none', maxScanAgeDays: 1 }, requireDigest: true });
      for (const kind of WORKLOAD_KINDS) {
        const object = workload(kind, { initContainers: [{ name: 'init', image: `${host}/teama/clean:v1` }], containers: [{ name: 'app', image: `${host}/teama/clean:v1` }] });
        const mutated = await reviewed('mutate', admissionReview(kind, object));
        assert.equal(mutated.allowed, true, mutated.status?.message);
        assert.equal(mutated.patchType, 'JSONPatch');
        const patch = JSON.parse(Buffer.from(mutated.patch!, 'base64').toString('utf8')) as jsonpatch.Operation[];
        const patched = jsonpatch.applyPatch(structuredClone(object), patch, true).newDocument;
        assert.equal(JSON.stringify(patched).split(`${host}/teama/clean:v1@${images.clean}`).length - 1, 2, `${kind}: both containers pinned to the scanned digest`);
        const validated = await reviewed('validate', admissionReview(kind, patched));
        assert.equal(validated.allowed, true, `${kind}: ${validated.status?.message}`);
        // The tag as written is refused by validation: requireDigest.
        const unpinned = await reviewed('validate', admissionReview(kind, object));
        assert.match(unpinned.status!.message, new RegExp(`\\[requireDigest\\] images must be named by digest: write ${host}/teama/clean@${images.clean}`));

        const bad = workload(kind, { containers: [{ name: 'app', image: `${host}/teama/clean@${images.clean}` }, { name: 'worker', image: `${host}/teama/vulnerable@${images.vulnerable}` }] });
        const denied = await reviewed('validate', admissionReview(kind, bad));
        assert.equal(denied.allowed, false, kind);
        assert.match(denied.status!.message, new RegExp(`^container "worker": image ${host}/teama/vulnerable@${images.vulnerable} is denied by the policy of namespace teama: \\[vulnerabilities\\] the image has \\d+ open issues? where the policy allows no open issue: .*CVE-2021-44906.*wharf exemption add`), kind);
        assert.doesNotMatch(denied.status!.message, /container "app"/, 'only the failing container is named');
      }
      const report = await apiJson<{ vulnerabilities: Array<{ advisoryId: string; cves: string[] }>; configurationIssues: Array<{ checkId: string }> }>(server.url, 'GET', `/images/${enc('teama/vulnerable:v1')}/report`, admin);
      for (const id of [...new Set([...report.vulnerabilities.map((v) => v.cves[0] ?? v.advisoryId), ...report.configurationIssues.map((c) => c.checkId)])]) {
        await apiJson(server.url, 'POST', '/exemptions', admin, { issueId: id, scope: 'repository', namespace: 'teama', repository: 'vulnerable', reason: 'accepted for the test' });
      }
      const exempted = await reviewed('validate', pod(`${host}/teama/vulnerable@${images.vulnerable}`));
      assert.equal(exempted.allowed, true, `exemptions are honoured: ${exempted.status?.message}`);
      // Once their expiry has passed (moved in the database; the server's clock is the real one) they exempt nothing.
      const ids = (await server.metadata.db.selectFrom('exemptions').select('id').where('repository', '=', 'vulnerable').execute()).map((r) => r.id);
      await server.metadata.db.updateTable('exemptions').set({ expires_at: Date.now() - 1000 }).where('id', 'in', ids).execute();
      const lapsed = await reviewed('validate', pod(`${host}/teama/vulnerable@${images.vulnerable}`));
      assert.equal(lapsed.allowed, false, 'expired exemptions are not honoured');
      assert.match(lapsed.status!.message, /\[vulnerabilities\] the image has \d+ open issues?/);
      await server.metadata.db.updateTable('exemptions').set({ expires_at: null }).where('id', 'in', ids).execute();
    });

    it('namespaces rule and tenant isolation: another tenant\'s image is denied as unreadable, not as existing', async () => {
      await setPolicy('account', { namespaces: ['teama'] });
      await apiJson(server.url, 'DELETE', '/policies/images/namespaces/teama', admin, undefined, 204);
      const outside = await reviewed('validate', pod(`${host}/teamb/app:v1`));
      assert.match(outside.status!.message, /\[namespaces\] repository teamb\/app is not among the allowed teama: use an image from one of them; \[image\] teamb\/app:v1 is not in this registry, or the cluster's service ID may not read it/);
      const missing = await reviewed('validate', pod(`${host}/teamb/nothing:v1`));
      assert.equal(missing.status!.message.replaceAll('nothing', 'app'), outside.status!.message, 'an existing image of another tenant reads like a missing one');
      assert.equal((await reviewed('mutate', pod(`${host}/teama/clean:v1`))).allowed, true);
    });

    it('registries: images of other registries follow the cluster-wide default, which only the operator sets', async () => {
      const denied = await reviewed('validate', pod('nginx:1.27'));
      assert.match(denied.status!.message, /^container "web": image nginx:1\.27 is denied: \[registries\] images from docker\.io are not allowed/);
      const managerAuth = basic(tenants.manager);
      assert.equal((await api(server.url, 'PUT', '/policies/images/cluster', managerAuth, { registries: ['docker.io'] })).status, 403, 'an account Manager is not the operator');
      assert.equal((await api(server.url, 'PUT', '/policies/images/account', admin, { registries: ['docker.io'] })).status, 400, 'registries belong to the cluster default');
      await setPolicy('cluster', { registries: ['docker.io'] });
      assert.equal((await reviewed('validate', pod('nginx:1.27'))).allowed, true);
      assert.equal((await reviewed('validate', pod('quay.io/x/y:1'))).allowed, false);
      const mutated = await reviewed('mutate', pod('nginx:1.27'));
      assert.deepEqual([mutated.allowed, mutated.patch], [true, undefined], 'nothing to pin for another registry');
    });

    it('signedBy with real signatures: an image pushed and cosign-signed by a CI service ID is admitted and pinned; unsigned, signed by another key or tampered it is denied', async () => {
      // The CI pipeline: a service ID with Writer on teama and an API key, as a build system would hold.
      const ciId = await server.iam.service.createServiceId(tenants.adminCaller, 'ci-pipeline', 'builds and signs team A images');
      await server.iam.service.createPolicy(tenants.adminCaller, { subject: `service:${ciId.id}`, role: 'writer', namespace: 'teama' });
      const ci = basic({ username: 'iamapikey', password: (await server.iam.service.createApiKey(tenants.adminCaller, 'ci', ciId.id)).apiKey });
      const ciKey = sigstoreTestKey('ecdsa-p256');
      const stranger = sigstoreTestKey('ed25519');
      await apiJson(server.url, 'POST', '/trust/keys', admin, { name: 'ci-key', kind: 'sigstore', publicKey: ciKey.publicPem, namespace: 'teama' });

      const push = async (blob: Buffer) => {
        const res = await send(server.url, { method: 'POST', path: `/v2/teama/signed/blobs/uploads/?digest=${sha(blob)}`, headers: { 'Content-Type': 'application/octet-stream' }, body: blob }, ci);
        assert.equal(res.status, 201, await res.text());
      };
      const putManifest = async (reference: string, manifest: Buffer) => {
        const res = await send(server.url, { method: 'PUT', path: `/v2/teama/signed/manifests/${reference}`, headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' }, body: manifest }, ci);
        assert.equal(res.status, 201, await res.text());
      };
      // The image: one layer with a clean package, pushed by the CI service ID.
      const layer = gzipSync(await tarOf([{ name: 'app/node_modules/minimist/package.json', content: fixture('scanner', 'minimist-1.2.8.package.json') }]));
      const configBytes = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { User: 'app' }, rootfs: { type: 'layers', diff_ids: [] }, nonce: randomBytes(4).toString('hex') }));
      await push(configBytes);
      await push(layer);
      const manifest = Buffer.from(JSON.stringify({
        schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(configBytes), size: configBytes.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(layer), size: layer.length }],
      }));
      await putManifest('v1', manifest);
      const digest = sha(manifest);
      await server.jobs.drain();
      /** A cosign signature of the image under its sha256-<hex>.sig tag, as `cosign sign --key` stores it. */
      const sign = async (key: SigstoreTestKey, tamper = false) => {
        const payload = cosignPayload(digest, `${host}/teama/signed`);
        const signature = cosignSign(key, payload);
        const signed = tamper ? Buffer.from(payload.toString().replace('"optional":null', '"optional":{"tampered":true}')) : payload;
        assert.ok(!tamper || !signed.equals(payload), 'the tampered payload differs');
        await push(signed);
        const config = Buffer.from(JSON.stringify({ architecture: '', os: '', config: {}, rootfs: { type: 'layers', diff_ids: [sha(signed)] } }));
        await push(config);
        await putManifest(`${digest.replace(':', '-')}.sig`, Buffer.from(JSON.stringify({
          schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
          layers: [{ mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', digest: sha(signed), size: signed.length, annotations: { 'dev.cosignproject.cosign/signature': signature } }],
        })));
      };
      try {
        await setPolicy('repositories/teama%2Fsigned', { signedBy: ['ci-key'] });
        const byTag = pod(`${host}/teama/signed:v1`);
        assert.match((await reviewed('validate', byTag)).status!.message,
          /image .*teama\/signed:v1 is denied by the policy of repository teama\/signed: \[signedBy\] no signature verifies with key ci-key \(the image has no signature\)/);

        await sign(stranger);
        const byStranger = await reviewed('validate', byTag);
        assert.equal(byStranger.allowed, false);
        assert.match(byStranger.status!.message, /\[signedBy\] .*cosign signature .*(unknown key|does not verify)/);

        await sign(ciKey, true);
        const tampered = await reviewed('validate', byTag);
        assert.equal(tampered.allowed, false, 'a tampered payload under the trusted key does not verify');
        assert.match(tampered.status!.message, /\[signedBy\]/);

        await sign(ciKey);
        const mutated = await reviewed('mutate', byTag);
        assert.equal(mutated.allowed, true, mutated.status?.message);
        const patched = jsonpatch.applyPatch(structuredClone(byTag.request.object), JSON.parse(Buffer.from(mutated.patch!, 'base64').toString())).newDocument;
        assert.equal(JSON.stringify(patched).includes(`${host}/teama/signed:v1@${digest}`), true, 'the tag is pinned to the verified digest');
        assert.equal((await reviewed('validate', admissionReview('Pod', patched as Record<string, unknown>))).allowed, true, 'the pinned pod passes validation');
        // wharf policy check answers the same through the API.
        const check = await apiJson<{ allowed: boolean }>(server.url, 'POST', '/policies/images/check', admin, { image: `${host}/teama/signed:v1` }, 200);
        assert.equal(check.allowed, true);
      } finally {
        await api(server.url, 'DELETE', '/policies/images/repositories/teama%2Fsigned', admin);
        await api(server.url, 'DELETE', '/trust/keys/ci-key', admin);
      }
    });

    it('a denial is a policy.denied webhook event of the image\'s repository; a dry run sends none', async () => {
      const receiver = await startReceiver();
      const hook = await apiJson<{ id: number }>(server.url, 'POST', '/webhooks', admin, { url: receiver.url, namespace: 'teama', format: 'cloudevents', events: ['policy.denied'] });
      try {
        // signedBy a key nobody holds: earlier tests exempted the vulnerable image's issues.
        await setPolicy('namespaces/teama', { signedBy: ['release-key'] });
        const dryRun = admissionReview('Pod', workload('Pod', { containers: [{ name: 'web', image: `${host}/teama/vulnerable:v1` }] }), { dryRun: true });
        assert.equal((await reviewed('validate', dryRun)).allowed, false);
        assert.equal((await reviewed('validate', pod(`${host}/teama/vulnerable:v1`))).allowed, false);
        await eventually(async () => receiver.received.length >= 1, 'the policy.denied event', 60_000);
        const events = receiver.received.map((r) => r.json as { type: string; data: { repository: string; digest?: string; tag?: string; actor: string; detail: { policy: string; reason: string } } });
        assert.deepEqual(events.map((e) => [e.type, e.data.repository, e.data.digest, e.data.tag, e.data.actor, e.data.detail.policy]),
          [['io.wharf.registry.policy.denied', 'teama/vulnerable', images.vulnerable, 'v1', 'service k8s-prod', 'namespace teama']], 'one event, for the real review only');
        assert.match(events[0]!.data.detail.reason, /no signature verifies with key release-key/);
      } finally {
        await api(server.url, 'DELETE', `/webhooks/${hook.id}`, admin);
        await api(server.url, 'DELETE', '/policies/images/namespaces/teama', admin);
        await receiver.close();
      }
    });

    it('authenticates the API server: no credentials or a bad key is 401; the key works as Basic and as a bearer token', async () => {
      const body = pod(`${host}/teama/clean:v1`);
      const none = await review('validate', body, null);
      assert.equal(none.status, 401);
      assert.match(((await none.json()) as { message: string }).message, /give the API server a service ID's API key in its admission kubeconfig/);
      assert.equal((await review('validate', body, basic({ username: 'iamapikey', password: `${cluster.password.slice(0, -4)}AAAA` }))).status, 401);
      assert.equal((await reviewed('mutate', body, `Bearer ${cluster.password}`)).allowed, true);
    });

    it('malformed reviews get a 400 with a message; a DELETE is admitted', async () => {
      const notJson = await fetch(`${server.url}/admission/validate`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: basic(cluster) }, body: '{"apiVersion":' });
      assert.equal(notJson.status, 400);
      assert.match(((await notJson.json()) as { message: string }).message, /not an AdmissionReview in JSON/);
      const v1beta1 = await review('validate', { apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: { uid: 'x' } });
      assert.equal(v1beta1.status, 400);
      assert.match(((await v1beta1.json()) as { message: string }).message, /admissionReviewVersions: \["v1"\]/);
      const noUid = await review('validate', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { kind: { kind: 'Pod' }, operation: 'CREATE' } });
      assert.equal(noUid.status, 400);
      const object = workload('Pod', { containers: [{ name: 'web', image: 'anything' }] });
      assert.equal((await reviewed('validate', admissionReview('Pod', null, { operation: 'DELETE', oldObject: object }))).allowed, true);
    });

    it('policy API: who may read and change which policy; bad rules are refused with how to write them', async () => {
      const reader = basic(tenants.reader);
      const writer = basic(tenants.writer);
      const bowner = basic(tenants.bowner);
      const set = await apiJson<{ scope: string; target: string; policy: unknown; updatedBy: string }>(server.url, 'PUT', '/policies/images/namespaces/teama', admin, { vulnerabilities: { maxSeverity: 'High' } });
      assert.deepEqual([set.scope, set.target, set.policy, set.updatedBy], ['namespace', 'teama', { vulnerabilities: { maxSeverity: 'HIGH' } }, 'user admin']);
      assert.deepEqual((await apiJson<{ policy: unknown }>(server.url, 'GET', '/policies/images/namespaces/teama', reader)).policy, set.policy);
      assert.equal((await api(server.url, 'PUT', '/policies/images/namespaces/teama', writer, {})).status, 403, 'a Writer cannot change it');
      assert.equal((await api(server.url, 'GET', '/policies/images/namespaces/teama', bowner)).status, 404, 'another tenant does not see it');
      assert.equal((await api(server.url, 'PUT', '/policies/images/namespaces/teama', bowner, {})).status, 404);
      assert.equal((await api(server.url, 'PUT', '/policies/images/repositories/teama%2Fapp', writer, {})).status, 403);
      const bad = await api(server.url, 'PUT', '/policies/images/namespaces/teama', admin, { vulnerabilities: { maxSeverity: 'high', maxAge: 3 } });
      assert.equal(bad.status, 400);
      assert.match(((await bad.json()) as { detail: string }).detail, /unknown setting "maxAge": use maxSeverity, maxScanAgeDays, allowUnsupportedOs/);
      const listed = await apiJson<{ policies: Array<{ scope: string; target: string }> }>(server.url, 'GET', '/policies/images', reader);
      assert.deepEqual(listed.policies.map((p) => `${p.scope}:${p.target}`).sort(), ['account:', 'cluster:', 'namespace:teama']);
      assert.deepEqual((await apiJson<{ policies: unknown[] }>(server.url, 'GET', '/policies/images', bowner)).policies.map((p) => (p as { scope: string }).scope), ['cluster'], 'tenant B sees only the cluster default');
      // A Reader of one repository sees that repository's policy, not its neighbours'.
      const narrow = await server.iam.service.createUser(tenants.adminCaller, 'narrow', 'narrow-password-0123');
      await server.iam.service.createPolicy(tenants.adminCaller, { subject: `user:${narrow.id}`, role: 'reader', namespace: 'teama', repository: 'clean' });
      await setPolicy('repositories/teama%2Fapp', {});
      await setPolicy('repositories/teama%2Fclean', {});
      const narrowList = await apiJson<{ policies: Array<{ scope: string; target: string }> }>(server.url, 'GET', '/policies/images', basic({ username: 'narrow', password: 'narrow-password-0123' }));
      assert.deepEqual(narrowList.policies.map((p) => `${p.scope}:${p.target}`).sort(), ['account:', 'cluster:', 'namespace:teama', 'repository:teama/clean']);
      await apiJson(server.url, 'DELETE', '/policies/images/repositories/teama%2Fapp', admin, undefined, 204);
      await apiJson(server.url, 'DELETE', '/policies/images/repositories/teama%2Fclean', admin, undefined, 204);
      const none = await api(server.url, 'GET', '/policies/images/repositories/teama%2Fapp', admin);
      assert.equal(none.status, 404);
      assert.match(((await none.json()) as { detail: string }).detail, /repository teama\/app has no image policy: set one with wharf policy set --repository teama\/app/);
      const { events } = await apiJson<{ events: Array<{ action: string; resource: string }> }>(server.url, 'GET', '/audit?limit=50', admin);
      assert.ok(events.some((e) => e.action === 'image-policy.set' && e.resource === 'namespace teama'));
    });

    it('POST /policies/images/check answers what the webhook answers, with the same message', async () => {
      await setPolicy('namespaces/teama', { vulnerabilities: { maxSeverity: 'none' }, requireDigest: true });
      const image = `${host}/teama/clean:v1`;
      const check = await apiJson<{ allowed: boolean; message: string; digest: string; failures: Array<{ rule: string }> }>(server.url, 'POST', '/policies/images/check', admin, { image }, 200);
      assert.deepEqual([check.allowed, check.digest, check.failures.map((f) => f.rule)], [false, images.clean, ['requireDigest']]);
      const webhook = await reviewed('validate', pod(image));
      assert.equal(webhook.status!.message, `container "web": ${check.message}`);
      const ok = await apiJson<{ allowed: boolean; message: string }>(server.url, 'POST', '/policies/images/check', admin, { image: `${host}/teama/clean@${images.clean}` }, 200);
      assert.deepEqual([ok.allowed, ok.message], [true, `image ${host}/teama/clean@${images.clean} is allowed by namespace teama`]);
    });

    it('documents the image policy routes in the OpenAPI document, which still validates', async () => {
      const doc = await (await fetch(`${server.url}/api/v1/openapi.json`)).json() as { paths: Record<string, Record<string, unknown>> };
      const result = await new Validator().validate(doc as Parameters<Validator['validate']>[0]);
      assert.equal(result.valid, true, JSON.stringify(result.errors));
      for (const path of ['/api/v1/policies/images', '/api/v1/policies/images/cluster', '/api/v1/policies/images/account', '/api/v1/policies/images/namespaces/{name}', '/api/v1/policies/images/repositories/{repository}', '/api/v1/policies/images/check']) {
        assert.ok(path in doc.paths, `${path} documented`);
      }
      assert.deepEqual(Object.keys(doc.paths['/api/v1/policies/images/namespaces/{name}']!).sort(), ['delete', 'get', 'put']);
      assert.ok(!Object.keys(doc.paths).some((p) => p.startsWith('/admission')), 'the webhooks are not part of the management API');
    });

    it('signedBy through the signature port: denied unsigned, by another key or tampered; a signature added after the denial admits the next review', async () => {
      // The webhook as the server builds it, on this server's database, with a signature checker the
      // test controls, to reach every verdict shape (the test above goes through src/trust with real signatures).
      const verdicts = new Map<string, SignatureVerdict[]>();
      const asked: Array<[number, string, string]> = [];
      const enforcement = new Enforcement(server.metadata.db, { verdicts: async (accountId, repository, digest) => { asked.push([accountId, repository, digest]); return verdicts.get(digest) ?? []; } },
        { evaluationTimeoutMs: 8000, failOpen: false, registryHosts: [host], publicUrl: '' }, Date.now);
      const webhook = await listenForAdmission({ iam: server.iam, scanner: server.scanner, enforcement, now: Date.now, logger: pino({ level: 'silent' }), address: '127.0.0.1:0' });
      try {
        const address = webhook.server.address() as { port: number };
        const post = async () => {
          const res = await fetch(`http://127.0.0.1:${address.port}/admission/validate`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: basic(cluster) }, body: JSON.stringify(pod(`${host}/teama/clean@${images.clean}`)) });
          assert.equal(res.status, 200);
          return ((await res.json()) as ReviewResponse).response;
        };
        await setPolicy('repositories/teama%2Fclean', { signedBy: ['ci-key'] });
        assert.match((await post()).status!.message, /\[signedBy\] no signature verifies with key ci-key \(the image has no signature\)/);
        assert.deepEqual(asked.at(-1), [tenants.ids.accountA, 'teama/clean', images.clean], 'asked with the service ID\'s account, the repository and the digest');
        verdicts.set(images.clean!, [{ format: 'simple-signing', key: 'someone', verified: true, signer: 'eve@example.com' }]);
        assert.match((await post()).status!.message, /simple-signing signature by key someone \(eve@example\.com\), which this policy does not name/);
        verdicts.set(images.clean!, [{ format: 'cosign', key: null, verified: false, reason: 'the signature does not match the payload' }]);
        assert.match((await post()).status!.message, /cosign signature that does not verify \(the signature does not match the payload\)/);
        verdicts.set(images.clean!, [{ format: 'cosign', key: 'ci-key', verified: true }]);
        assert.equal((await post()).allowed, true, 'signed by the named key: admitted');
      } finally {
        await webhook.close();
        await api(server.url, 'DELETE', '/policies/images/repositories/teama%2Fclean', admin);
      }
    });
  });
}
