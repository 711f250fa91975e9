import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { engines, startTestServer, type TestServer } from '../support/server.js';
import { api, apiJson, basic, setUpTenants, PASSWORDS, type Tenants } from '../support/iam.js';
import { consolePlugin } from '../../src/http/console/plugin.js';

interface Permissions { accountRole: string | null; namespaces: Array<{ name: string; role: string | null }> }

for (const engine of engines()) {
  describe(`GET /api/v1/permissions: what the console may offer [${engine}]`, () => {
    let server: TestServer;
    let t: Tenants;

    before(async () => {
      server = await startTestServer(engine, { auth: { enabled: true } });
      t = await setUpTenants(server);
    });
    after(async () => { await server.stop(); });

    it('gives each principal its account role and its role in each namespace it sees, never another tenant\'s', async () => {
      const of = (username: keyof typeof PASSWORDS) => apiJson<Permissions>(server.url, 'GET', '/permissions', basic({ username, password: PASSWORDS[username] }));
      assert.deepEqual(await of('reader'), { accountRole: null, namespaces: [{ name: 'teama', role: 'reader' }] });
      assert.deepEqual(await of('writer'), { accountRole: null, namespaces: [{ name: 'teama', role: 'writer' }] });
      assert.deepEqual(await of('manager'), { accountRole: 'manager', namespaces: [{ name: 'teama', role: 'manager' }] });
      assert.deepEqual(await of('bowner'), { accountRole: 'manager', namespaces: [{ name: 'teamb', role: 'manager' }] });
      assert.equal((await api(server.url, 'GET', '/permissions')).status, 401, 'anonymous callers are refused');
      const doc = await (await fetch(`${server.url}/api/v1/openapi.json`)).json() as { paths: Record<string, unknown> };
      for (const route of ['/api/v1/permissions', '/api/v1/stats']) assert.ok(route in doc.paths, `${route} documented`);
    });

    it('answers a refused Bearer token with a Bearer challenge, so a browser asks no password of its own', async () => {
      const res = await api(server.url, 'GET', '/permissions', 'Bearer not-a-token');
      assert.equal(res.status, 401);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm="[^"]+", error="invalid_token"$/);
      const wrong = await api(server.url, 'GET', '/permissions', basic({ username: 'reader', password: 'wrong' }));
      assert.match(wrong.headers.get('www-authenticate') ?? '', /^Basic /, 'Basic credentials are still challenged as Basic');
      assert.ok(t.base);
    });

    it('revokes a refresh token at POST /auth/revoke (the console\'s sign-out), and says nothing about anything else', async () => {
      const form = (body: Record<string, string>) => ({ method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body) });
      const login = await fetch(`${server.url}/auth/token`, form({ grant_type: 'password', username: 'reader', password: PASSWORDS.reader, access_type: 'offline' }));
      const { refresh_token: refresh } = await login.json() as { refresh_token: string };
      const renew = () => fetch(`${server.url}/auth/token`, form({ grant_type: 'refresh_token', refresh_token: refresh }));
      assert.equal((await renew()).status, 200, 'the refresh token works before');
      assert.equal((await fetch(`${server.url}/auth/revoke`, form({ token: refresh }))).status, 200);
      assert.equal((await renew()).status, 401, 'and not after');
      const other = await fetch(`${server.url}/auth/revoke`, form({ token: 'wrt_AAAAAAAAAAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }));
      assert.equal(other.status, 200, 'an unknown token answers the same');
      assert.equal((await fetch(`${server.url}/auth/revoke`, form({}))).status, 400);
    });

    it('is left out with console.enabled false: / is the registry\'s 404 again', async () => {
      const off = await startTestServer(engine, { console: { enabled: false } });
      try {
        const res = await fetch(`${off.url}/`);
        assert.equal(res.status, 404);
        assert.match(await res.text(), /"errors"/);
      } finally {
        await off.stop();
      }
    });
  });
}

describe('console file serving', () => {
  let dir: string;
  const app = Fastify();

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'wharf-console-files-'));
    mkdirSync(path.join(dir, 'assets'));
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>console</title>');
    writeFileSync(path.join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
    writeFileSync(path.join(os.tmpdir(), 'wharf-outside.txt'), 'secret');
    await app.register(consolePlugin, { dir });
  });
  after(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(path.join(os.tmpdir(), 'wharf-outside.txt'), { force: true });
  });

  it('serves hashed assets for a year and the index page for client routes, never files outside', async () => {
    const asset = await app.inject({ method: 'GET', url: '/assets/index-abc123.js' });
    assert.equal(asset.statusCode, 200);
    assert.equal(asset.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable');
    for (const url of ['/', '/images/teama/app@sha256:00', '/iam/api-keys?x=1']) {
      const page = await app.inject({ method: 'GET', url });
      assert.equal(page.statusCode, 200, url);
      assert.equal(page.body, '<!doctype html><title>console</title>');
      assert.equal(page.headers['cache-control'], 'no-cache');
      assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
    }
    const head = await app.inject({ method: 'HEAD', url: '/assets/index-abc123.js' });
    assert.equal(head.statusCode, 200);
    assert.equal(head.body, '');
    for (const url of ['/assets/index-gone.js', '/../wharf-outside.txt', '/%2e%2e/wharf-outside.txt', '/assets/..%2f..%2fwharf-outside.txt']) {
      const res = await app.inject({ method: 'GET', url });
      assert.notEqual(res.body, 'secret', url);
      assert.ok(res.statusCode === 404 || res.body.startsWith('<!doctype html>'), `${url}: ${res.statusCode}`);
    }
  });

  it('leaves unknown paths of the other surfaces to their formats', async () => {
    const v2 = await app.inject({ method: 'GET', url: '/v2/x/y/z' });
    assert.equal(v2.statusCode, 404);
    assert.equal(JSON.parse(v2.body).errors[0].code, 'NAME_UNKNOWN');
    const apiRes = await app.inject({ method: 'GET', url: '/api/v1/nothing' });
    assert.equal(apiRes.statusCode, 404);
    assert.match(String(apiRes.headers['content-type']), /problem\+json/);
    for (const url of ['/metrics', '/livez', '/auth/token', '/.well-known/jwks.json']) {
      assert.equal((await app.inject({ method: 'GET', url })).statusCode, 404, url);
    }
  });
});
