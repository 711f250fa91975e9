import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { findNamespace } from '../../src/metadata/namespaces.js';
import { engines, startTestServer, type TestServer } from '../support/server.js';
import {
  api, asClient, basic, digestOf, fetchToken, jwtPayload, OCI_MANIFEST, send, setUpTenants,
  type Creds, type RequestSpec, type Tenants,
} from '../support/iam.js';

/**
 * What the /v2/ gate answers when the namespace is missing, taken or visible (hardening issue #11,
 * items 7, 8 and 23):
 * - missing versus forbidden: a caller who could create the namespace gets the spec's answers for a
 *   repository that does not exist (as the conformance suite expects before its first push), and gets
 *   exactly the same for another tenant's namespace; callers who could not create it stay refused alike;
 * - a free namespace is created by the request that starts a push, under the rules of POST /namespaces,
 *   and a refused creation says which rule the name breaks; a token or a look at the name creates nothing;
 * - a refusal in a namespace the caller can see says which right is missing for which repository.
 */

const FREE = 'ns-that-does-not-exist';

interface ErrorBody { errors: Array<{ code: string; message: string; detail: unknown }> }

interface Snapshot { status: number; headers: Record<string, string>; body: string }

/** Status, every header but Date, and the body, with `from` replaced by a placeholder. */
async function snapshot(res: Response, from: string): Promise<Snapshot> {
  const headers: Record<string, string> = {};
  res.headers.forEach((value, name) => { if (name !== 'date') headers[name] = value.split(from).join('<ns>'); });
  return { status: res.status, headers, body: (await res.text()).split(from).join('<ns>') };
}

async function errorOf(res: Response): Promise<ErrorBody['errors'][number]> {
  const body = await res.json() as ErrorBody;
  assert.equal(body.errors.length, 1, JSON.stringify(body));
  return body.errors[0]!;
}

for (const engine of engines()) {
  describe(`the /v2/ gate: missing, forbidden, created [${engine}]`, () => {
    let server: TestServer;
    let fx: Tenants;
    /** A user of account A with Reader on the repository teama/app only. */
    let appReader: Creds;
    const missingBlob = digestOf(randomBytes(32));

    before(async () => {
      server = await startTestServer(engine, { auth: { enabled: true, maxFailedLogins: 10_000 } });
      fx = await setUpTenants(server);
      const user = await server.iam.service.createUser(fx.adminCaller, 'appreader', 'appreader-password-0123');
      await server.iam.service.createPolicy(fx.adminCaller, { subject: `user:${user.id}`, role: 'reader', namespace: 'teama', repository: 'app' });
      appReader = { username: 'appreader', password: 'appreader-password-0123' };
    });
    after(async () => { await server?.stop(); });

    const namespaceRow = (name: string) => findNamespace(server.metadata.db, name);

    /** The three requests the conformance suite makes before its first push. */
    function firstLooks(repo: string): Record<string, RequestSpec> {
      return {
        tags: { method: 'GET', path: `/v2/${repo}/tags/list` },
        blob: { method: 'GET', path: `/v2/${repo}/blobs/${missingBlob}` },
        referrers: { method: 'GET', path: `/v2/${repo}/referrers/${missingBlob}` },
      };
    }

    async function expectMissingAnswers(send1: (spec: RequestSpec) => Promise<Response>, repo: string, who: string): Promise<void> {
      const looks = firstLooks(repo);
      const tags = await send1(looks.tags!);
      assert.equal(tags.status, 404, `${who} tags`);
      assert.deepEqual(await errorOf(tags), { code: 'NAME_UNKNOWN', message: `repository ${repo} is not known to this registry`, detail: { name: repo } });
      const blob = await send1(looks.blob!);
      assert.equal(blob.status, 404, `${who} blob`);
      assert.equal((await errorOf(blob)).code, 'BLOB_UNKNOWN');
      const referrers = await send1(looks.referrers!);
      assert.equal(referrers.status, 200, `${who} referrers`);
      assert.equal(referrers.headers.get('content-type'), 'application/vnd.oci.image.index.v1+json');
      assert.deepEqual(await referrers.json(), { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] });
    }

    it('a Manager with a pull token for a namespace that does not exist gets 404 NAME_UNKNOWN, 404 BLOB_UNKNOWN and an empty referrers index', async () => {
      const repo = `${FREE}/app`;
      // The conformance suite's way: a token for the challenge's scope (pull), which carries no actions here.
      const token = await fetchToken(fx.base, fx.admin, [`repository:${repo}:pull`]);
      assert.deepEqual(jwtPayload(token).access, [{ type: 'repository', name: repo, actions: [] }]);
      await expectMissingAnswers((spec) => send(fx.base, spec, `Bearer ${token}`), repo, 'owner/token');
      await expectMissingAnswers((spec) => asClient(fx.base, fx.manager, spec), repo, 'manager/challenge');
      await expectMissingAnswers((spec) => send(fx.base, spec, basic(fx.manager)), repo, 'manager/basic');
      assert.equal(await namespaceRow(FREE), undefined, 'looking creates nothing');
    });

    it('those answers are the registry\'s own for a repository that does not exist, route by route', async () => {
      // teama exists, so teama/nothere is answered by the registry itself; teamx is free, answered by the gate.
      const requests = (ns: string): Record<string, RequestSpec> => {
        const repo = `${ns}/nothere`;
        const session = randomUUID();
        return {
          'GET tags': { method: 'GET', path: `/v2/${repo}/tags/list` },
          'HEAD tags': { method: 'HEAD', path: `/v2/${repo}/tags/list?n=0` },
          'GET tags bad n': { method: 'GET', path: `/v2/${repo}/tags/list?n=-1` },
          'GET manifest by tag': { method: 'GET', path: `/v2/${repo}/manifests/v1`, headers: { Accept: OCI_MANIFEST } },
          'HEAD manifest by digest': { method: 'HEAD', path: `/v2/${repo}/manifests/${fx.app.digest}` },
          'GET manifest bad tag': { method: 'GET', path: `/v2/${repo}/manifests/-bad-` },
          'GET manifest bad digest': { method: 'GET', path: `/v2/${repo}/manifests/sha256:abc` },
          'DELETE manifest': { method: 'DELETE', path: `/v2/${repo}/manifests/${fx.app.digest}` },
          'DELETE tag': { method: 'DELETE', path: `/v2/${repo}/manifests/v1` },
          'PATCH manifest (no such method)': { method: 'PATCH', path: `/v2/${repo}/manifests/v1` },
          'GET blob': { method: 'GET', path: `/v2/${repo}/blobs/${fx.app.layer}` },
          'GET blob range': { method: 'GET', path: `/v2/${repo}/blobs/${fx.app.layer}`, headers: { Range: 'bytes=0-9' } },
          'HEAD blob': { method: 'HEAD', path: `/v2/${repo}/blobs/${fx.app.layer}` },
          'GET blob bad digest': { method: 'GET', path: `/v2/${repo}/blobs/sha256:zz` },
          'DELETE blob': { method: 'DELETE', path: `/v2/${repo}/blobs/${fx.app.layer}` },
          'GET referrers': { method: 'GET', path: `/v2/${repo}/referrers/${fx.app.digest}` },
          'GET referrers filtered': { method: 'GET', path: `/v2/${repo}/referrers/${fx.app.digest}?artifactType=x%2Fy` },
          'GET referrers bad digest': { method: 'GET', path: `/v2/${repo}/referrers/nope` },
          'GET upload': { method: 'GET', path: `/v2/${repo}/blobs/uploads/${session}` },
          'PATCH upload': { method: 'PATCH', path: `/v2/${repo}/blobs/uploads/${session}`, headers: { 'Content-Type': 'application/octet-stream' }, body: 'x' },
          'PATCH upload bad range': { method: 'PATCH', path: `/v2/${repo}/blobs/uploads/${session}`, headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': 'x' }, body: 'x' },
          'PUT upload': { method: 'PUT', path: `/v2/${repo}/blobs/uploads/${session}?digest=${digestOf('x')}`, headers: { 'Content-Type': 'application/octet-stream' }, body: 'x' },
          'DELETE upload': { method: 'DELETE', path: `/v2/${repo}/blobs/uploads/${session}` },
          'POST upload with an id': { method: 'POST', path: `/v2/${repo}/blobs/uploads/${session}` },
        };
      };
      const differences: string[] = [];
      const own = requests('teama');
      const free = requests('teamx');
      for (const [route, spec] of Object.entries(own)) {
        const freeSpec = free[route]!;
        // The same session id on both sides, so the bodies can match.
        const id = /uploads\/([0-9a-f-]{36})/.exec(spec.path)?.[1];
        if (id) freeSpec.path = freeSpec.path.replace(/uploads\/[0-9a-f-]{36}/, `uploads/${id}`);
        const registry = await snapshot(await send(fx.base, spec, basic(fx.admin)), 'teama');
        const gate = await snapshot(await send(fx.base, freeSpec, basic(fx.admin)), 'teamx');
        if (registry.status < 400 && route !== 'GET referrers' && route !== 'GET referrers filtered') differences.push(`${route}: the registry served ${registry.status}`);
        try {
          assert.deepEqual(gate, registry);
        } catch {
          differences.push(`${route}:\n  registry: ${JSON.stringify(registry)}\n  gate:     ${JSON.stringify(gate)}`);
        }
      }
      assert.deepEqual(differences, []);
      assert.equal(await namespaceRow('teamx'), undefined, 'none of it created the namespace');
    });

    it('another tenant\'s Manager gets for A\'s namespace exactly the answers of a free name, and none of A\'s content', async () => {
      for (const [who, sender] of [
        ['bowner/challenge', (spec: RequestSpec) => asClient(fx.base, fx.bowner, spec)],
        ['bowner/basic', (spec: RequestSpec) => send(fx.base, spec, basic(fx.bowner))],
      ] as const) {
        // A's repository with content, and the same path in a free namespace of the same length.
        await expectMissingAnswers(sender, 'teama/app', who);
        for (const [route, spec] of Object.entries(firstLooks('teama/app'))) {
          const ofA = await snapshot(await sender({ ...spec, path: spec.path.replace(missingBlob, fx.app.layer) }), 'teama');
          const ofNone = await snapshot(await sender({ ...spec, path: spec.path.replace('teama', 'teamx').replace(missingBlob, fx.app.layer) }), 'teamx');
          assert.deepEqual(ofA, ofNone, `${who} ${route}`);
        }
      }
    });

    it('callers who could not create the namespace are refused alike for a free name and another tenant\'s', async () => {
      for (const [who, creds] of [['A\'s writer', fx.writer], ['B\'s writer', fx.bwriter]] as const) {
        for (const spec of Object.values(firstLooks(`${FREE}/app`))) {
          const res = await asClient(fx.base, creds, spec);
          assert.equal(res.status, 403, `${who} ${spec.path}`);
          assert.deepEqual(await errorOf(res), { code: 'DENIED', message: 'requested access to the resource is denied', detail: null });
        }
      }
    });

    it('a token for pull,push on a free name creates nothing, nor does looking; the first upload creates it in the Manager\'s account', async () => {
      const ns = 'fresh-by-token';
      const repo = `${ns}/app`;
      const token = await fetchToken(fx.base, fx.manager, [`repository:${repo}:pull,push`]);
      assert.deepEqual(jwtPayload(token).access, [{ type: 'repository', name: repo, actions: ['pull', 'push'] }]);
      assert.equal(await namespaceRow(ns), undefined, 'the token created nothing');
      // What clients do before uploading: look for the blob, ask about a session.
      const head = await send(fx.base, { method: 'HEAD', path: `/v2/${repo}/blobs/${missingBlob}` }, `Bearer ${token}`);
      assert.equal(head.status, 404);
      const status = await send(fx.base, { method: 'GET', path: `/v2/${repo}/blobs/uploads/${randomUUID()}` }, `Bearer ${token}`);
      assert.equal(status.status, 404);
      assert.equal((await errorOf(status)).code, 'BLOB_UPLOAD_UNKNOWN');
      assert.equal(await namespaceRow(ns), undefined, 'looking created nothing');
      // The push.
      const data = randomBytes(64);
      const upload = await send(fx.base, { method: 'POST', path: `/v2/${repo}/blobs/uploads/?digest=${digestOf(data)}`, headers: { 'Content-Type': 'application/octet-stream' }, body: data }, `Bearer ${token}`);
      assert.equal(upload.status, 201, await upload.text());
      assert.equal((await namespaceRow(ns))?.account_id, fx.ids.accountA);
      const blob = await send(fx.base, { method: 'HEAD', path: `/v2/${repo}/blobs/${digestOf(data)}` }, `Bearer ${token}`);
      assert.equal(blob.status, 200);
    });

    it('a Manager\'s first push follows the namespace rules of POST /namespaces, and a refusal names the rule', async () => {
      for (const ns of ['ab', 'x.y', 'team.a', 'a'.repeat(250)]) {
        const repo = `${ns}/app`;
        const api400 = await api(fx.base, 'POST', '/namespaces', basic(fx.manager), { name: ns });
        assert.equal(api400.status, 400, ns);
        // The API's body schema stops names over 200 characters before the rules; the rules' answer for the
        // first 200 (quoted to 60 characters either way) is the one for the whole name.
        const ruled = ns.length <= 200 ? api400 : await api(fx.base, 'POST', '/namespaces', basic(fx.manager), { name: ns.slice(0, 200) });
        assert.equal(ruled.status, 400, ns);
        const rule = (await ruled.json() as { detail: string }).detail;
        for (const [how, sender] of [
          ['challenge', (spec: RequestSpec) => asClient(fx.base, fx.manager, spec)],
          ['basic', (spec: RequestSpec) => send(fx.base, spec, basic(fx.manager))],
        ] as const) {
          for (const spec of [
            { method: 'POST', path: `/v2/${repo}/blobs/uploads/` },
            { method: 'PUT', path: `/v2/${repo}/manifests/v1`, headers: { 'Content-Type': OCI_MANIFEST }, body: fx.app.manifest },
          ]) {
            const res = await sender(spec);
            assert.equal(res.status, 400, `${ns.slice(0, 12)} ${how} ${spec.method}`);
            const error = await errorOf(res);
            assert.equal(error.code, 'NAME_INVALID');
            assert.ok(error.message.startsWith(`${rule}, so a push cannot create it:`), error.message);
            assert.deepEqual(error.detail, { name: repo, namespace: ns });
          }
        }
        // The token endpoint grants no push there: it could not create the namespace.
        assert.deepEqual(jwtPayload(await fetchToken(fx.base, fx.manager, [`repository:${repo}:pull,push`])).access, [{ type: 'repository', name: repo, actions: [] }]);
        assert.equal(await namespaceRow(ns), undefined, `${ns.slice(0, 12)} was not created`);
      }
      // A name the rules accept is created by a push, as POST /namespaces would create it.
      const fine = await asClient(fx.base, fx.manager, { method: 'POST', path: '/v2/a--b/app/blobs/uploads/' });
      assert.equal(fine.status, 202);
      assert.equal((await namespaceRow('a--b'))?.account_id, fx.ids.accountA);
      assert.equal((await api(fx.base, 'POST', '/namespaces', basic(fx.manager), { name: 'a--b' })).status, 409);
    });

    it('a refusal in a namespace the caller can see says which right is missing for which repository', async () => {
      const cases: Array<[string, Creds, RequestSpec, string, string[]]> = [
        ['reader push', fx.reader, { method: 'POST', path: '/v2/teama/app/blobs/uploads/' }, 'push access to repository teama/app is required; you have pull: ask a Manager of your account for the Writer role on it', ['pull']],
        ['reader delete', fx.reader, { method: 'DELETE', path: `/v2/teama/app/manifests/${fx.app.digest}` }, 'delete access to repository teama/app is required; you have pull: ask a Manager of your account for the Writer role on it', ['pull']],
        ['app reader pull elsewhere', appReader, { method: 'GET', path: '/v2/teama/base/tags/list' }, 'pull access to repository teama/base is required; you have no access to it: ask a Manager of your account for the Reader role on it', []],
      ];
      for (const [what, creds, spec, message, held] of cases) {
        for (const [how, res] of [['challenge', await asClient(fx.base, creds, spec)], ['basic', await send(fx.base, spec, basic(creds))]] as const) {
          assert.equal(res.status, 403, `${what} ${how}`);
          const required = spec.method === 'POST' ? 'push' : spec.method === 'DELETE' ? 'delete' : 'pull';
          assert.deepEqual(await errorOf(res), { code: 'DENIED', message, detail: { repository: spec.path.split('/').slice(2, 4).join('/'), required, held } }, `${what} ${how}`);
        }
      }
    });

    it('a refusal where the caller cannot see the namespace stays the generic one', async () => {
      const cases: Array<[string, Creds, RequestSpec]> = [
        ['B\'s writer pushing into A', fx.bwriter, { method: 'POST', path: '/v2/teama/app/blobs/uploads/' }],
        ['B\'s Manager pushing into A', fx.bowner, { method: 'POST', path: '/v2/teama/app/blobs/uploads/' }],
        ['A\'s writer pulling from B', fx.writer, { method: 'GET', path: '/v2/teamb/app/tags/list' }],
        ['A\'s writer pushing to a free name', fx.writer, { method: 'POST', path: `/v2/${FREE}/app/blobs/uploads/` }],
        ['A\'s user without a policy on teama', { username: 'victim', password: 'victim-password-0123' }, { method: 'GET', path: '/v2/teama/app/tags/list' }],
      ];
      for (const [what, creds, spec] of cases) {
        for (const [how, res] of [['challenge', await asClient(fx.base, creds, spec)], ['basic', await send(fx.base, spec, basic(creds))]] as const) {
          assert.equal(res.status, 403, `${what} ${how}`);
          assert.deepEqual(await errorOf(res), { code: 'DENIED', message: 'requested access to the resource is denied', detail: null }, `${what} ${how}`);
        }
      }
      assert.equal(await namespaceRow(FREE), undefined);
    });
  });
}
