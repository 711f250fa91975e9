import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from '../support/server.js';
import { describeRun, ensureBuilt, wharfCli } from '../support/process.js';

/** Exemptions with an expiry as a Manager meets them in the real `wharf` binary. */

const NS = 'lapsing-team';

describe('wharf exemption add --expires / list', () => {
  let server: TestServer;
  let work: string;

  const { run: wharf, ok } = wharfCli(() => work);

  before(async () => {
    await ensureBuilt();
    server = await startTestServer('sqlite', { auth: { enabled: true } });
    work = mkdtempSync(path.join(os.tmpdir(), 'wharf-exemption-expiry-'));
    await ok(['login', server.url, '-u', 'admin', '--password-stdin'], TEST_ADMIN_PASSWORD);
    await ok(['namespace', 'add', NS]);
  });

  after(async () => {
    await server?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('adds exemptions that end after a duration or on a date, lists when they end, and marks the expired ones', async () => {
    const added = await ok(['exemption', 'add', 'CVE-2021-44906', '--namespace', NS, '--expires', '30d', '--reason', 'fix ships next sprint', '--format', 'json']);
    const created = JSON.parse(added.stdout) as { id: number; expiresAt: string; expired: boolean };
    const days = (Date.parse(created.expiresAt) - Date.now()) / 86_400_000;
    assert.ok(days > 29.9 && days <= 30, `30d is 30 days from now (${created.expiresAt})`);
    assert.equal(created.expired, false);
    const dated = await ok(['exemption', 'add', 'CVE-2020-7598', '--namespace', NS, '--expires', '2099-06-30', '--reason', 'accepted']);
    assert.match(dated.stdout, /until 2099-06-30T00:00:00\.000Z/);
    const forever = await ok(['exemption', 'add', 'image.runs-as-root', '--reason', 'legacy']);
    assert.doesNotMatch(forever.stdout, /until/);

    const bad = await wharf(['exemption', 'add', 'CVE-2020-7598', '--expires', 'soonish', '--reason', 'x']);
    assert.equal(bad.code, 2, describeRun('wharf', ['exemption', 'add'], bad));
    assert.match(bad.stderr, /--expires "soonish" is neither a duration \(30d, 12w\) nor a date/);

    // The first one's time is up (moved in the database; the server's clock is the real one).
    await server.metadata.db.updateTable('exemptions').set({ expires_at: Date.now() - 1000 }).where('id', '=', created.id).execute();
    const listed = (await ok(['exemption', 'list'])).stdout;
    const line = (issue: string) => listed.split('\n').find((l) => l.includes(issue)) ?? '';
    assert.match(line('CVE-2021-44906'), /\d{4}-\d{2}-\d{2} \(expired\)/);
    assert.match(line('CVE-2020-7598'), /2099-06-30(?! \(expired\))/);
    assert.match(line('image.runs-as-root'), /never/);
  });
});
