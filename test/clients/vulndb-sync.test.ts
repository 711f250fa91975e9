import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from '../support/server.js';
import { apiJson, basic, send } from '../support/iam.js';
import { tarOf } from '../support/scanner-layers.js';
import { describeRun, ensureBuilt, runCommand, WHARF_BIN } from '../support/process.js';
import { OsvFeedServer, osvZip } from '../support/osv-feed.js';

/**
 * `wharf vulndb sync|status|import` through the real binary, run as an operator runs it beside a
 * running registry (same data directory, SQLite shared with the server): the CLI fills the
 * advisory data from a local stand-in of OSV's bucket, the server's job runner does the rescans.
 */

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const fixture = (...p: string[]) => readFileSync(path.join(fixtures, ...p));
const record = (id: string) => JSON.parse(fixture('osv', `${id}.json`).toString('utf8')) as Record<string, unknown>;
const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('wharf vulndb sync through the real binary', () => {
  let server: TestServer;
  let feedServer: OsvFeedServer;
  let work: string;
  const admin = basic({ username: 'admin', password: TEST_ADMIN_PASSWORD });

  const wharf = (args: string[], env: Record<string, string> = {}) => runCommand(process.execPath, [WHARF_BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: work, WHARF_STORAGE_DATA_DIR: server.dataDir, WHARF_DATABASE_ENGINE: 'sqlite', WHARF_LOG_LEVEL: 'silent', WHARF_SCANNER_FEED_BASE: feedServer.url, ...env },
    timeoutMs: 120_000,
  });

  before(async () => {
    await ensureBuilt();
    work = mkdtempSync(path.join(os.tmpdir(), 'wharf-vulndb-cli-'));
    feedServer = new OsvFeedServer();
    await feedServer.start();
    feedServer.publish('npm', await osvZip([record('GHSA-vh95-rmgr-6w4m'), record('GHSA-xvch-5gv4-984h')]));
    server = await startTestServer('sqlite', { auth: { enabled: true }, scanner: { pollInterval: '50ms' } });
    await apiJson(server.url, 'POST', '/namespaces', admin, { name: 'ops-team' });
    const layer = gzipSync(await tarOf([{ name: 'app/node_modules/minimist/package.json', content: fixture('scanner', 'minimist-1.2.0.package.json') }]));
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [] }, nonce: randomBytes(4).toString('hex') }));
    for (const blob of [config, layer]) {
      const res = await send(server.url, { method: 'POST', path: `/v2/ops-team/app/blobs/uploads/?digest=${sha(blob)}`, headers: { 'Content-Type': 'application/octet-stream' }, body: blob }, admin);
      assert.equal(res.status, 201);
    }
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(layer), size: layer.length }],
    }));
    const res = await send(server.url, { method: 'PUT', path: '/v2/ops-team/app/manifests/v1', headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' }, body: manifest }, admin);
    assert.equal(res.status, 201);
    await server.jobs.drain();
  });
  after(async () => {
    await server?.stop();
    await feedServer?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('syncs the ecosystems the images contain, and the server rescans the image', async () => {
    const first = await wharf(['vulndb', 'sync']);
    assert.equal(first.code, 0, describeRun('wharf', ['vulndb', 'sync'], first));
    const lines = first.stdout.trim().split('\n');
    assert.match(lines[0]!, /^Source\s+Outcome\s+Records\s+Changed\s+Withdrawn$/);
    assert.match(lines[1]!, /^npm\s+updated\s+2\s+2\s+0$/);
    assert.match(first.stdout, /1 image\(s\) whose packages the changes touch queued for a rescan/);
    await server.jobs.drain();
    const report = await apiJson<{ vulnerabilities: Array<{ advisoryId: string }> }>(server.url, 'GET', `/images/${encodeURIComponent('ops-team/app:v1')}/report`, admin);
    assert.deepEqual(report.vulnerabilities.map((v) => v.advisoryId).sort(), ['GHSA-vh95-rmgr-6w4m', 'GHSA-xvch-5gv4-984h']);

    const second = await wharf(['vulndb', 'sync', '--format', 'json']);
    assert.equal(second.code, 0, describeRun('wharf', ['vulndb', 'sync'], second));
    const json = JSON.parse(second.stdout) as { sources: Array<{ source: string; outcome: string }>; rescansQueued: number };
    assert.deepEqual(json.sources.map((s) => [s.source, s.outcome]), [['npm', 'unchanged']]);
    assert.equal(json.rescansQueued, 0);
    assert.deepEqual(feedServer.requestsFor('npm').map((r) => r.status), [200, 304]);
  });

  it('shows each source\'s last sync, age, count and ETag in wharf vulndb status', async () => {
    const result = await wharf(['vulndb', 'status']);
    assert.equal(result.code, 0, describeRun('wharf', ['vulndb', 'status'], result));
    assert.match(result.stdout, /^Advisories: 2\n/);
    const row = result.stdout.split('\n').find((l) => l.startsWith('npm '));
    assert.ok(row, result.stdout);
    assert.match(row, /^npm\s+\d{4}-\d\d-\d\dT[\d:.]+Z\s+\d+s\s+2\s+"[0-9a-f]{32}"\s+-$/);
  });

  it('fails with the reason when the mirror fails, and the data stays', async () => {
    feedServer.fail('npm', 503);
    try {
      feedServer.publish('npm', await osvZip([record('GHSA-vh95-rmgr-6w4m')]));
      const result = await wharf(['vulndb', 'sync']);
      assert.equal(result.code, 1, describeRun('wharf', ['vulndb', 'sync'], result));
      assert.match(result.stderr, /npm: GET http:\/\/127\.0\.0\.1:\d+\/npm\/all\.zip answered HTTP 503 .*the previous data is kept/);
      assert.match(result.stderr, /1 of 1 source\(s\) could not be updated/);
      const status = await wharf(['vulndb', 'status', '--format', 'json']);
      const parsed = JSON.parse(status.stdout) as { advisories: number; sources: Array<{ lastError: string | null }> };
      assert.equal(parsed.advisories, 2);
      assert.match(parsed.sources[0]!.lastError ?? '', /HTTP 503/);
    } finally {
      feedServer.fail('npm', undefined);
    }
  });

  it('imports a zip export with wharf vulndb import', async () => {
    const dir = path.join(work, 'export');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'PyPI-all.zip');
    writeFileSync(file, await osvZip([record('GHSA-8q59-q68h-6hv4'), record('GHSA-h5c8-rqwp-cp95')]));
    const result = await wharf(['vulndb', 'import', file]);
    assert.equal(result.code, 0, describeRun('wharf', ['vulndb', 'import', file], result));
    assert.match(result.stdout, /^Imported 2 advisories from .*PyPI-all\.zip \(2 new or changed\)/);
    // No image has a Python package: nothing to rescan.
    assert.doesNotMatch(result.stdout, /queued for a rescan/);
    const again = await wharf(['vulndb', 'import', file]);
    assert.match(again.stdout, /\(0 new or changed\)/);
  });
});
