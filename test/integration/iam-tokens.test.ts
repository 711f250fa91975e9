import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { engines, startTestServer, type TestServer } from '../support/server.js';
import { api, basic, fetchToken, jwtPayload, send, setUpTenants, tokenResponse, type Creds, type Tenants } from '../support/iam.js';

/** The token endpoint against Docker's token authentication spec and its OAuth2 form, plus keys and limits. */

const TOKEN_TTL = 120;
const MAX_FAILED_LOGINS = 3;

interface TokenBody {
  token: string;
  access_token: string;
  expires_in: number;
  issued_at: string;
  refresh_token?: string;
}

interface OAuthBody {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
  refresh_token?: string;
  error?: string;
  error_description?: string;
}

function postToken(base: string, form: Record<string, string>): Promise<Response> {
  return fetch(`${base}/auth/token`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
}

async function accessOf(base: string, creds: Creds | undefined, scopes: string[]): Promise<unknown> {
  return jwtPayload(await fetchToken(base, creds, scopes)).access;
}

for (const engine of engines()) {
  describe(`token endpoint [${engine}]`, () => {
    let server: TestServer;
    let fx: Tenants;

    before(async () => {
      server = await startTestServer(engine, { auth: { enabled: true, tokenTtl: TOKEN_TTL, maxFailedLogins: MAX_FAILED_LOGINS, loginBackoff: 300 } });
      fx = await setUpTenants(server);
    });
    after(async () => { await server?.stop(); });

    async function jwks(): Promise<JSONWebKeySet> {
      const res = await fetch(`${fx.base}/auth/jwks.json`);
      assert.equal(res.status, 200);
      return await res.json() as JSONWebKeySet;
    }

    it('GET with Basic credentials answers an ES256 JWT with kid, verifiable with the published JWKS', async () => {
      const res = await tokenResponse(fx.base, fx.writer, ['repository:teama/app:pull,push']);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const body = await res.json() as TokenBody;
      assert.equal(body.token, body.access_token, 'token and access_token are the same, for old and new clients');
      assert.equal(body.expires_in, TOKEN_TTL);
      assert.ok(Math.abs(Date.parse(body.issued_at) - Date.now()) < 10_000, body.issued_at);
      assert.equal(body.refresh_token, undefined, 'no refresh token unless asked for');

      const header = decodeProtectedHeader(body.token);
      assert.equal(header.alg, 'ES256');
      assert.equal(typeof header.kid, 'string');
      const keys = await jwks();
      assert.ok(keys.keys.some((k) => k.kid === header.kid && k.kty === 'EC' && k.crv === 'P-256'), 'the signing key is in the JWKS');
      for (const key of keys.keys) assert.equal((key as { d?: string }).d, undefined, 'no private part is published');
      const { payload } = await jwtVerify(body.token, createLocalJWKSet(keys), { issuer: 'wharf', audience: 'wharf', algorithms: ['ES256'] });
      assert.equal(payload.sub, `user:${fx.ids.writer}`);
      assert.equal(payload.exp! - payload.iat!, TOKEN_TTL);
      assert.ok(payload.exp! * 1000 > Date.now());
      assert.deepEqual(payload.access, [{ type: 'repository', name: 'teama/app', actions: ['pull', 'push'] }]);
      // /.well-known/jwks.json serves the same keys.
      assert.deepEqual(await (await fetch(`${fx.base}/.well-known/jwks.json`)).json(), keys);
      // The token works on /v2/.
      const tags = await send(fx.base, { method: 'GET', path: '/v2/teama/app/tags/list' }, `Bearer ${body.token}`);
      assert.equal(tags.status, 200);
    });

    it('anonymous GET answers a token for the anonymous subject granting nothing private', async () => {
      const token = await fetchToken(fx.base, undefined, ['repository:teama/app:pull']);
      const payload = jwtPayload(token);
      assert.equal(payload.sub, 'anonymous');
      assert.deepEqual(payload.access, [{ type: 'repository', name: 'teama/app', actions: [] }]);
      const tags = await send(fx.base, { method: 'GET', path: '/v2/teama/app/tags/list' }, `Bearer ${token}`);
      assert.equal(tags.status, 401, 'an anonymous token is no login');
      // Credentials other than Basic are refused.
      const bearer = await fetch(`${fx.base}/auth/token?service=wharf`, { headers: { Authorization: `Bearer ${token}` } });
      assert.equal(bearer.status, 401);
      assert.equal(bearer.headers.get('www-authenticate'), 'Basic realm="wharf"');
    });

    it('grants the intersection of the request and IAM: push without Writer gives a pull-only token', async () => {
      assert.deepEqual(await accessOf(fx.base, fx.reader, ['repository:teama/app:pull,push']), [{ type: 'repository', name: 'teama/app', actions: ['pull'] }]);
      assert.deepEqual(await accessOf(fx.base, fx.reader, ['repository:teama/app:push,delete']), [{ type: 'repository', name: 'teama/app', actions: [] }]);
      assert.deepEqual(await accessOf(fx.base, fx.writer, ['repository:teama/app:pull,push,delete']), [{ type: 'repository', name: 'teama/app', actions: ['pull', 'push', 'delete'] }]);
      assert.deepEqual(await accessOf(fx.base, fx.writer, ['repository:teama/app:*']), [{ type: 'repository', name: 'teama/app', actions: ['*'] }]);
      assert.deepEqual(await accessOf(fx.base, fx.reader, ['repository:teama/app:*']), [{ type: 'repository', name: 'teama/app', actions: [] }]);
      // Another tenant's repository: nothing, whatever is asked.
      assert.deepEqual(await accessOf(fx.base, fx.writer, ['repository:teamb/app:pull,push']), [{ type: 'repository', name: 'teamb/app', actions: [] }]);
      // `manage` is not a registry action; a malformed or unknown scope is dropped or empty.
      assert.deepEqual(await accessOf(fx.base, fx.admin, ['repository:teama/app:pull,manage']), [{ type: 'repository', name: 'teama/app', actions: ['pull'] }]);
      assert.deepEqual(await accessOf(fx.base, fx.admin, ['nonsense', 'repository:Bad Name:pull', 'thing:x:y']), [
        { type: 'thing', name: 'x', actions: [] },
      ]);
      assert.deepEqual(await accessOf(fx.base, fx.admin, ['repository:../etc:pull']), [{ type: 'repository', name: '../etc', actions: [] }]);
    });

    it('several scopes, space-separated or repeated, each granted on its own; the catalog scope needs a login', async () => {
      assert.deepEqual(await accessOf(fx.base, fx.reader, ['repository:teama/app:pull repository:teama/base:pull,push', 'registry:catalog:*']), [
        { type: 'repository', name: 'teama/app', actions: ['pull'] },
        { type: 'repository', name: 'teama/base', actions: ['pull'] },
        { type: 'registry', name: 'catalog', actions: ['*'] },
      ]);
      assert.deepEqual(await accessOf(fx.base, undefined, ['registry:catalog:*']), [{ type: 'registry', name: 'catalog', actions: [] }]);
      // repository(plugin) type prefixes are read as repository.
      assert.deepEqual(await accessOf(fx.base, fx.reader, ['repository(plugin):teama/app:pull']), [{ type: 'repository', name: 'teama/app', actions: ['pull'] }]);
    });

    it('offline_token=true adds a refresh token, which the OAuth2 form redeems', async () => {
      const res = await tokenResponse(fx.base, fx.writer, ['repository:teama/app:pull'], { offline_token: 'true', client_id: 'test' });
      const body = await res.json() as TokenBody;
      assert.match(body.refresh_token ?? '', /^wrt_[A-Za-z0-9_-]{16}_[A-Za-z0-9_-]{43}$/);
      const anonymous = await (await tokenResponse(fx.base, undefined, [], { offline_token: 'true' })).json() as TokenBody;
      assert.equal(anonymous.refresh_token, undefined, 'nobody to refresh for');

      const refreshed = await postToken(fx.base, { grant_type: 'refresh_token', refresh_token: body.refresh_token!, scope: 'repository:teama/app:pull,push', service: 'wharf', client_id: 'test' });
      assert.equal(refreshed.status, 200);
      const oauth = await refreshed.json() as OAuthBody;
      assert.equal(oauth.token_type, 'Bearer');
      assert.equal(oauth.refresh_token, body.refresh_token);
      assert.equal(oauth.scope, 'repository:teama/app:pull,push');
      assert.equal(jwtPayload(oauth.access_token).sub, `user:${fx.ids.writer}`);
    });

    it('POST grant_type=password: a token, a refresh token with access_type=offline, the granted scope', async () => {
      const res = await postToken(fx.base, { grant_type: 'password', username: 'reader', password: fx.reader.password, scope: 'repository:teama/app:pull,push', service: 'wharf', client_id: 'containerd', access_type: 'offline' });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const body = await res.json() as OAuthBody;
      assert.equal(body.token_type, 'Bearer');
      assert.equal(body.expires_in, TOKEN_TTL);
      assert.equal(body.scope, 'repository:teama/app:pull', 'the scope says what was granted');
      assert.deepEqual(jwtPayload(body.access_token).access, [{ type: 'repository', name: 'teama/app', actions: ['pull'] }]);
      assert.ok(body.refresh_token);

      const online = await (await postToken(fx.base, { grant_type: 'password', username: 'reader', password: fx.reader.password })).json() as OAuthBody;
      assert.equal(online.refresh_token, undefined);
      assert.equal(online.scope, '');

      const again = await postToken(fx.base, { grant_type: 'refresh_token', refresh_token: body.refresh_token! });
      assert.equal(again.status, 200);
      assert.equal(jwtPayload((await again.json() as OAuthBody).access_token).sub, `user:${fx.ids.reader}`);
    });

    it('POST refuses bad grants with the OAuth2 error codes', async () => {
      const cases: Array<[Record<string, string>, number, string]> = [
        [{ grant_type: 'client_credentials' }, 400, 'unsupported_grant_type'],
        [{}, 400, 'unsupported_grant_type'],
        [{ grant_type: 'password', username: 'reader' }, 400, 'invalid_request'],
        [{ grant_type: 'refresh_token' }, 400, 'invalid_request'],
        [{ grant_type: 'password', username: 'nobody-at-all', password: 'whatever-password' }, 401, 'invalid_grant'],
        [{ grant_type: 'refresh_token', refresh_token: 'wrt_AAAAAAAAAAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }, 401, 'invalid_grant'],
        [{ grant_type: 'refresh_token', refresh_token: 'garbage' }, 401, 'invalid_grant'],
      ];
      for (const [form, status, error] of cases) {
        const res = await postToken(fx.base, form);
        const body = await res.json() as OAuthBody;
        assert.equal(res.status, status, JSON.stringify(form));
        assert.equal(body.error, error, JSON.stringify(form));
        assert.equal(typeof body.error_description, 'string');
        assert.equal(body.access_token, undefined);
      }
      // A wrong password for a real user answers exactly like an unknown user.
      const wrong = await postToken(fx.base, { grant_type: 'password', username: 'victim', password: 'not-the-password' });
      const unknown = await postToken(fx.base, { grant_type: 'password', username: 'nobody-at-all', password: 'not-the-password' });
      assert.equal(wrong.status, 401);
      assert.deepEqual(await wrong.json(), await unknown.json());
      const basicWrong = await tokenResponse(fx.base, { username: 'victim', password: 'not-the-password' }, []);
      assert.equal(basicWrong.status, 401);
      assert.equal(basicWrong.headers.get('www-authenticate'), 'Basic realm="wharf"');
      assert.equal((await basicWrong.json() as { errors: Array<{ code: string }> }).errors[0]!.code, 'UNAUTHORIZED');
    });

    it('logs in with iamapikey + a user\'s API key, and with a service ID\'s key', async () => {
      const key = await server.iam.service.createApiKey(fx.managerCaller, 'laptop');
      assert.match(key.apiKey, /^wharf_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
      const viaKey = jwtPayload(await fetchToken(fx.base, { username: 'iamapikey', password: key.apiKey }, ['repository:teama/app:push']));
      assert.equal(viaKey.sub, `user:${fx.ids.manager}`);
      assert.equal(viaKey.akid, key.id);
      assert.deepEqual(viaKey.access, [{ type: 'repository', name: 'teama/app', actions: ['push'] }]);
      // The owner's own name works as the username too; someone else's does not.
      assert.equal((await tokenResponse(fx.base, { username: 'manager', password: key.apiKey }, [])).status, 200);
      assert.equal((await tokenResponse(fx.base, { username: 'writer', password: key.apiKey }, [])).status, 401);

      const service = jwtPayload(await fetchToken(fx.base, fx.service, ['repository:teama/app:pull,push', 'repository:teamb/app:pull,push']));
      assert.equal(service.sub, `service:${fx.ids.service}`);
      assert.deepEqual(service.access, [
        { type: 'repository', name: 'teama/app', actions: ['pull', 'push'] },
        { type: 'repository', name: 'teamb/app', actions: [] },
      ]);
      const oauth = await postToken(fx.base, { grant_type: 'password', username: 'iamapikey', password: fx.service.password, scope: 'repository:teama/app:pull' });
      assert.equal(oauth.status, 200);
      // The key's last use is recorded; the listing never shows the key itself.
      const listed = await (await api(fx.base, 'GET', '/iam/api-keys', basic(fx.admin))).json() as { apiKeys: Array<{ id: number; prefix: string; lastUsed: string | null }> };
      const serviceKey = listed.apiKeys.find((k) => fx.service.password.startsWith(`${k.prefix}_`));
      assert.ok(serviceKey?.lastUsed, 'lastUsed is set');
      assert.ok(!JSON.stringify(listed).includes(fx.service.password));
    });

    it('a revoked key is refused, and so are its refresh tokens and the tokens it got', async () => {
      const key = await server.iam.service.createApiKey(fx.managerCaller, 'to revoke');
      const creds = { username: 'iamapikey', password: key.apiKey };
      const login = await (await postToken(fx.base, { grant_type: 'password', username: 'iamapikey', password: key.apiKey, access_type: 'offline', scope: 'repository:teama/app:pull' })).json() as OAuthBody;
      assert.ok(login.refresh_token);
      assert.equal((await send(fx.base, { method: 'GET', path: '/v2/teama/app/tags/list' }, `Bearer ${login.access_token}`)).status, 200);
      const revoke = await api(fx.base, 'DELETE', `/iam/api-keys/${key.id}`, basic(fx.manager));
      assert.equal(revoke.status, 204);

      assert.equal((await tokenResponse(fx.base, creds, [])).status, 401);
      const password = await postToken(fx.base, { grant_type: 'password', username: 'iamapikey', password: key.apiKey });
      assert.equal(password.status, 401);
      assert.equal((await password.json() as OAuthBody).error, 'invalid_grant');
      const refresh = await postToken(fx.base, { grant_type: 'refresh_token', refresh_token: login.refresh_token! });
      assert.equal(refresh.status, 401);
      assert.equal((await refresh.json() as OAuthBody).error, 'invalid_grant');
      assert.equal((await send(fx.base, { method: 'GET', path: '/v2/teama/app/tags/list' }, `Bearer ${login.access_token}`)).status, 401);
      assert.equal((await api(fx.base, 'GET', '/whoami', `Bearer ${login.access_token}`)).status, 401);
    });

    it('a password change ends the user\'s refresh tokens and every token issued before it', async () => {
      const user = await server.iam.service.createUser(fx.adminCaller, 'changer', 'changer-password-0123');
      const login = await (await postToken(fx.base, { grant_type: 'password', username: 'changer', password: 'changer-password-0123', access_type: 'offline' })).json() as OAuthBody;
      assert.equal((await postToken(fx.base, { grant_type: 'refresh_token', refresh_token: login.refresh_token! })).status, 200);
      assert.equal((await api(fx.base, 'GET', '/whoami', `Bearer ${login.access_token}`)).status, 200, 'the session works before the change');
      const change = await api(fx.base, 'PUT', `/iam/users/${user.id}/password`, basic({ username: 'changer', password: 'changer-password-0123' }), { password: 'changer-password-4567', currentPassword: 'changer-password-0123' });
      assert.equal(change.status, 204);
      assert.equal((await postToken(fx.base, { grant_type: 'refresh_token', refresh_token: login.refresh_token! })).status, 401);
      assert.equal((await api(fx.base, 'GET', '/whoami', `Bearer ${login.access_token}`)).status, 401, 'a token issued before the change ends with it');
      assert.equal((await tokenResponse(fx.base, { username: 'changer', password: 'changer-password-0123' }, [])).status, 401, 'the old password is gone (no cached verification)');
      assert.equal((await tokenResponse(fx.base, { username: 'changer', password: 'changer-password-4567' }, [])).status, 200);
    });

    it(`rate-limits failed logins per user and source: ${MAX_FAILED_LOGINS} failures, then 429 with Retry-After everywhere`, async () => {
      await server.iam.service.createUser(fx.adminCaller, 'guessed', 'guessed-password-0123');
      const right = { username: 'guessed', password: 'guessed-password-0123' };
      const wrong = { username: 'guessed', password: 'wrong-password-0000' };
      for (let i = 0; i < MAX_FAILED_LOGINS; i++) assert.equal((await tokenResponse(fx.base, wrong, [])).status, 401, `failure ${i + 1}`);

      const limited = await tokenResponse(fx.base, right, []);
      assert.equal(limited.status, 429, 'even the right password waits');
      const retryAfter = Number(limited.headers.get('retry-after'));
      assert.ok(retryAfter >= 1 && retryAfter <= 300, `Retry-After ${retryAfter}`);
      assert.equal((await limited.json() as { errors: Array<{ code: string }> }).errors[0]!.code, 'TOOMANYREQUESTS');

      const oauth = await postToken(fx.base, { grant_type: 'password', ...right });
      assert.equal(oauth.status, 429);
      assert.ok(Number(oauth.headers.get('retry-after')) >= 1);
      const v2 = await send(fx.base, { method: 'GET', path: '/v2/' }, basic(right));
      assert.equal(v2.status, 429);
      assert.ok(Number(v2.headers.get('retry-after')) >= 1);
      assert.match(await v2.text(), /"code":"TOOMANYREQUESTS"/);
      const apiRes = await api(fx.base, 'GET', '/whoami', basic(right));
      assert.equal(apiRes.status, 429);
      assert.ok(Number(apiRes.headers.get('retry-after')) >= 1);

      // Other users from the same address are not affected.
      assert.equal((await tokenResponse(fx.base, fx.reader, [])).status, 200);
      // The lockout is audited for the account's Managers.
      const audit = await (await api(fx.base, 'GET', '/audit?limit=1000', basic(fx.admin))).json() as { events: Array<{ actor: string; action: string; outcome: string }> };
      assert.equal(audit.events.filter((e) => e.actor === 'login guessed' && e.outcome === 'failure').length, MAX_FAILED_LOGINS);
    });

    it('failed API key logins are limited per key: one bad key does not lock out every iamapikey login', async () => {
      const bad = await server.iam.service.createApiKey(fx.managerCaller, 'bad');
      await server.iam.service.revokeApiKey(fx.managerCaller, bad.id);
      for (let i = 0; i < MAX_FAILED_LOGINS; i++) assert.equal((await tokenResponse(fx.base, { username: 'iamapikey', password: bad.apiKey }, [])).status, 401);
      assert.equal((await tokenResponse(fx.base, { username: 'iamapikey', password: bad.apiKey }, [])).status, 429);
      assert.equal((await tokenResponse(fx.base, fx.service, [])).status, 200, 'the service ID\'s key still logs in');
    });

    it('key rotation: old tokens still verify, the JWKS lists both keys, new tokens use the new key', async () => {
      const old = await fetchToken(fx.base, fx.writer, ['repository:teama/app:pull']);
      const oldKid = decodeProtectedHeader(old).kid!;
      const newKid = await server.iam.tokens.rotate();
      assert.notEqual(newKid, oldKid);
      const keys = await jwks();
      assert.deepEqual(keys.keys.map((k) => k.kid).sort(), [oldKid, newKid].sort());
      assert.equal((await send(fx.base, { method: 'GET', path: '/v2/teama/app/tags/list' }, `Bearer ${old}`)).status, 200, 'a token of the retired key still works');
      await jwtVerify(old, createLocalJWKSet(keys), { issuer: 'wharf', audience: 'wharf' });
      const fresh = await fetchToken(fx.base, fx.writer, ['repository:teama/app:pull']);
      assert.equal(decodeProtectedHeader(fresh).kid, newKid);
      await jwtVerify(fresh, createLocalJWKSet(keys), { issuer: 'wharf', audience: 'wharf' });
      // A token signed by a key the registry never had is refused.
      const forged = `${fresh.split('.').slice(0, 2).join('.')}.${Buffer.alloc(64).toString('base64url')}`;
      assert.equal((await send(fx.base, { method: 'GET', path: '/v2/teama/app/tags/list' }, `Bearer ${forged}`)).status, 401);
    });
  });
}
