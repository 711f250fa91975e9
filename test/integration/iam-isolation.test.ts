import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { findNamespace } from '../../src/metadata/namespaces.js';
import { startServer, type WharfServer } from '../../src/server.js';
import { createTestDatabase, engines, TEST_ADMIN_PASSWORD, type EngineName } from '../support/server.js';
import {
  api, apiJson, asClient, basic, digestOf, fetchToken, jwtPayload, OCI_MANIFEST, PASSWORDS, pushBlob, send, setUpTenants, tokenResponse,
  type Creds, type RequestSpec, type Tenants,
} from '../support/iam.js';

/**
 * Tenant isolation (issue 5): account B, even as a Manager, cannot tell A's namespace `teama` from a
 * namespace that does not exist (`teamx`, same length, so even Content-Length cannot differ), by any
 * route; cannot reach A's blobs, manifests or uploads from its own repositories; never sees A's
 * names in listings. Public-pull namespaces open pulls to anonymous clients and nothing else. The
 * audit log is per account, and no secret reaches it or the server log.
 */

const A = 'teama';
const NONE = 'teamx';

interface Snapshot {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Status, every header but Date, and the body, with the given strings replaced by placeholders. */
async function snapshot(res: Response, replace: Record<string, string>): Promise<Snapshot> {
  const normalize = (text: string) => Object.entries(replace).reduce((t, [from, to]) => t.split(from).join(to), text);
  const headers: Record<string, string> = {};
  res.headers.forEach((value, name) => { if (name !== 'date') headers[name] = normalize(value); });
  return { status: res.status, headers, body: normalize(await res.text()) };
}

/** A server whose pino log goes to memory, so the test can read every line the server wrote. */
async function startLoggedServer(engine: EngineName): Promise<{ server: WharfServer; log: string[]; stop(): Promise<void> }> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'wharf-test-'));
  const database = engine === 'postgres' ? await createTestDatabase() : undefined;
  const config = loadConfig({
    env: {},
    overrides: {
      http: { host: '127.0.0.1', port: 0 },
      storage: { dataDir },
      database: { engine, url: database?.url ?? '' },
      log: { level: 'trace' },
      auth: { enabled: true, adminPassword: TEST_ADMIN_PASSWORD, maxFailedLogins: 10_000 },
    },
  });
  const log: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _encoding, done) { log.push(chunk.toString('utf8')); done(); } });
  const server = await startServer(config, pino({ level: 'trace' }, sink));
  return {
    server, log,
    async stop() {
      await server.close();
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The secret as it appears inside a Basic header's base64, whatever the length of the username before it. */
function base64Forms(secret: string): string[] {
  return [0, 1, 2].map((k) => Buffer.from('x'.repeat(k) + secret).toString('base64').slice(k === 0 ? 0 : 4, -4));
}

async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

interface AuditEvent { actor: string; action: string; resource: string; outcome: string; source: string; detail: unknown }

for (const engine of engines()) {
  describe(`tenant isolation [${engine}]`, () => {
    let server: WharfServer;
    let log: string[];
    let stop: () => Promise<void>;
    let fx: Tenants;
    /** An upload session of A's in teama/app. */
    let aSession: string;
    /** Every secret the suite handles; none may reach the audit log or the server log. */
    const secrets = new Set<string>();

    before(async () => {
      ({ server, log, stop } = await startLoggedServer(engine));
      fx = await setUpTenants(server);
      const start = await send(fx.base, { method: 'POST', path: '/v2/teama/app/blobs/uploads/' }, basic(fx.admin));
      assert.equal(start.status, 202);
      aSession = start.headers.get('docker-upload-uuid')!;
      for (const password of [TEST_ADMIN_PASSWORD, ...Object.values(PASSWORDS)]) secrets.add(password);
      secrets.add(fx.service.password);
    });
    after(async () => { await stop?.(); });

    /** The /v2/ requests of every route family, for a repository `<ns>/<path>`. */
    function v2Requests(ns: string, repoPath: string): Record<string, RequestSpec> {
      const repo = `${ns}/${repoPath}`;
      return {
        'GET tags': { method: 'GET', path: `/v2/${repo}/tags/list` },
        'HEAD tags': { method: 'HEAD', path: `/v2/${repo}/tags/list` },
        'GET tags paged': { method: 'GET', path: `/v2/${repo}/tags/list?n=1&last=a` },
        'GET manifest by tag': { method: 'GET', path: `/v2/${repo}/manifests/v1`, headers: { Accept: OCI_MANIFEST } },
        'HEAD manifest by tag': { method: 'HEAD', path: `/v2/${repo}/manifests/v1` },
        'GET manifest by digest': { method: 'GET', path: `/v2/${repo}/manifests/${fx.app.digest}` },
        'HEAD manifest by digest': { method: 'HEAD', path: `/v2/${repo}/manifests/${fx.app.digest}` },
        'GET manifest bad reference': { method: 'GET', path: `/v2/${repo}/manifests/-bad-` },
        'DELETE manifest': { method: 'DELETE', path: `/v2/${repo}/manifests/${fx.app.digest}` },
        'DELETE tag': { method: 'DELETE', path: `/v2/${repo}/manifests/v1` },
        'GET blob': { method: 'GET', path: `/v2/${repo}/blobs/${fx.app.layer}` },
        'GET blob range': { method: 'GET', path: `/v2/${repo}/blobs/${fx.app.layer}`, headers: { Range: 'bytes=0-9' } },
        'HEAD blob': { method: 'HEAD', path: `/v2/${repo}/blobs/${fx.app.layer}` },
        'DELETE blob': { method: 'DELETE', path: `/v2/${repo}/blobs/${fx.app.layer}` },
        'GET referrers': { method: 'GET', path: `/v2/${repo}/referrers/${fx.app.digest}` },
        'GET referrers filtered': { method: 'GET', path: `/v2/${repo}/referrers/${fx.app.digest}?artifactType=x%2Fy` },
      };
    }

    /** Push-family requests; a Manager could claim a free namespace name with these (see below). */
    function v2PushRequests(ns: string, repoPath: string): Record<string, RequestSpec> {
      const repo = `${ns}/${repoPath}`;
      const data = Buffer.from('isolation');
      return {
        'POST upload': { method: 'POST', path: `/v2/${repo}/blobs/uploads/` },
        'POST monolithic': { method: 'POST', path: `/v2/${repo}/blobs/uploads/?digest=${digestOf(data)}`, headers: { 'Content-Type': 'application/octet-stream' }, body: data },
        'POST mount': { method: 'POST', path: `/v2/${repo}/blobs/uploads/?mount=${fx.app.layer}&from=teama/app` },
        'PATCH upload': { method: 'PATCH', path: `/v2/${repo}/blobs/uploads/${aSession}`, headers: { 'Content-Type': 'application/octet-stream' }, body: data },
        'PUT upload': { method: 'PUT', path: `/v2/${repo}/blobs/uploads/${aSession}?digest=${digestOf(data)}`, headers: { 'Content-Type': 'application/octet-stream' }, body: data },
        'GET upload': { method: 'GET', path: `/v2/${repo}/blobs/uploads/${aSession}` },
        'DELETE upload': { method: 'DELETE', path: `/v2/${repo}/blobs/uploads/${aSession}` },
        'PUT manifest': { method: 'PUT', path: `/v2/${repo}/manifests/v2`, headers: { 'Content-Type': OCI_MANIFEST }, body: fx.app.manifest },
      };
    }

    type Sender = (spec: RequestSpec) => Promise<Response>;

    /**
     * `answer`: what A's namespace must answer. `refused` for callers who could not create a namespace;
     * `missing` for a Manager, who gets the spec's answers for a repository that does not exist (404, and
     * the empty referrers index), as for a free name.
     */
    async function compareEveryRoute(who: string, sender: Sender, requests: (ns: string, repoPath: string) => Record<string, RequestSpec>, answer: 'refused' | 'missing' = 'refused'): Promise<void> {
      const differences: string[] = [];
      for (const repoPath of ['app', 'nothere']) {
        const ofA = requests(A, repoPath);
        const ofNone = requests(NONE, repoPath);
        for (const [route, spec] of Object.entries(ofA)) {
          const a = await snapshot(await sender(spec), { [A]: '<ns>' });
          const none = await snapshot(await sender(ofNone[route]!), { [NONE]: '<ns>' });
          // Refused, or missing: never served (the equality with a free name below shows no content leaks).
          const expected = answer === 'refused' ? a.status >= 400 && a.status !== 404
            : a.status === 404 || (a.status === 200 && route.includes('referrers') && JSON.parse(a.body).manifests.length === 0);
          if (!expected) differences.push(`${who} ${route} ${repoPath}: A's namespace answered ${a.status}`);
          try {
            assert.deepEqual(a, none);
          } catch {
            differences.push(`${who} ${route} ${repoPath}:\n  A:    ${JSON.stringify(a)}\n  none: ${JSON.stringify(none)}`);
          }
        }
      }
      assert.deepEqual(differences, []);
    }

    it('B\'s Manager (token flow and Basic) gets identical answers for A\'s namespace and a missing one on every read and delete route', async () => {
      await compareEveryRoute('bowner/token', (spec) => asClient(fx.base, fx.bowner, spec), v2Requests, 'missing');
      await compareEveryRoute('bowner/basic', (spec) => send(fx.base, spec, basic(fx.bowner)), v2Requests, 'missing');
    });

    it('B\'s Writer and anonymous clients get identical answers on every route, pushes included', async () => {
      const all = (ns: string, repoPath: string) => ({ ...v2Requests(ns, repoPath), ...v2PushRequests(ns, repoPath) });
      await compareEveryRoute('bwriter/token', (spec) => asClient(fx.base, fx.bwriter, spec), all);
      await compareEveryRoute('bwriter/basic', (spec) => send(fx.base, spec, basic(fx.bwriter)), all);
      await compareEveryRoute('anonymous', (spec) => send(fx.base, spec), all);
    });

    it('B\'s Manager pushing into A\'s namespace is denied and changes nothing', async () => {
      for (const spec of Object.values(v2PushRequests(A, 'app'))) {
        const res = await asClient(fx.base, fx.bowner, spec);
        assert.equal(res.status, 403, `${spec.method} ${spec.path}`);
        assert.match(await res.text(), /"code":"DENIED"/);
      }
      // The session B aimed at is A's and still there; the image is untouched.
      const status = await send(fx.base, { method: 'GET', path: `/v2/teama/app/blobs/uploads/${aSession}` }, basic(fx.admin));
      assert.equal(status.status, 204);
      const tags = await apiTags(fx.admin, 'teama/app');
      assert.deepEqual(tags, ['v1']);
      // (A free name is different by nature: a Manager's first push claims it, and names are unique
      // registry-wide, so POST /api/v1/namespaces answers 409 for a taken name. Neither reveals content.)
    });

    async function apiTags(creds: Creds, repo: string): Promise<string[]> {
      const res = await send(fx.base, { method: 'GET', path: `/v2/${repo}/tags/list` }, basic(creds));
      assert.equal(res.status, 200);
      return (await res.json() as { tags: string[] }).tags;
    }

    it('the token endpoint grants B the same (nothing) for A\'s namespace and a missing one', async () => {
      for (const creds of [fx.bowner, fx.bwriter, undefined]) {
        // (push, and `*` which includes it, would let a Manager claim a free name: see above.)
        for (const actions of ['pull', 'delete', 'pull,delete']) {
          const grants = async (ns: string) => {
            const res = await tokenResponse(fx.base, creds, [`repository:${ns}/app:${actions}`]);
            const body = await res.json() as { token: string };
            const headers: Record<string, string> = {};
            res.headers.forEach((v, k) => { if (!['date', 'content-length'].includes(k)) headers[k] = v; });
            const claims = jwtPayload(body.token);
            return { status: res.status, headers, keys: Object.keys(body).sort(), sub: claims.sub, access: JSON.stringify(claims.access).split(ns).join('<ns>') };
          };
          const a = await grants(A);
          assert.deepEqual(a, await grants(NONE), `${creds?.username ?? 'anonymous'} ${actions}`);
          assert.equal(a.access, '[{"type":"repository","name":"<ns>/app","actions":[]}]');
        }
      }
    });

    it('the management API answers B\'s Manager the same for A\'s namespace and a missing one', async () => {
      const auth = basic(fx.bowner);
      const requests = (ns: string): Array<[string, string, unknown]> => [
        ['PATCH', `/namespaces/${ns}`, { publicPull: true }],
        ['PATCH', `/namespaces/${ns}`, { publicPull: false }],
        ['DELETE', `/namespaces/${ns}`, undefined],
        ['DELETE', `/namespaces/${ns}?force=true`, undefined],
        ['POST', '/iam/policies', { subject: `user:${fx.ids.bwriter}`, role: 'Reader', namespace: ns }],
        ['POST', '/iam/policies', { subject: `user:${fx.ids.bwriter}`, role: 'Writer', namespace: ns, repository: 'app' }],
      ];
      const ofA = requests(A);
      const ofNone = requests(NONE);
      for (let i = 0; i < ofA.length; i++) {
        const [method, p, body] = ofA[i]!;
        const a = await snapshot(await api(fx.base, method, p, auth, body), { [A]: '<ns>' });
        const none = await snapshot(await api(fx.base, ofNone[i]![0], ofNone[i]![1], auth, ofNone[i]![2]), { [NONE]: '<ns>' });
        assert.equal(a.status, 404, `${method} ${p}: ${a.body}`);
        assert.deepEqual(a, none, `${method} ${p}`);
      }
      // A's namespace is intact and still private.
      const row = await findNamespace(server.metadata.db, A);
      assert.equal(row?.public_pull, 0);
      assert.equal(row?.account_id, fx.ids.accountA);
    });

    it('from B\'s own repository, A\'s blob digest, manifest digest and upload session are unknown, like random ones', async () => {
      const randomDigest = digestOf(randomBytes(32));
      const auths: Array<[string, Sender]> = [
        ['bowner/token', (spec) => asClient(fx.base, fx.bowner, spec)],
        ['bowner/basic', (spec) => send(fx.base, spec, basic(fx.bowner))],
      ];
      for (const [who, sender] of auths) {
        for (const [digest, kind] of [[fx.app.layer, 'blobs'], [fx.app.config, 'blobs'], [fx.app.digest, 'manifests'], [fx.app.digest, 'referrers']] as const) {
          for (const method of kind === 'referrers' ? ['GET'] : ['GET', 'HEAD']) {
            const ofA = await snapshot(await sender({ method, path: `/v2/teamb/app/${kind}/${digest}` }), { [digest]: '<digest>' });
            const random = await snapshot(await sender({ method, path: `/v2/teamb/app/${kind}/${randomDigest}` }), { [randomDigest]: '<digest>' });
            assert.deepEqual(ofA, random, `${who} ${method} ${kind} by A's digest`);
            assert.equal(ofA.status, kind === 'referrers' ? 200 : 404, `${who} ${method} ${kind}`);
          }
        }
        const randomSession = randomUUID();
        for (const method of ['GET', 'PATCH', 'DELETE']) {
          const spec = (id: string): RequestSpec => ({ method, path: `/v2/teamb/app/blobs/uploads/${id}`, ...(method === 'PATCH' ? { headers: { 'Content-Type': 'application/octet-stream' }, body: 'x' } : {}) });
          const ofA = await snapshot(await sender(spec(aSession)), { [aSession]: '<id>' });
          const random = await snapshot(await sender(spec(randomSession)), { [randomSession]: '<id>' });
          assert.equal(ofA.status, 404, `${who} ${method} upload`);
          assert.deepEqual(ofA, random, `${who} ${method} A's upload session`);
        }
      }
      // A's referrers listing did not leak into B's: the index is empty.
      const referrers = await send(fx.base, { method: 'GET', path: `/v2/teamb/app/referrers/${fx.app.digest}` }, basic(fx.bowner));
      assert.deepEqual((await referrers.json() as { manifests: unknown[] }).manifests, []);
    });

    it('a cross-repository mount from A\'s repository into B\'s answers 202 with a session, exactly like a mount from nowhere', async () => {
      const mount = async (from: string) => {
        const res = await asClient(fx.base, fx.bowner, { method: 'POST', path: `/v2/teamb/app/blobs/uploads/?mount=${fx.app.layer}&from=${from}` });
        const id = res.headers.get('docker-upload-uuid') ?? '';
        return snapshot(res, { [id]: '<id>' });
      };
      const fromA = await mount('teama/app');
      const fromNowhere = await mount('teamx/app');
      assert.equal(fromA.status, 202, 'a session, not 201 Created');
      assert.equal(fromA.headers.location, '/v2/teamb/app/blobs/uploads/<id>');
      assert.deepEqual(fromA, fromNowhere);
      const basicMount = await send(fx.base, { method: 'POST', path: `/v2/teamb/app/blobs/uploads/?mount=${fx.app.layer}&from=teama/app` }, basic(fx.bowner));
      assert.equal(basicMount.status, 202);
      // The blob did not become B's.
      const head = await send(fx.base, { method: 'HEAD', path: `/v2/teamb/app/blobs/${fx.app.layer}` }, basic(fx.bowner));
      assert.equal(head.status, 404);
      // Within A, the same mount works (the route is not simply broken).
      const own = await send(fx.base, { method: 'POST', path: `/v2/teama/copy/blobs/uploads/?mount=${fx.app.layer}&from=teama/app` }, basic(fx.writer));
      assert.equal(own.status, 201);
    });

    it('B\'s catalog and namespace list never show A\'s names', async () => {
      for (const sender of [(s: RequestSpec) => asClient(fx.base, fx.bowner, s), (s: RequestSpec) => send(fx.base, s, basic(fx.bowner))]) {
        const res = await sender({ method: 'GET', path: '/v2/_catalog' });
        assert.equal(res.status, 200);
        assert.deepEqual((await res.json() as { repositories: string[] }).repositories, ['teamb/app']);
        const paged = await sender({ method: 'GET', path: '/v2/_catalog?n=1' });
        assert.deepEqual((await paged.json() as { repositories: string[] }).repositories, ['teamb/app']);
        assert.equal(paged.headers.get('link'), null, 'no next page hints at more');
        const after = await sender({ method: 'GET', path: '/v2/_catalog?last=teama%2Fapp' });
        assert.deepEqual((await after.json() as { repositories: string[] }).repositories, ['teamb/app']);
      }
      const bNamespaces = await apiJson<{ namespaces: Array<{ name: string }> }>(fx.base, 'GET', '/namespaces', basic(fx.bowner));
      assert.deepEqual(bNamespaces.namespaces.map((n) => n.name), ['teamb']);
      const bWriter = await apiJson<{ namespaces: Array<{ name: string }> }>(fx.base, 'GET', '/namespaces', basic(fx.bwriter));
      assert.deepEqual(bWriter.namespaces.map((n) => n.name), ['teamb']);
      // A's Reader sees A's namespace; A's catalog is A's repositories only.
      const aNamespaces = await apiJson<{ namespaces: Array<{ name: string }> }>(fx.base, 'GET', '/namespaces', basic(fx.reader));
      assert.deepEqual(aNamespaces.namespaces.map((n) => n.name), ['teama']);
      const aCatalog = await send(fx.base, { method: 'GET', path: '/v2/_catalog' }, basic(fx.reader));
      assert.deepEqual((await aCatalog.json() as { repositories: string[] }).repositories, ['teama/app', 'teama/base', 'teama/copy']);
      // B's other listings are B's alone.
      const users = await apiJson<{ users: Array<{ username: string }> }>(fx.base, 'GET', '/iam/users', basic(fx.bowner));
      assert.deepEqual(users.users.map((u) => u.username), ['bowner', 'bwriter']);
      const services = await apiJson<{ serviceIds: unknown[] }>(fx.base, 'GET', '/iam/service-ids', basic(fx.bowner));
      assert.deepEqual(services.serviceIds, []);
      const keys = await apiJson<{ apiKeys: unknown[] }>(fx.base, 'GET', '/iam/api-keys', basic(fx.bowner));
      assert.deepEqual(keys.apiKeys, []);
      const policies = await apiJson<{ policies: Array<{ namespace: string | null }> }>(fx.base, 'GET', '/iam/policies', basic(fx.bowner));
      assert.deepEqual(policies.policies.map((p) => p.namespace), ['teamb']);
      const who = await apiJson<{ account: { name: string } }>(fx.base, 'GET', '/whoami', basic(fx.bowner));
      assert.equal(who.account.name, 'tenant-b');
    });

    it('a public-pull namespace lets anonymous clients pull and list its tags, and nothing more', async () => {
      await apiJson(fx.base, 'PATCH', '/namespaces/teama', basic(fx.admin), { publicPull: true }, 200);
      try {
        const token = await fetchToken(fx.base, undefined, ['repository:teama/app:pull,push,delete', 'repository:teamb/app:pull']);
        assert.deepEqual(jwtPayload(token).access, [
          { type: 'repository', name: 'teama/app', actions: ['pull'] },
          { type: 'repository', name: 'teamb/app', actions: [] },
        ]);
        // Anonymous clients follow the challenge without credentials.
        const pull = async (spec: RequestSpec) => {
          const first = await send(fx.base, spec);
          if (first.status !== 401) return first;
          const scope = /scope="([^"]*)"/.exec(first.headers.get('www-authenticate') ?? '')?.[1];
          const anonymousToken = await fetchToken(fx.base, undefined, scope ? [scope] : []);
          return send(fx.base, spec, `Bearer ${anonymousToken}`);
        };
        assert.equal((await send(fx.base, { method: 'GET', path: '/v2/teama/app/tags/list' })).status, 200, 'no token needed');
        assert.deepEqual((await (await pull({ method: 'GET', path: '/v2/teama/app/tags/list' })).json() as { tags: string[] }).tags, ['v1']);
        assert.equal((await pull({ method: 'GET', path: '/v2/teama/app/manifests/v1', headers: { Accept: OCI_MANIFEST } })).status, 200);
        assert.equal((await pull({ method: 'GET', path: `/v2/teama/app/blobs/${fx.app.layer}` })).status, 200);
        assert.equal((await send(fx.base, { method: 'GET', path: `/v2/teama/app/manifests/v1`, headers: { Accept: OCI_MANIFEST } }, `Bearer ${token}`)).status, 200);
        // Not push, not delete, not the catalog, not another namespace.
        assert.equal((await pull({ method: 'POST', path: '/v2/teama/app/blobs/uploads/' })).status, 401);
        assert.equal((await pull({ method: 'PUT', path: '/v2/teama/app/manifests/anon', headers: { 'Content-Type': OCI_MANIFEST }, body: fx.app.manifest })).status, 401);
        assert.equal((await pull({ method: 'DELETE', path: `/v2/teama/app/manifests/${fx.app.digest}` })).status, 401);
        assert.equal((await pull({ method: 'DELETE', path: `/v2/teama/app/blobs/${fx.app.layer}` })).status, 401);
        assert.equal((await pull({ method: 'GET', path: '/v2/_catalog' })).status, 401);
        assert.equal((await pull({ method: 'GET', path: '/v2/teamb/app/tags/list' })).status, 401);
        // Another tenant may pull a public namespace too, but not write to it.
        assert.equal((await asClient(fx.base, fx.bowner, { method: 'GET', path: '/v2/teama/app/tags/list' })).status, 200);
        assert.equal((await asClient(fx.base, fx.bowner, { method: 'POST', path: '/v2/teama/app/blobs/uploads/' })).status, 403);
        assert.equal((await asClient(fx.base, fx.bowner, { method: 'DELETE', path: `/v2/teama/app/manifests/${fx.app.digest}` })).status, 403);
        assert.deepEqual(await apiTags(fx.admin, 'teama/app'), ['v1']);
      } finally {
        await apiJson(fx.base, 'PATCH', '/namespaces/teama', basic(fx.admin), { publicPull: false }, 200);
      }
      assert.equal((await send(fx.base, { method: 'GET', path: '/v2/teama/app/tags/list' })).status, 401, 'private again');
    });

    it('denials and IAM changes are audited for A\'s Managers only, with who, what, when, where and outcome', async () => {
      const readerPush = await asClient(fx.base, fx.reader, { method: 'POST', path: '/v2/teama/app/blobs/uploads/' });
      assert.equal(readerPush.status, 403);
      const failed = await tokenResponse(fx.base, { username: 'reader', password: 'not-the-password' }, []);
      assert.equal(failed.status, 401);
      const created = await apiJson<{ id: number }>(fx.base, 'POST', '/iam/users', basic(fx.manager), { username: 'audited', password: 'audited-password-0123' });
      secrets.add('audited-password-0123');
      const policy = await apiJson<{ id: number }>(fx.base, 'POST', '/iam/policies', basic(fx.manager), { subject: `user:${created.id}`, role: 'Reader', namespace: 'teama' });
      const denied = await api(fx.base, 'GET', '/iam/users', basic(fx.reader));
      assert.equal(denied.status, 403);

      const aEvents = await eventually(
        async () => (await apiJson<{ events: AuditEvent[] }>(fx.base, 'GET', '/audit?limit=1000', basic(fx.manager))).events,
        (events) => events.some((e) => e.action === 'user.list' && e.outcome === 'deny'),
        'the audit events of account A',
      );
      const find = (match: Partial<AuditEvent>) => aEvents.find((e) => Object.entries(match).every(([k, v]) => e[k as keyof AuditEvent] === v));
      assert.ok(find({ actor: 'user reader', action: 'registry.push', resource: 'repository teama/app', outcome: 'deny', source: '127.0.0.1' }), 'the denied push');
      assert.ok(find({ actor: 'login reader', action: 'login', outcome: 'failure' }), 'the failed login');
      assert.ok(find({ actor: 'user manager', action: 'user.create', resource: 'user audited', outcome: 'success' }), 'the new user');
      assert.ok(find({ actor: 'user manager', action: 'policy.create', outcome: 'success' }), 'the new policy');
      assert.ok(find({ actor: 'user reader', action: 'user.list', outcome: 'deny' }), 'the refused IAM read');
      const listed = await apiJson<{ events: Array<{ at: string; id: number }> }>(fx.base, 'GET', '/audit?limit=1', basic(fx.manager));
      assert.equal(listed.events.length, 1);
      assert.ok(Math.abs(Date.parse(listed.events[0]!.at) - Date.now()) < 60_000, 'when');
      void policy;

      // B's Manager sees B's events only: none of A's principals, none of A's changes.
      const bEvents = (await apiJson<{ events: AuditEvent[] }>(fx.base, 'GET', '/audit?limit=1000', basic(fx.bowner))).events;
      assert.ok(bEvents.length > 0, 'B has its own events (its denied probes of A)');
      const aActors = ['user admin', 'user reader', 'user writer', 'user manager', 'login reader', 'service ci'];
      assert.deepEqual(bEvents.filter((e) => aActors.includes(e.actor) || /audited|victim/.test(JSON.stringify(e))), []);
      // And A's log does not show B's probes of A (that would tell A who B's users are).
      assert.deepEqual(aEvents.filter((e) => /bowner|bwriter/.test(e.actor)), []);
      // The audit log itself is for Managers only.
      assert.equal((await api(fx.base, 'GET', '/audit', basic(fx.writer))).status, 403);
    });

    it('POST /api/v1/accounts (the operator only) creates a tenant that starts with nothing of A\'s', async () => {
      const password = 'cowner-password-0123';
      secrets.add(password);
      const created = await apiJson<{ id: number; name: string; owner: { id: number; username: string } }>(fx.base, 'POST', '/accounts', basic(fx.admin), { name: 'tenant-c', owner: { username: 'cowner', password } });
      assert.equal(created.name, 'tenant-c');
      assert.equal(created.owner.username, 'cowner');
      assert.ok(!JSON.stringify(created).includes(password));
      const cowner = basic({ username: 'cowner', password });
      const who = await apiJson<{ account: { id: number; name: string }; owner: boolean; accountRole: string }>(fx.base, 'GET', '/whoami', cowner);
      assert.deepEqual([who.account, who.owner, who.accountRole], [{ id: created.id, name: 'tenant-c' }, true, 'manager']);
      assert.deepEqual((await apiJson<{ namespaces: unknown[] }>(fx.base, 'GET', '/namespaces', cowner)).namespaces, []);
      const catalog = await asClient(fx.base, { username: 'cowner', password }, { method: 'GET', path: '/v2/_catalog' });
      assert.deepEqual((await catalog.json() as { repositories: string[] }).repositories, []);
      // Its owner manages it: a namespace of its own, and a push there.
      await apiJson(fx.base, 'POST', '/namespaces', cowner, { name: 'teamc' });
      assert.equal((await asClient(fx.base, { username: 'cowner', password }, { method: 'POST', path: '/v2/teamc/app/blobs/uploads/' })).status, 202);
      // A's repository is, for C's owner, one that does not exist.
      assert.equal((await asClient(fx.base, { username: 'cowner', password }, { method: 'GET', path: '/v2/teama/app/tags/list' })).status, 404);
      assert.equal((await asClient(fx.base, { username: 'cowner', password }, { method: 'POST', path: '/v2/teama/app/blobs/uploads/' })).status, 403);

      // Refusals: taken names, bad input, and anyone but the operator (even another account's owner).
      const create = (auth: string, body: unknown) => api(fx.base, 'POST', '/accounts', auth, body);
      assert.equal((await create(basic(fx.admin), { name: 'tenant-c', owner: { username: 'cowner2', password } })).status, 409);
      assert.equal((await create(basic(fx.admin), { name: 'tenant-d', owner: { username: 'reader', password } })).status, 409);
      assert.equal((await create(basic(fx.admin), { name: 'Tenant D', owner: { username: 'downer', password } })).status, 400);
      assert.equal((await create(basic(fx.admin), { name: 'tenant-d', owner: { username: 'downer', password: 'short' } })).status, 400);
      assert.equal((await create(basic(fx.admin), { name: 'tenant-d' })).status, 400);
      assert.equal((await create(cowner, { name: 'tenant-d', owner: { username: 'downer', password } })).status, 403);
      assert.equal((await create(basic(fx.bowner), { name: 'tenant-d', owner: { username: 'downer', password } })).status, 403);
      assert.equal((await api(fx.base, 'GET', '/whoami', basic({ username: 'downer', password }))).status, 401, 'no refused request created anything');

      // Both the operator's account and the new one record the creation.
      const audited = (events: AuditEvent[]) => events.some((e) => e.action === 'account.create' && e.resource === 'account tenant-c' && e.outcome === 'success' && e.actor === 'user admin');
      await eventually(async () => (await apiJson<{ events: AuditEvent[] }>(fx.base, 'GET', '/audit', basic(fx.admin))).events, audited, 'the operator\'s audit entry');
      await eventually(async () => (await apiJson<{ events: AuditEvent[] }>(fx.base, 'GET', '/audit', cowner)).events, audited, 'the new account\'s audit entry');
      const bAudit = (await apiJson<{ events: AuditEvent[] }>(fx.base, 'GET', '/audit', basic(fx.bowner))).events;
      assert.ok(bAudit.some((e) => e.action === 'account.create' && e.outcome === 'deny'), 'B\'s refused attempt is in B\'s log');
      assert.ok(!bAudit.some((e) => e.resource === 'account tenant-c' && e.outcome === 'success'));
    });

    it('GET /api/v1/accounts lists every tenant and its owners to the operator only', async () => {
      const { accounts } = await apiJson<{ accounts: Array<{ id: number; name: string; owners: string[]; namespaces: number; created: string }> }>(fx.base, 'GET', '/accounts', basic(fx.admin));
      const byName = new Map(accounts.map((a) => [a.name, a]));
      assert.deepEqual(byName.get('default')?.owners, ['admin']);
      assert.equal(byName.get('default')?.id, fx.ids.accountA);
      assert.deepEqual(byName.get('tenant-b')?.owners, ['bowner']);
      assert.equal(byName.get('tenant-b')?.id, fx.ids.accountB);
      assert.ok(byName.get('tenant-b')!.namespaces >= 1, 'B holds teamb');
      assert.ok(accounts.every((a) => !Number.isNaN(Date.parse(a.created))));
      assert.ok(!JSON.stringify(accounts).includes('password'), 'no credentials');
      // Another account's owner and the operator's own Managers are refused, and the refusal is audited.
      for (const who of [fx.bowner, fx.manager, fx.writer]) {
        const res = await api(fx.base, 'GET', '/accounts', basic(who));
        assert.equal(res.status, 403, who.username);
        assert.match((await res.json() as { detail: string }).detail, /listing accounts needs the owner of the default account/);
      }
      await eventually(async () => (await apiJson<{ events: AuditEvent[] }>(fx.base, 'GET', '/audit', basic(fx.bowner))).events,
        (events) => events.some((e) => e.action === 'account.list' && e.outcome === 'deny'), 'B\'s refused listing in B\'s log');
    });

    it('no password, API key or token reaches the audit log or the server log', async () => {
      // Exercise every way a secret travels: passwords, API keys, tokens, refresh tokens, failures.
      const key = await apiJson<{ id: number; apiKey: string }>(fx.base, 'POST', '/iam/api-keys', basic(fx.manager), { description: 'secret check' });
      secrets.add(key.apiKey);
      const token = await fetchToken(fx.base, { username: 'iamapikey', password: key.apiKey }, ['repository:teama/app:pull']);
      secrets.add(token);
      const offline = await (await tokenResponse(fx.base, fx.writer, ['repository:teama/app:pull'], { offline_token: 'true' })).json() as { token: string; refresh_token: string };
      secrets.add(offline.token);
      secrets.add(offline.refresh_token);
      const form = await fetch(`${fx.base}/auth/token`, {
        method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'password', username: 'manager', password: PASSWORDS.manager, access_type: 'offline' }).toString(),
      });
      const oauth = await form.json() as { access_token: string; refresh_token: string };
      secrets.add(oauth.access_token);
      secrets.add(oauth.refresh_token);
      await fetch(`${fx.base}/auth/token`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: oauth.refresh_token }).toString() });
      await send(fx.base, { method: 'GET', path: '/v2/teama/app/tags/list' }, `Bearer ${token}`);
      await send(fx.base, { method: 'GET', path: '/v2/teama/app/tags/list' }, basic(fx.manager));
      // Failures carry secrets too: a wrong password, a revoked key, a garbage token.
      const wrong = 'wrong-secret-password-9876';
      secrets.add(wrong);
      await tokenResponse(fx.base, { username: 'manager', password: wrong }, []);
      await send(fx.base, { method: 'GET', path: '/v2/' }, basic({ username: 'writer', password: wrong }));
      await api(fx.base, 'GET', '/whoami', basic({ username: 'reader', password: wrong }));
      await api(fx.base, 'DELETE', `/iam/api-keys/${key.id}`, basic(fx.manager));
      await tokenResponse(fx.base, { username: 'iamapikey', password: key.apiKey }, []);
      await send(fx.base, { method: 'GET', path: '/v2/' }, `Bearer ${token}`);
      const newPassword = 'changed-password-5555';
      secrets.add(newPassword);
      await api(fx.base, 'PUT', `/iam/users/${fx.ids.victim}/password`, basic(fx.manager), { password: newPassword });
      const service = await apiJson<{ apiKey: string }>(fx.base, 'POST', '/iam/api-keys', basic(fx.admin), { serviceId: fx.ids.service });
      secrets.add(service.apiKey);
      // A refused password is not echoed either.
      secrets.add('tiny-s3cret');
      const tooShort = await api(fx.base, 'POST', '/iam/users', basic(fx.manager), { username: 'shorty', password: 'tiny-s3cret' });
      assert.equal(tooShort.status, 400);
      assert.ok(!(await tooShort.text()).includes('tiny-s3cret'));

      await new Promise((r) => setTimeout(r, 100));
      const audit = await server.metadata.db.selectFrom('audit_events').selectAll().execute();
      assert.ok(audit.length > 10, 'the audit log was written');
      assert.ok(log.length > 50, 'the server log was captured');
      assert.ok(log.some((line) => line.includes('"url":"/auth/token')), 'request lines are in the log');
      const auditText = JSON.stringify(audit);
      const logText = log.join('');
      const leaks: string[] = [];
      for (const secret of secrets) {
        // Secrets, their secret halves (API keys, refresh tokens) and their Basic encodings.
        const forms = [secret, secret.slice(-10), ...base64Forms(secret)];
        for (const form of forms) {
          if (auditText.includes(form)) leaks.push(`audit: ${secret.slice(0, 12)}…`);
          if (logText.includes(form)) leaks.push(`log: ${secret.slice(0, 12)}…`);
        }
      }
      assert.deepEqual(leaks, []);
      assert.ok(!/authorization/i.test(logText), 'no Authorization header is logged');
    });

    it('the namespace that does not exist was never created by any of this', async () => {
      assert.equal(await findNamespace(server.metadata.db, NONE), undefined);
      assert.equal((await findNamespace(server.metadata.db, A))?.account_id, fx.ids.accountA);
    });
  });
}
