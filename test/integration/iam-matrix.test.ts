import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { TokenService } from '../../src/iam/token-service.js';
import { engines, startTestServer, type TestServer } from '../support/server.js';
import {
  api, asClient, basic, digestOf, fetchToken, jwtPayload, OCI_MANIFEST, parseChallenge, pushBlob, send, setUpTenants,
  type RequestSpec, type Tenants,
} from '../support/iam.js';

/**
 * The authorization matrix of issue 5: every /v2/ route and every management action of /api/v1, for
 * each kind of principal, with the status it must answer. The tables are literal: changing any cell
 * of the implementation fails the test, and the failure shows every cell that changed.
 *
 * Principals (columns):
 * - anonymous: no credentials.
 * - reader, writer, manager, owner, otherManager: log in like docker (challenge, then a token from
 *   /auth/token for the challenge's scope); reader/writer have Reader/Writer on namespace teama,
 *   manager is a Manager of account A, owner is A's bootstrap owner, otherManager is account B's owner.
 *   For otherManager, who could create namespaces, A's repository reads and deletes answer as a
 *   repository that does not exist (404, an empty referrers index), exactly as a free name would.
 * - writerBasic: the writer sending Basic credentials straight to /v2/ and /api/v1.
 * - serviceWriter: a service ID with Writer on teama, logging in with `iamapikey` + its API key.
 * - expiredToken: a genuine token of A's Manager granting everything on teama, past its expiry.
 * - otherScopeToken: A's Manager's token for repository:teama/other:pull,push,delete, used on teama/app
 *   (and on /api/v1, which takes no repository-scoped token as a login).
 * - revokedKey: a token obtained with an API key of A's Manager before the key was revoked.
 * - revokedKeyBasic: that revoked key sent as Basic credentials (iamapikey).
 */
const COLUMNS = ['anonymous', 'reader', 'writer', 'writerBasic', 'serviceWriter', 'manager', 'owner', 'otherManager', 'expiredToken', 'otherScopeToken', 'revokedKey', 'revokedKeyBasic'] as const;
type Column = typeof COLUMNS[number];

//                                          anon rdr  wrt  wBas svc  mgr  own  othr exp  scop rev  revB
const V2_EXPECTED: Record<string, number[]> = {
  'GET /v2/':                              [401, 200, 200, 200, 200, 200, 200, 200, 401, 200, 401, 401],
  'GET /v2/_catalog':                      [401, 200, 200, 200, 200, 200, 200, 200, 401, 401, 401, 401],
  'GET tags/list':                         [401, 200, 200, 200, 200, 200, 200, 404, 401, 401, 401, 401],
  'GET manifest':                          [401, 200, 200, 200, 200, 200, 200, 404, 401, 401, 401, 401],
  'HEAD manifest':                         [401, 200, 200, 200, 200, 200, 200, 404, 401, 401, 401, 401],
  'PUT manifest':                          [401, 403, 201, 201, 201, 201, 201, 403, 401, 401, 401, 401],
  'DELETE manifest':                       [401, 403, 202, 202, 202, 202, 202, 404, 401, 401, 401, 401],
  'GET blob':                              [401, 200, 200, 200, 200, 200, 200, 404, 401, 401, 401, 401],
  'HEAD blob':                             [401, 200, 200, 200, 200, 200, 200, 404, 401, 401, 401, 401],
  'DELETE blob':                           [401, 403, 202, 202, 202, 202, 202, 404, 401, 401, 401, 401],
  'POST upload':                           [401, 403, 202, 202, 202, 202, 202, 403, 401, 401, 401, 401],
  'PATCH upload':                          [401, 403, 202, 202, 202, 202, 202, 403, 401, 401, 401, 401],
  'PUT upload':                            [401, 403, 201, 201, 201, 201, 201, 403, 401, 401, 401, 401],
  'GET upload':                            [401, 403, 204, 204, 204, 204, 204, 403, 401, 401, 401, 401],
  'DELETE upload':                         [401, 403, 204, 204, 204, 204, 204, 403, 401, 401, 401, 401],
  'POST mount':                            [401, 403, 201, 201, 201, 201, 201, 403, 401, 401, 401, 401],
  'GET referrers':                         [401, 200, 200, 200, 200, 200, 200, 200, 401, 401, 401, 401],
};

//                                          anon rdr  wrt  wBas svc  mgr  own  othr exp  scop rev  revB
const API_EXPECTED: Record<string, number[]> = {
  'GET /whoami':                           [401, 200, 200, 200, 200, 200, 200, 200, 401, 401, 401, 401],
  'GET /accounts':                         [401, 403, 403, 403, 403, 403, 200, 403, 401, 401, 401, 401],
  'POST /accounts':                        [401, 403, 403, 403, 403, 403, 201, 403, 401, 401, 401, 401],
  'GET /namespaces':                       [401, 200, 200, 200, 200, 200, 200, 200, 401, 401, 401, 401],
  'POST /namespaces':                      [401, 403, 403, 403, 403, 201, 201, 201, 401, 401, 401, 401],
  'PATCH /namespaces/teama':               [401, 403, 403, 403, 403, 200, 200, 404, 401, 401, 401, 401],
  'DELETE /namespaces/{A}':                [401, 403, 403, 403, 403, 204, 204, 404, 401, 401, 401, 401],
  'GET /iam/users':                        [401, 403, 403, 403, 403, 200, 200, 200, 401, 401, 401, 401],
  'POST /iam/users':                       [401, 403, 403, 403, 403, 201, 201, 201, 401, 401, 401, 401],
  'PUT /iam/users/{A}/password':           [401, 403, 403, 403, 403, 204, 204, 404, 401, 401, 401, 401],
  'DELETE /iam/users/{A}':                 [401, 403, 403, 403, 403, 204, 204, 404, 401, 401, 401, 401],
  'GET /iam/service-ids':                  [401, 403, 403, 403, 403, 200, 200, 200, 401, 401, 401, 401],
  'POST /iam/service-ids':                 [401, 403, 403, 403, 403, 201, 201, 201, 401, 401, 401, 401],
  'DELETE /iam/service-ids/{A}':           [401, 403, 403, 403, 403, 204, 204, 404, 401, 401, 401, 401],
  'GET /iam/api-keys':                     [401, 200, 200, 200, 200, 200, 200, 200, 401, 401, 401, 401],
  'POST /iam/api-keys':                    [401, 201, 201, 201, 403, 201, 201, 201, 401, 401, 401, 401],
  'POST /iam/api-keys {serviceId A}':      [401, 403, 403, 403, 403, 201, 201, 404, 401, 401, 401, 401],
  'DELETE /iam/api-keys/{A}':              [401, 403, 403, 403, 403, 204, 204, 404, 401, 401, 401, 401],
  'GET /iam/groups':                       [401, 403, 403, 403, 403, 200, 200, 200, 401, 401, 401, 401],
  'POST /iam/groups':                      [401, 403, 403, 403, 403, 201, 201, 201, 401, 401, 401, 401],
  'DELETE /iam/groups/{A}':                [401, 403, 403, 403, 403, 204, 204, 404, 401, 401, 401, 401],
  'PUT /iam/groups/{A}/members/{A}':       [401, 403, 403, 403, 403, 204, 204, 404, 401, 401, 401, 401],
  'DELETE /iam/groups/{A}/members/{A}':    [401, 403, 403, 403, 403, 204, 204, 404, 401, 401, 401, 401],
  'GET /iam/policies':                     [401, 403, 403, 403, 403, 200, 200, 200, 401, 401, 401, 401],
  'POST /iam/policies':                    [401, 403, 403, 403, 403, 201, 201, 404, 401, 401, 401, 401],
  'DELETE /iam/policies/{A}':              [401, 403, 403, 403, 403, 204, 204, 404, 401, 401, 401, 401],
  'GET /audit':                            [401, 403, 403, 403, 403, 200, 200, 200, 401, 401, 401, 401],
  'GET /permissions':                      [401, 200, 200, 200, 200, 200, 200, 200, 401, 401, 401, 401],
  'GET /stats':                            [401, 200, 200, 200, 200, 200, 200, 200, 401, 401, 401, 401],
};

function table(results: Record<string, Partial<Record<Column, number>>>): Record<string, number[]> {
  return Object.fromEntries(Object.entries(results).map(([row, cells]) => [row, COLUMNS.map((c) => cells[c] ?? 0)]));
}

for (const engine of engines()) {
  describe(`IAM matrix [${engine}]`, () => {
    let server: TestServer;
    let fx: Tenants;
    let expiredToken: string;
    let otherScopeToken: string;
    let revokedKeyToken: string;
    let revokedKey: string;
    let counter = 0;
    const unique = (prefix: string) => `${prefix}${++counter}`;

    before(async () => {
      // Many failed logins with the revoked key: the limiter is tested in iam-tokens, not here.
      server = await startTestServer(engine, { auth: { enabled: true, maxFailedLogins: 10_000 } });
      fx = await setUpTenants(server);
      const accountA = fx.ids.accountA;
      const everything = [
        { type: 'repository', name: 'teama/app', actions: ['pull', 'push', 'delete'] },
        { type: 'repository', name: 'teama/base', actions: ['pull'] },
        { type: 'registry', name: 'catalog', actions: ['*'] },
      ];
      // Signed with the server's own key an hour ago: only its lifetime is wrong.
      const past = new TokenService(server.metadata.db, { service: server.config.auth.service, tokenTtl: 300, refreshTokenTtl: 600 }, () => Date.now() - 3_600_000);
      await past.init();
      const manager = await server.iam.authenticator.loadPrincipal('user', fx.ids.manager, null);
      expiredToken = (await past.issue(`user:${fx.ids.manager}`, accountA, null, everything, manager?.kind === 'user' ? manager.session : null)).token;
      assert.ok(await past.verify(expiredToken), 'the expired token is genuine');
      assert.equal(await server.iam.tokens.verify(expiredToken), undefined, 'and expired now');

      otherScopeToken = await fetchToken(fx.base, fx.manager, ['repository:teama/other:pull,push,delete']);
      assert.deepEqual(jwtPayload(otherScopeToken).access, [{ type: 'repository', name: 'teama/other', actions: ['pull', 'push', 'delete'] }]);

      const key = await server.iam.service.createApiKey(fx.managerCaller, 'revoked in the matrix');
      revokedKey = key.apiKey;
      revokedKeyToken = await fetchToken(fx.base, { username: 'iamapikey', password: revokedKey }, ['repository:teama/app:pull,push,delete', 'repository:teama/base:pull', 'registry:catalog:*']);
      const beforeRevocation = await send(fx.base, { method: 'GET', path: '/v2/teama/app/tags/list' }, `Bearer ${revokedKeyToken}`);
      assert.equal(beforeRevocation.status, 200, 'the key works until it is revoked');
      await server.iam.service.revokeApiKey(fx.managerCaller, key.id);
    });
    after(async () => { await server?.stop(); });

    async function v2As(column: Column, spec: RequestSpec): Promise<Response> {
      const base = fx.base;
      switch (column) {
        case 'anonymous': return send(base, spec);
        case 'reader': return asClient(base, fx.reader, spec);
        case 'writer': return asClient(base, fx.writer, spec);
        case 'writerBasic': return send(base, spec, basic(fx.writer));
        case 'serviceWriter': return asClient(base, fx.service, spec);
        case 'manager': return asClient(base, fx.manager, spec);
        case 'owner': return asClient(base, fx.admin, spec);
        case 'otherManager': return asClient(base, fx.bowner, spec);
        case 'expiredToken': return send(base, spec, `Bearer ${expiredToken}`);
        case 'otherScopeToken': return send(base, spec, `Bearer ${otherScopeToken}`);
        case 'revokedKey': return send(base, spec, `Bearer ${revokedKeyToken}`);
        case 'revokedKeyBasic': return send(base, spec, basic({ username: 'iamapikey', password: revokedKey }));
      }
    }

    const adminAuth = () => basic(fx.admin);

    /** A fresh upload session in teama/app, started by the owner. */
    async function session(): Promise<string> {
      const res = await send(fx.base, { method: 'POST', path: '/v2/teama/app/blobs/uploads/' }, adminAuth());
      assert.equal(res.status, 202);
      return res.headers.get('location')!;
    }

    /** Each cell's request; mutating ones get their own target so cells never depend on each other. */
    const V2_ROUTES: Record<string, (column: Column) => Promise<RequestSpec>> = {
      'GET /v2/': async () => ({ method: 'GET', path: '/v2/' }),
      'GET /v2/_catalog': async () => ({ method: 'GET', path: '/v2/_catalog' }),
      'GET tags/list': async () => ({ method: 'GET', path: '/v2/teama/app/tags/list' }),
      'GET manifest': async () => ({ method: 'GET', path: '/v2/teama/app/manifests/v1', headers: { Accept: OCI_MANIFEST } }),
      'HEAD manifest': async () => ({ method: 'HEAD', path: '/v2/teama/app/manifests/v1', headers: { Accept: OCI_MANIFEST } }),
      'PUT manifest': async (column) => ({ method: 'PUT', path: `/v2/teama/app/manifests/put-${column}`, headers: { 'Content-Type': OCI_MANIFEST }, body: fx.app.manifest }),
      'DELETE manifest': async (column) => {
        const manifest = JSON.parse(fx.app.manifest.toString()) as Record<string, unknown>;
        const bytes = Buffer.from(JSON.stringify({ ...manifest, annotations: { cell: `${column}-${unique('d')}` } }));
        const put = await send(fx.base, { method: 'PUT', path: `/v2/teama/app/manifests/${digestOf(bytes)}`, headers: { 'Content-Type': OCI_MANIFEST }, body: bytes }, adminAuth());
        assert.equal(put.status, 201);
        return { method: 'DELETE', path: `/v2/teama/app/manifests/${digestOf(bytes)}` };
      },
      'GET blob': async () => ({ method: 'GET', path: `/v2/teama/app/blobs/${fx.app.layer}` }),
      'HEAD blob': async () => ({ method: 'HEAD', path: `/v2/teama/app/blobs/${fx.app.layer}` }),
      'DELETE blob': async () => ({ method: 'DELETE', path: `/v2/teama/app/blobs/${await pushBlob(fx.base, 'teama/app', randomBytes(64), adminAuth())}` }),
      'POST upload': async () => ({ method: 'POST', path: '/v2/teama/app/blobs/uploads/' }),
      'PATCH upload': async () => ({ method: 'PATCH', path: await session(), headers: { 'Content-Type': 'application/octet-stream' }, body: randomBytes(100) }),
      'PUT upload': async () => {
        const data = randomBytes(100);
        return { method: 'PUT', path: `${await session()}?digest=${digestOf(data)}`, headers: { 'Content-Type': 'application/octet-stream' }, body: data };
      },
      'GET upload': async () => ({ method: 'GET', path: await session() }),
      'DELETE upload': async () => ({ method: 'DELETE', path: await session() }),
      'POST mount': async () => ({ method: 'POST', path: `/v2/teama/app/blobs/uploads/?mount=${fx.baseBlob}&from=teama/base` }),
      'GET referrers': async () => ({ method: 'GET', path: `/v2/teama/app/referrers/${fx.app.digest}` }),
    };

    it('every /v2/ route × every principal answers the status of the table', async () => {
      assert.deepEqual(Object.keys(V2_ROUTES), Object.keys(V2_EXPECTED), 'the table covers every route');
      const results: Record<string, Partial<Record<Column, number>>> = {};
      const problems: string[] = [];
      for (const [route, prepare] of Object.entries(V2_ROUTES)) {
        results[route] = {};
        for (const column of COLUMNS) {
          const spec = await prepare(column);
          const res = await v2As(column, spec);
          const text = await res.text();
          results[route][column] = res.status;
          // Every refusal has the shape clients act on.
          if (res.status === 401 && res.url.includes('/v2/')) {
            const challenge = parseChallenge(res.headers.get('www-authenticate'));
            if (!challenge?.realm?.endsWith('/auth/token') || challenge.service !== 'wharf') problems.push(`${route} ${column}: 401 without a Bearer challenge: ${res.headers.get('www-authenticate')}`);
          }
          if (res.status === 403 && spec.method !== 'HEAD' && !/"code":"DENIED"/.test(text)) problems.push(`${route} ${column}: 403 is not DENIED: ${text}`);
        }
      }
      assert.deepEqual(table(results), V2_EXPECTED);
      assert.deepEqual(problems, []);
    });

    it('the refusals say why: no credentials, a bad token, a token without the scope', async () => {
      const anon = await send(fx.base, { method: 'PUT', path: '/v2/teama/app/manifests/x', headers: { 'Content-Type': OCI_MANIFEST }, body: fx.app.manifest });
      assert.equal(anon.status, 401);
      assert.deepEqual(parseChallenge(anon.headers.get('www-authenticate')), { realm: `${fx.base}/auth/token`, service: 'wharf', scope: 'repository:teama/app:pull,push' });
      const expired = await send(fx.base, { method: 'GET', path: '/v2/teama/app/tags/list' }, `Bearer ${expiredToken}`);
      assert.equal(parseChallenge(expired.headers.get('www-authenticate'))?.error, 'invalid_token');
      const revoked = await send(fx.base, { method: 'GET', path: '/v2/teama/app/tags/list' }, `Bearer ${revokedKeyToken}`);
      assert.equal(parseChallenge(revoked.headers.get('www-authenticate'))?.error, 'invalid_token');
      const scoped = await send(fx.base, { method: 'GET', path: '/v2/teama/app/tags/list' }, `Bearer ${otherScopeToken}`);
      assert.deepEqual(parseChallenge(scoped.headers.get('www-authenticate')), { realm: `${fx.base}/auth/token`, service: 'wharf', scope: 'repository:teama/app:pull', error: 'insufficient_scope' });
      const catalog = await send(fx.base, { method: 'GET', path: '/v2/_catalog' }, `Bearer ${otherScopeToken}`);
      assert.deepEqual(parseChallenge(catalog.headers.get('www-authenticate')), { realm: `${fx.base}/auth/token`, service: 'wharf', scope: 'registry:catalog:*', error: 'insufficient_scope' });
      // The token the challenge asks for is granted, and works.
      const better = await fetchToken(fx.base, fx.manager, ['registry:catalog:*']);
      const listed = await send(fx.base, { method: 'GET', path: '/v2/_catalog' }, `Bearer ${better}`);
      assert.equal(listed.status, 200);
      assert.deepEqual((await listed.json() as { repositories: string[] }).repositories, ['teama/app', 'teama/base']);
    });

    // Management API: Bearer rows log in once (a token with no scope, as `wharf login` would).
    const apiTokens = new Map<Column, string>();
    async function apiAuth(column: Column): Promise<string | undefined> {
      const login = { reader: fx.reader, writer: fx.writer, serviceWriter: fx.service, manager: fx.manager, owner: fx.admin, otherManager: fx.bowner } as const;
      switch (column) {
        case 'anonymous': return undefined;
        case 'writerBasic': return basic(fx.writer);
        case 'expiredToken': return `Bearer ${expiredToken}`;
        case 'otherScopeToken': return `Bearer ${otherScopeToken}`;
        case 'revokedKey': return `Bearer ${revokedKeyToken}`;
        case 'revokedKeyBasic': return basic({ username: 'iamapikey', password: revokedKey });
        default: {
          if (!apiTokens.has(column)) apiTokens.set(column, await fetchToken(fx.base, login[column], []));
          return `Bearer ${apiTokens.get(column)!}`;
        }
      }
    }

    interface ApiSpec { method: string; path: string; body?: unknown }
    const iam = () => server.iam.service;
    const PASSWORD = 'matrix-password-0123';
    const API_ACTIONS: Record<string, () => Promise<ApiSpec>> = {
      'GET /whoami': async () => ({ method: 'GET', path: '/whoami' }),
      'GET /accounts': async () => ({ method: 'GET', path: '/accounts' }),
      'POST /accounts': async () => {
        const n = unique('');
        return { method: 'POST', path: '/accounts', body: { name: `acct-${n}`, owner: { username: `acct-owner-${n}`, password: PASSWORD } } };
      },
      'GET /namespaces': async () => ({ method: 'GET', path: '/namespaces' }),
      'POST /namespaces': async () => ({ method: 'POST', path: '/namespaces', body: { name: unique('mtx-ns-') } }),
      'PATCH /namespaces/teama': async () => ({ method: 'PATCH', path: '/namespaces/teama', body: { publicPull: false } }),
      'DELETE /namespaces/{A}': async () => {
        const name = unique('mtx-del-');
        await iam().addNamespace(fx.adminCaller, name);
        return { method: 'DELETE', path: `/namespaces/${name}` };
      },
      'GET /iam/users': async () => ({ method: 'GET', path: '/iam/users' }),
      'POST /iam/users': async () => ({ method: 'POST', path: '/iam/users', body: { username: unique('mtx-user-'), password: PASSWORD } }),
      'PUT /iam/users/{A}/password': async () => ({ method: 'PUT', path: `/iam/users/${fx.ids.victim}/password`, body: { password: 'victim-password-0123' } }),
      'DELETE /iam/users/{A}': async () => {
        const user = await iam().createUser(fx.adminCaller, unique('mtx-gone-'), PASSWORD);
        return { method: 'DELETE', path: `/iam/users/${user.id}` };
      },
      'GET /iam/service-ids': async () => ({ method: 'GET', path: '/iam/service-ids' }),
      'POST /iam/service-ids': async () => ({ method: 'POST', path: '/iam/service-ids', body: { name: unique('mtx-svc-') } }),
      'DELETE /iam/service-ids/{A}': async () => {
        const service = await iam().createServiceId(fx.adminCaller, unique('mtx-svc-gone-'), '');
        return { method: 'DELETE', path: `/iam/service-ids/${service.id}` };
      },
      'GET /iam/api-keys': async () => ({ method: 'GET', path: '/iam/api-keys' }),
      'POST /iam/api-keys': async () => ({ method: 'POST', path: '/iam/api-keys', body: { description: 'matrix' } }),
      'POST /iam/api-keys {serviceId A}': async () => ({ method: 'POST', path: '/iam/api-keys', body: { description: 'matrix', serviceId: fx.ids.service } }),
      'DELETE /iam/api-keys/{A}': async () => {
        // A key of the victim: nobody in the columns owns it.
        const victim = await server.iam.authenticator.loadPrincipal('user', fx.ids.victim, null);
        const key = await iam().createApiKey({ principal: victim!, source: 'test' }, 'victim key');
        return { method: 'DELETE', path: `/iam/api-keys/${key.id}` };
      },
      'GET /iam/groups': async () => ({ method: 'GET', path: '/iam/groups' }),
      'POST /iam/groups': async () => ({ method: 'POST', path: '/iam/groups', body: { name: unique('mtx-group-') } }),
      'DELETE /iam/groups/{A}': async () => {
        const group = await iam().createGroup(fx.adminCaller, unique('mtx-group-gone-'));
        return { method: 'DELETE', path: `/iam/groups/${group.id}` };
      },
      'PUT /iam/groups/{A}/members/{A}': async () => {
        const group = await iam().createGroup(fx.adminCaller, unique('mtx-group-add-'));
        return { method: 'PUT', path: `/iam/groups/${group.id}/members/user:${fx.ids.victim}` };
      },
      'DELETE /iam/groups/{A}/members/{A}': async () => {
        const group = await iam().createGroup(fx.adminCaller, unique('mtx-group-rm-'));
        await iam().setGroupMember(fx.adminCaller, group.id, `user:${fx.ids.victim}`, true);
        return { method: 'DELETE', path: `/iam/groups/${group.id}/members/user:${fx.ids.victim}` };
      },
      'GET /iam/policies': async () => ({ method: 'GET', path: '/iam/policies' }),
      'POST /iam/policies': async () => ({ method: 'POST', path: '/iam/policies', body: { subject: `user:${fx.ids.victim}`, role: 'Reader', namespace: 'teama' } }),
      'DELETE /iam/policies/{A}': async () => {
        const policy = await iam().createPolicy(fx.adminCaller, { subject: `user:${fx.ids.victim}`, role: 'reader', namespace: 'teama', repository: unique('r') });
        return { method: 'DELETE', path: `/iam/policies/${policy.id}` };
      },
      'GET /audit': async () => ({ method: 'GET', path: '/audit' }),
      'GET /permissions': async () => ({ method: 'GET', path: '/permissions' }),
      'GET /stats': async () => ({ method: 'GET', path: '/stats' }),
    };

    it('every management action × every principal answers the status of the table', async () => {
      assert.deepEqual(Object.keys(API_ACTIONS), Object.keys(API_EXPECTED), 'the table covers every action');
      const results: Record<string, Partial<Record<Column, number>>> = {};
      const problems: string[] = [];
      for (const [action, prepare] of Object.entries(API_ACTIONS)) {
        results[action] = {};
        for (const column of COLUMNS) {
          const spec = await prepare();
          const res = await api(fx.base, spec.method, spec.path, await apiAuth(column), spec.body);
          const text = await res.text();
          results[action][column] = res.status;
          if (res.status >= 400) {
            const type = res.headers.get('content-type') ?? '';
            if (!type.startsWith('application/problem+json')) problems.push(`${action} ${column}: ${res.status} is not problem+json (${type})`);
            const body = JSON.parse(text) as { status?: number; type?: string };
            if (body.status !== res.status) problems.push(`${action} ${column}: problem status ${body.status} ≠ ${res.status}`);
            if (res.status === 401 && !res.headers.get('www-authenticate')) problems.push(`${action} ${column}: 401 without WWW-Authenticate`);
          }
        }
      }
      assert.deepEqual(table(results), API_EXPECTED);
      assert.deepEqual(problems, []);
    });

    it('the matrix ran the changes it allowed: B\'s namespaces and users landed in account B, not A', async () => {
      const aNamespaces = (await iam().listNamespaces(fx.adminCaller)).map((n) => n.name);
      const bNamespaces = (await iam().listNamespaces(fx.bownerCaller)).map((n) => n.name);
      assert.ok(aNamespaces.includes('teama') && !aNamespaces.includes('teamb'));
      assert.ok(bNamespaces.includes('teamb') && !bNamespaces.includes('teama'));
      // otherManager's POST /namespaces created exactly one namespace, in B; the Manager and owner made theirs in A
      // (the scoped token's attempt was refused).
      assert.equal(bNamespaces.filter((n) => n.startsWith('mtx-ns-')).length, 1);
      assert.equal(aNamespaces.filter((n) => n.startsWith('mtx-ns-')).length, 2);
      // Deny-by-default left the victim's password alone for B: it still logs in.
      const who = await api(fx.base, 'GET', '/whoami', basic({ username: 'victim', password: 'victim-password-0123' }));
      assert.equal(who.status, 200);
    });
  });
}
