import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { LoginThrottle } from '../../src/iam/login-throttle.js';
import { engines, startTestServer, type TestServer } from '../support/server.js';
import { basic, parseChallenge, setUpTenants, type Creds, type Tenants } from '../support/iam.js';

/**
 * Brute force is slowed per user and source without locking the user out: the throttle in the
 * database (shared by replicas), sources taken from X-Forwarded-For only behind a trusted proxy, and
 * the token realm that no request header can move.
 */

const FREE_FAILURES = 3;
const BACKOFF_SECONDS = 120;
const ATTACKER = '198.51.100.7';
const USER_ELSEWHERE = '203.0.113.20';

/** One request with exactly these headers (fetch may not send a Host of our choosing). */
function raw(base: string, path: string, headers: Record<string, string>, method = 'GET'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function tokenFrom(base: string, creds: Creds, forwardedFor?: string) {
  return raw(base, '/auth/token?service=wharf', { Authorization: basic(creds), ...(forwardedFor ? { 'X-Forwarded-For': forwardedFor } : {}) });
}

for (const engine of engines()) {
  describe(`login throttle behind a trusted proxy [${engine}]`, () => {
    let server: TestServer;
    let fx: Tenants;

    before(async () => {
      server = await startTestServer(engine, {
        http: { trustProxy: ['127.0.0.1'] },
        auth: { enabled: true, maxFailedLogins: FREE_FAILURES, loginBackoff: BACKOFF_SECONDS },
      });
      fx = await setUpTenants(server);
    });
    after(async () => { await server?.stop(); });

    it('an attacker guessing from one address waits; the user logs in from any other address, and through the proxy itself', async () => {
      const wrong = { username: fx.writer.username, password: 'not-the-password-000' };
      for (let i = 0; i < FREE_FAILURES; i++) assert.equal((await tokenFrom(fx.base, wrong, ATTACKER)).status, 401, `failure ${i + 1}`);

      // The attacker's address now waits, even with the right password (it could be a lucky guess).
      const limited = await tokenFrom(fx.base, fx.writer, ATTACKER);
      assert.equal(limited.status, 429);
      const retryAfter = Number(limited.headers['retry-after']);
      assert.ok(retryAfter > BACKOFF_SECONDS - 30 && retryAfter <= BACKOFF_SECONDS, `Retry-After ${retryAfter}`);
      assert.match(limited.body, /"code":"TOOMANYREQUESTS"/);
      assert.match(limited.body, /try again in \d+ seconds/);
      const v2 = await raw(fx.base, '/v2/', { Authorization: basic(fx.writer), 'X-Forwarded-For': ATTACKER });
      assert.equal(v2.status, 429);
      const apiRes = await raw(fx.base, '/api/v1/whoami', { Authorization: basic(fx.writer), 'X-Forwarded-For': ATTACKER });
      assert.equal(apiRes.status, 429);

      // The real user, from elsewhere: every surface accepts the right password.
      assert.equal((await tokenFrom(fx.base, fx.writer, USER_ELSEWHERE)).status, 200);
      assert.equal((await raw(fx.base, '/v2/', { Authorization: basic(fx.writer), 'X-Forwarded-For': USER_ELSEWHERE })).status, 200);
      assert.equal((await raw(fx.base, '/api/v1/whoami', { Authorization: basic(fx.writer), 'X-Forwarded-For': USER_ELSEWHERE })).status, 200);
      // A request without X-Forwarded-For comes from the proxy's own address, which is not the attacker's.
      assert.equal((await tokenFrom(fx.base, fx.writer)).status, 200);
      // A client behind a chain of proxies is the right-most address the trusted proxy did not add.
      assert.equal((await tokenFrom(fx.base, fx.writer, `${ATTACKER}, ${USER_ELSEWHERE}`)).status, 200);
      assert.equal((await tokenFrom(fx.base, fx.writer, `${USER_ELSEWHERE}, ${ATTACKER}`)).status, 429);

      // Tries while waiting are refused without being counted: the wait does not grow.
      const row = () => server.metadata.db.selectFrom('login_throttle').selectAll().where('subject', '=', 'writer').where('source', '=', ATTACKER).executeTakeFirstOrThrow();
      const blocked = await row();
      assert.equal(blocked.failures, FREE_FAILURES);
      assert.equal((await tokenFrom(fx.base, wrong, ATTACKER)).status, 429);
      assert.deepEqual(await row(), blocked);

      // The audit names the attacker's address, not the proxy's.
      const audit = await (await fetch(`${fx.base}/api/v1/audit?limit=1000`, { headers: { Authorization: basic(fx.admin) } })).json() as { events: Array<{ actor: string; outcome: string; source: string }> };
      const failures = audit.events.filter((e) => e.actor === 'login writer' && e.outcome === 'failure');
      assert.equal(failures.length, FREE_FAILURES);
      assert.ok(failures.every((e) => e.source === ATTACKER), JSON.stringify(failures));
    });

    it('an API key is never locked out by someone who knows its public prefix', async () => {
      const prefix = fx.service.password.split('_')[1]!;
      const forged = { username: 'iamapikey', password: `wharf_${prefix}_${'A'.repeat(43)}` };
      for (let i = 0; i < FREE_FAILURES; i++) assert.equal((await tokenFrom(fx.base, forged, ATTACKER)).status, 401);
      assert.equal((await tokenFrom(fx.base, forged, ATTACKER)).status, 429, 'the forger waits');
      assert.equal((await tokenFrom(fx.base, fx.service, ATTACKER)).status, 200, 'the real key works even from the forger\'s address');
      assert.equal((await tokenFrom(fx.base, fx.service, USER_ELSEWHERE)).status, 200);
      assert.equal((await tokenFrom(fx.base, forged, ATTACKER)).status, 429, 'and the forger still waits');
    });

    it('the token realm follows the trusted proxy\'s X-Forwarded-Proto and -Host', async () => {
      const res = await raw(fx.base, '/v2/teama/app/tags/list', { Host: 'internal:5000', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'registry.example.com' });
      assert.equal(res.status, 401);
      assert.equal(parseChallenge(res.headers['www-authenticate'] as string)?.realm, 'https://registry.example.com/auth/token');
    });
  });

  describe(`login throttle without a trusted proxy [${engine}]`, () => {
    let server: TestServer;
    let fx: Tenants;

    before(async () => {
      server = await startTestServer(engine, {
        http: { publicUrl: 'https://registry.example.com/' },
        auth: { enabled: true, maxFailedLogins: FREE_FAILURES, loginBackoff: BACKOFF_SECONDS },
      });
      fx = await setUpTenants(server);
    });
    after(async () => { await server?.stop(); });

    it('X-Forwarded-For from a client is not believed: a new forged address per guess gains nothing', async () => {
      const wrong = { username: fx.reader.username, password: 'not-the-password-000' };
      for (let i = 0; i < FREE_FAILURES; i++) assert.equal((await tokenFrom(fx.base, wrong, `192.0.2.${i + 1}`)).status, 401);
      assert.equal((await tokenFrom(fx.base, wrong, '192.0.2.99')).status, 429);
      const rows = await server.metadata.db.selectFrom('login_throttle').select('source').where('subject', '=', 'reader').execute();
      assert.deepEqual(rows.map((r) => r.source), ['127.0.0.1']);
    });

    it('the token realm is http.publicUrl, whatever Host and X-Forwarded-* say', async () => {
      const res = await raw(fx.base, '/v2/teama/app/tags/list', { Host: 'evil.example', 'X-Forwarded-Proto': 'http', 'X-Forwarded-Host': 'evil.example' });
      assert.equal(res.status, 401);
      assert.equal(parseChallenge(res.headers['www-authenticate'] as string)?.realm, 'https://registry.example.com/auth/token');
      // Upload locations stay relative, so they cannot point elsewhere either.
      const upload = await raw(fx.base, '/v2/teama/app/blobs/uploads/', { Host: 'evil.example', Authorization: basic(fx.writer) }, 'POST');
      assert.equal(upload.status, 202, upload.body);
      assert.match(upload.headers.location!, /^\/v2\/teama\/app\/blobs\/uploads\/[\w-]+$/);
    });
  });

  describe(`login throttle back-off [${engine}]`, () => {
    let server: TestServer;
    let now = 1_800_000_000_000;
    let throttle: LoginThrottle;

    before(async () => {
      server = await startTestServer(engine);
      throttle = new LoginThrottle(server.metadata.db, { freeFailures: 3, forgetAfterMs: 3_600_000, backoffMs: 1000, maxBackoffMs: 60_000 }, () => now);
    });
    after(async () => { await server?.stop(); });

    it('waits double with each failure past the free ones, up to the maximum; a success starts afresh', async () => {
      for (let i = 0; i < 3; i++) assert.equal(await throttle.attempt('carol', '10.0.0.1'), 0);
      const waits: number[] = [];
      for (let i = 0; i < 8; i++) {
        const wait = await throttle.waitFor('carol', '10.0.0.1');
        waits.push(wait);
        assert.equal(await throttle.attempt('carol', '10.0.0.1'), wait, 'refused for as long as it waits');
        now += wait;
        assert.equal(await throttle.attempt('carol', '10.0.0.1'), 0, 'then one more try');
      }
      assert.deepEqual(waits, [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000]);
      assert.equal(await throttle.waitFor('CAROL', '10.0.0.1'), 60_000, 'user names are case-insensitive');
      assert.equal(await throttle.waitFor('carol', '10.0.0.2'), 0, 'another source does not wait');
      assert.equal(await throttle.waitFor('dave', '10.0.0.1'), 0, 'another user does not wait');
      await throttle.succeeded('carol', '10.0.0.1');
      assert.equal(await throttle.waitFor('carol', '10.0.0.1'), 0);
    });

    it('failures are forgotten after a quiet hour, and forgotten rows are removed', async () => {
      for (let i = 0; i < 3; i++) await throttle.attempt('erin', '10.0.0.3');
      assert.ok(await throttle.waitFor('erin', '10.0.0.3') > 0);
      now += 3_600_001;
      assert.equal(await throttle.attempt('erin', '10.0.0.3'), 0);
      assert.equal(await throttle.attempt('erin', '10.0.0.3'), 0, 'the count started again');
      now += 3_600_001;
      await throttle.attempt('frank', '10.0.0.4');
      // The purge runs in the background; poll for it.
      const deadline = Date.now() + 30_000;
      while ((await server.metadata.db.selectFrom('login_throttle').select('subject').where('subject', '=', 'erin').execute()).length > 0) {
        assert.ok(Date.now() < deadline, 'the forgotten row was not removed');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    });

    it('a burst of parallel guesses gets only the free attempts through', async () => {
      const results = await Promise.all(Array.from({ length: 40 }, () => throttle.attempt('grace', '10.0.0.5')));
      assert.equal(results.filter((w) => w === 0).length, 3, JSON.stringify(results));
    });

    it('an IPv6 client is one source for its whole /64', async () => {
      for (let i = 0; i < 3; i++) await throttle.attempt('heidi', `2001:db8:5:6::${i + 1}`);
      assert.ok(await throttle.waitFor('heidi', '2001:db8:5:6:ffff::9') > 0);
      assert.equal(await throttle.waitFor('heidi', '2001:db8:5:7::1'), 0);
    });
  });
}
