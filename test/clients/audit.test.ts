import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from '../support/server.js';
import { setUpTenants, PASSWORDS } from '../support/iam.js';
import { describeRun, ensureBuilt, runCommand, WHARF_BIN, type CommandResult } from '../support/process.js';
import { OciLayout, singleLayerImage } from '../support/oci-layout.js';

/**
 * skopeo's cross-repository mount probe against the audit trail, read with the real `wharf audit`:
 * a push of layers skopeo has seen in a repository the pusher cannot read makes skopeo probe that
 * repository for them (HEAD, refused) before uploading them, and the trail shows the push, not a denial.
 */

const skopeoVersion = await runCommand('skopeo', ['--version']).then((r) => (r.code === 0 ? r.stdout.trim() : undefined), () => undefined);

interface AuditEvent { actor: string; action: string; resource: string; outcome: string; requestId: string | null; count: number }

describe('skopeo mount probes and wharf audit', { skip: skopeoVersion ? false : 'skopeo is not installed (Debian package "skopeo")' }, () => {
  let server: TestServer;
  let work: string;
  const seen: Array<{ method: string; url: string; status: number }> = [];

  function wharf(args: string[], input?: string): Promise<CommandResult> {
    return runCommand(process.execPath, [WHARF_BIN, ...args], { env: { PATH: process.env.PATH ?? '', HOME: work, WHARF_CLI_CONFIG: path.join(work, 'config.json') }, timeoutMs: 60_000, ...(input ? {} : {}) })
      .then((r) => r);
  }
  async function ok(args: string[]): Promise<string> {
    const result = await wharf(args);
    assert.equal(result.code, 0, describeRun('wharf', args, result));
    return result.stdout;
  }

  before(async () => {
    await ensureBuilt();
    server = await startTestServer('sqlite', { auth: { enabled: true }, audit: { flushInterval: '200ms' } });
    await setUpTenants(server);
    server.app.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      res.on('finish', () => seen.push({ method: req.method ?? '', url: req.url ?? '', status: res.statusCode }));
    });
    work = mkdtempSync(path.join(os.tmpdir(), 'wharf-audit-cli-'));
  });
  after(async () => {
    await server?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('a mount probe from an unreadable repository falls back to an upload and is not a denial; wharf audit shows the push', async () => {
    const host = new URL(server.url).host;
    const layout = new OciLayout(path.join(work, 'layout'));
    const image = singleLayerImage(layout, 'v1');
    // The administrator creates teamc (the writer has no role there) and pushes the image into it:
    // skopeo's blob cache now knows its layers at teamc/src.
    const admin = await runCommand('curl', ['-sf', '-u', `admin:${TEST_ADMIN_PASSWORD}`, '-H', 'content-type: application/json', '-d', '{"name":"teamc"}', `${server.url}/api/v1/namespaces`]);
    assert.equal(admin.code, 0, describeRun('curl', [], admin));
    const copy = async (creds: string, repo: string) => {
      const args = ['copy', '--dest-tls-verify=false', '--dest-creds', creds, `oci:${layout.dir}:v1`, `docker://${host}/${repo}:v1`];
      const result = await runCommand('skopeo', args, { timeoutMs: 120_000 });
      assert.equal(result.code, 0, describeRun('skopeo', args, result));
    };
    await copy(`admin:${TEST_ADMIN_PASSWORD}`, 'teamc/src');
    const pushStarted = new Date().toISOString();
    seen.length = 0;
    await copy(`writer:${PASSWORDS.writer}`, 'teama/copy');
    // skopeo 1.9 checks the layer in the repository it saw it in (HEAD, with a token asked for its
    // pull scope, which is not granted), and uploads when refused; newer versions also POST ?mount=&from=.
    const probes = seen.filter((r) => r.url.startsWith('/v2/teamc/src/blobs/') || (r.method === 'POST' && r.url.includes('from=teamc')));
    assert.ok(probes.length > 0, `skopeo probed teamc/src for its layers: ${JSON.stringify(seen)}`);
    assert.ok(probes.every((r) => r.status === 403 || r.status === 202), JSON.stringify(probes));
    assert.ok(seen.some((r) => r.method === 'PUT' && r.url === '/v2/teama/copy/manifests/v1' && r.status === 201));

    const login = await runCommand('sh', ['-c', `printf '%s\\n' "$PW" | "$NODE" "$BIN" login "$URL" -u admin --password-stdin`], {
      env: { PATH: process.env.PATH ?? '', HOME: work, WHARF_CLI_CONFIG: path.join(work, 'config.json'), PW: TEST_ADMIN_PASSWORD, NODE: process.execPath, BIN: WHARF_BIN, URL: server.url },
      timeoutMs: 60_000,
    });
    assert.equal(login.code, 0, describeRun('wharf login', [], login));

    const denials = JSON.parse(await ok(['audit', '--principal', 'writer', '--outcome', 'deny', '--since', pushStarted, '--format', 'json'])) as { events: AuditEvent[] };
    assert.deepEqual(denials.events, [], 'no denial recorded for the probes');
    // Batched rows (logins, token grants) are written within the flush interval: poll for the push.
    let events: AuditEvent[] = [];
    const deadline = Date.now() + 30_000;
    while (!events.some((e) => e.action === 'token.issue')) {
      assert.ok(Date.now() < deadline, 'the token grants of the push were not written');
      const jsonl = await ok(['audit', '--principal', 'writer', '--since', pushStarted, '--format', 'jsonl']);
      events = jsonl.split('\n').filter(Boolean).map((line) => JSON.parse(line) as AuditEvent);
    }
    const push = events.find((e) => e.action === 'registry.push' && e.resource === 'teama/copy:v1');
    assert.ok(push, `the push is in the trail: ${JSON.stringify(events)}`);
    assert.equal(push.outcome, 'success');
    assert.ok(push.requestId);
    assert.ok(events.every((e) => e.outcome === 'success'), JSON.stringify(events));

    const table = await ok(['audit', '--action', 'registry.push', '--namespace', 'teama', '--since', pushStarted]);
    const lines = table.trimEnd().split('\n');
    assert.match(lines[0]!, /^Time\s+Principal\s+Action\s+Resource\s+Outcome\s+Source\s+Count$/);
    assert.ok(lines.some((l) => /\buser writer\s+registry\.push\s+teama\/copy:v1\s+success\s+127\.0\.0\.1\s+1$/.test(l)), table);
    const bad = await wharf(['audit', '--since', 'last week']);
    assert.equal(bad.code, 2, describeRun('wharf', ['audit'], bad));
    assert.match(bad.stderr, /--since "last week" is neither a duration/);
  });
});
