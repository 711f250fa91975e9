import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { connectMetadata } from '../../src/metadata/connect.js';
import { Iam } from '../../src/iam/iam.js';
import { AuthenticationError } from '../../src/iam/authenticator.js';
import { bootstrapAdministrator } from '../../src/iam/bootstrap.js';
import { startTestServer, TEST_ADMIN_PASSWORD } from '../support/server.js';

/**
 * A new registry opens its port before it has made its administrator (the argon2 hash is off the
 * path of the first answer): a login in that moment waits for the administrator instead of failing.
 */
describe('the administrator made just after the port opens', () => {
  it('a login that arrives while the administrator is being made waits for it and succeeds', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wharf-start-accounts-'));
    const metadata = await connectMetadata({ engine: 'sqlite', sqlitePath: path.join(dir, 'meta.db'), url: '', poolSize: 1 });
    try {
      const config = loadConfig({ env: {}, overrides: { auth: { enabled: true } } });
      const iam = new Iam(metadata.db, config.auth, pino({ level: 'silent' }), () => Date.now());
      // Without the wait, the same login before the administrator exists is refused: the test can fail.
      await assert.rejects(iam.authenticator.basic('admin', TEST_ADMIN_PASSWORD, '127.0.0.1'), AuthenticationError);

      let create!: () => void;
      const creation = new Promise<void>((resolve) => { create = resolve; });
      iam.authenticator.waitForAccounts(creation);
      let settled = false;
      const login = iam.authenticator.basic('admin', TEST_ADMIN_PASSWORD, '127.0.0.2').finally(() => { settled = true; });
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(settled, false, 'the login waits while the administrator is being made');
      const made = await bootstrapAdministrator(metadata.db, { account: 'default', username: 'admin', password: TEST_ADMIN_PASSWORD }, Date.now());
      assert.equal(made.created, true);
      create();
      const principal = await login;
      assert.equal(principal.name, 'admin');
      assert.equal(principal.kind === 'user' && principal.owner, true);
      // Once made, logins no longer wait, and a wrong password is still refused.
      await assert.rejects(iam.authenticator.basic('admin', 'wrong-password-123', '127.0.0.3'), AuthenticationError);
      await iam.audit.stop();
    } finally {
      await metadata.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a started server has its administrator and signing key: a token is issued at once', async () => {
    const server = await startTestServer('sqlite', { auth: { enabled: true } });
    try {
      const res = await fetch(`${server.url}/auth/token?service=${encodeURIComponent(server.config.auth.service)}&scope=registry:catalog:*`, {
        headers: { authorization: `Basic ${Buffer.from(`admin:${TEST_ADMIN_PASSWORD}`).toString('base64')}` },
      });
      assert.equal(res.status, 200);
      assert.match(((await res.json()) as { token: string }).token, /^ey/);
      const jwks = (await (await fetch(`${server.url}/auth/jwks.json`)).json()) as { keys: unknown[] };
      assert.equal(jwks.keys.length, 1);
    } finally {
      await server.stop();
    }
  });
});
