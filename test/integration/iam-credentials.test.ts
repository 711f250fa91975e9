import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { engines, startTestServer, type TestServer } from '../support/server.js';
import { api, apiJson, basic, fetchToken, jwtPayload, setUpTenants, type Creds, type Tenants } from '../support/iam.js';

/**
 * Security inside an account: a stolen key or token must not become a takeover, and nobody acts on the
 * credentials of a principal with more authority than themselves (the owner above all).
 */

interface OAuthBody { access_token: string; refresh_token?: string }
interface Problem { status: number; detail: string }

function postToken(base: string, form: Record<string, string>): Promise<Response> {
  return fetch(`${base}/auth/token`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
}

async function problem(res: Response, status: number): Promise<Problem> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  return JSON.parse(text) as Problem;
}

for (const engine of engines()) {
  describe(`IAM credentials [${engine}]`, () => {
    let server: TestServer;
    let fx: Tenants;
    let counter = 0;
    const unique = (prefix: string) => `${prefix}${++counter}`;

    before(async () => {
      server = await startTestServer(engine, { auth: { enabled: true } });
      fx = await setUpTenants(server);
    });
    after(async () => { await server?.stop(); });

    /** A fresh user with a password, an API key (made from a password login) and their credentials. */
    async function newUser(): Promise<{ id: number; creds: Creds; key: { id: number; apiKey: string } }> {
      const creds = { username: unique('cred-user-'), password: 'first-password-0123' };
      const { id } = await server.iam.service.createUser(fx.adminCaller, creds.username, creds.password);
      const key = await apiJson<{ id: number; apiKey: string }>(fx.base, 'POST', '/iam/api-keys', basic(creds), { description: 'laptop' });
      return { id, creds, key };
    }

    it('a Manager cannot set the owner\'s password, revoke the owner\'s keys or take the owner out of a group', async () => {
      const manager = basic(fx.manager);
      const password = await problem(await api(fx.base, 'PUT', `/iam/users/${fx.ids.admin}/password`, manager, { password: 'taken-over-0123' }), 403);
      assert.match(password.detail, /account owner/);
      assert.equal((await api(fx.base, 'GET', '/whoami', basic(fx.admin))).status, 200, 'the owner\'s password is unchanged');

      const ownerKey = await apiJson<{ id: number }>(fx.base, 'POST', '/iam/api-keys', basic(fx.admin), { description: 'operator' });
      await problem(await api(fx.base, 'DELETE', `/iam/api-keys/${ownerKey.id}`, manager), 403);
      const keys = await apiJson<{ apiKeys: Array<{ id: number; revoked: string | null }> }>(fx.base, 'GET', '/iam/api-keys', basic(fx.admin));
      assert.equal(keys.apiKeys.find((k) => k.id === ownerKey.id)?.revoked, null, 'the owner\'s key still works');

      const group = await server.iam.service.createGroup(fx.adminCaller, unique('ops-'));
      await server.iam.service.setGroupMember(fx.adminCaller, group.id, `user:${fx.ids.admin}`, true);
      await problem(await api(fx.base, 'DELETE', `/iam/groups/${group.id}/members/user:${fx.ids.admin}`, manager), 403);
      const groups = await server.iam.service.listGroups(fx.adminCaller);
      assert.deepEqual(groups.find((g) => g.id === group.id)?.members, [`user:${fx.ids.admin}`]);

      // The refusals are audited; the owner itself may do all of it.
      const { events } = await server.iam.service.auditEvents(fx.adminCaller, 20);
      assert.ok(events.some((e) => e.action === 'user.password' && e.outcome === 'deny' && e.actor === 'user manager'));
      assert.equal((await api(fx.base, 'DELETE', `/iam/api-keys/${ownerKey.id}`, basic(fx.admin))).status, 204);
      assert.equal((await api(fx.base, 'DELETE', `/iam/groups/${group.id}/members/user:${fx.ids.admin}`, basic(fx.admin))).status, 204);
    });

    it('a Manager still resets the password of a user with no more authority, and the owner a Manager\'s', async () => {
      const user = await newUser();
      assert.equal((await api(fx.base, 'PUT', `/iam/users/${user.id}/password`, basic(fx.manager), { password: 'reset-by-manager-0123' })).status, 204);
      assert.equal((await api(fx.base, 'GET', '/whoami', basic({ username: user.creds.username, password: 'reset-by-manager-0123' }))).status, 200);
      const other = await server.iam.service.createUser(fx.adminCaller, unique('manager-'), 'other-manager-0123');
      await server.iam.service.createPolicy(fx.adminCaller, { subject: `user:${other.id}`, role: 'manager' });
      assert.equal((await api(fx.base, 'PUT', `/iam/users/${other.id}/password`, basic(fx.admin), { password: 'reset-by-owner-0123' })).status, 204);
    });

    it('changing your own password needs the current one', async () => {
      const user = await newUser();
      const path = `/iam/users/${user.id}/password`;
      const missing = await problem(await api(fx.base, 'PUT', path, basic(user.creds), { password: 'second-password-0123' }), 400);
      assert.match(missing.detail, /current password/);
      const wrong = await problem(await api(fx.base, 'PUT', path, basic(user.creds), { password: 'second-password-0123', currentPassword: 'not-the-password' }), 403);
      assert.match(wrong.detail, /current password is wrong/);
      // Its own API key is no current password either.
      await problem(await api(fx.base, 'PUT', path, basic(user.creds), { password: 'second-password-0123', currentPassword: user.key.apiKey }), 403);
      assert.equal((await api(fx.base, 'GET', '/whoami', basic(user.creds))).status, 200, 'the password is unchanged');
      assert.equal((await api(fx.base, 'PUT', path, basic(user.creds), { password: 'second-password-0123', currentPassword: user.creds.password })).status, 204);
      assert.equal((await api(fx.base, 'GET', '/whoami', basic({ ...user.creds, password: 'second-password-0123' }))).status, 200);
    });

    it('an API key, or a token or refresh token obtained with one, neither changes the password nor mints keys', async () => {
      const user = await newUser();
      const viaKey = { username: 'iamapikey', password: user.key.apiKey };
      const keyToken = await fetchToken(fx.base, viaKey, []);
      assert.equal(jwtPayload(keyToken).akid, user.key.id, 'the token carries the key it was obtained with');
      const refreshed = await (await postToken(fx.base, { grant_type: 'password', username: 'iamapikey', password: user.key.apiKey, access_type: 'offline' })).json() as OAuthBody;
      const renewed = await (await postToken(fx.base, { grant_type: 'refresh_token', refresh_token: refreshed.refresh_token! })).json() as OAuthBody;
      for (const [label, authorization] of [['Basic key', basic(viaKey)], ['key token', `Bearer ${keyToken}`], ['refreshed key token', `Bearer ${renewed.access_token}`]] as const) {
        const minted = await problem(await api(fx.base, 'POST', '/iam/api-keys', authorization, { description: `from ${label}` }), 403);
        assert.match(minted.detail, /password login/, label);
        await problem(await api(fx.base, 'PUT', `/iam/users/${user.id}/password`, authorization, { password: 'stolen-password-0123', currentPassword: user.creds.password }), 403);
      }
      const keys = await apiJson<{ apiKeys: unknown[] }>(fx.base, 'GET', '/iam/api-keys', basic(user.creds));
      assert.equal(keys.apiKeys.length, 1, 'no key was minted');
      // Revoking the leaked key leaves nothing behind.
      assert.equal((await api(fx.base, 'DELETE', `/iam/api-keys/${user.key.id}`, basic(user.creds))).status, 204);
      assert.equal((await api(fx.base, 'GET', '/whoami', basic(viaKey))).status, 401);

      // A token obtained with the password is a password login.
      const passwordToken = await fetchToken(fx.base, user.creds, []);
      assert.equal((await api(fx.base, 'POST', '/iam/api-keys', `Bearer ${passwordToken}`, { description: 'new laptop' })).status, 201);
    });

    it('a service ID cannot mint its own keys; a Manager (even with an API key) makes them for it', async () => {
      const own = await problem(await api(fx.base, 'POST', '/iam/api-keys', basic(fx.service), { description: 'more', serviceId: fx.ids.service }), 403);
      assert.match(own.detail, /service ID/);
      await problem(await api(fx.base, 'POST', '/iam/api-keys', basic(fx.service), { description: 'more' }), 403);
      const managerKey = await apiJson<{ apiKey: string }>(fx.base, 'POST', '/iam/api-keys', basic(fx.manager), { description: 'automation' });
      const created = await apiJson<{ owner: string }>(fx.base, 'POST', '/iam/api-keys', basic({ username: 'iamapikey', password: managerKey.apiKey }), { description: 'ci', serviceId: fx.ids.service });
      assert.equal(created.owner, `service:${fx.ids.service}`);
    });
  });
}
