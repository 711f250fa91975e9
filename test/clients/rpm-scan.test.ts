import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { engines, startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from '../support/server.js';
import { apiJson, basic, send } from '../support/iam.js';
import { tarOf } from '../support/scanner-layers.js';
import { buildRealRpmdb, type RealRpmdb } from '../support/rpmdb.js';
import { compareRpm } from '../../src/scanner/versions/rpm.js';

/**
 * Checked against rpm's own answer. rpm (Debian's 4.18) compares EVRs with its Lua `rpm.ver`
 * objects, the comparison dnf and rpm -U apply; the scanner's comparator must agree on every pair,
 * and a scan of a real rpmdb.sqlite (written by `rpm -i --justdb` of packages rpmbuild made, see
 * test/support/rpmdb.ts) must report exactly the advisories whose fixed version rpm puts above the
 * installed one — none missed, none extra. The advisories are built here in the shape of OSV's
 * Red Hat records (ecosystem "Red Hat:enterprise_linux:9::baseos", epoch-qualified fixed
 * versions), since no published Red Hat record names these probe packages.
 */

const hasRpm = spawnSync('rpm', ['--version']).status === 0;

/** rpm's verdict on many pairs at once: -1, 0 or 1 per pair, from one `rpm --eval` of a Lua loop. */
function rpmCompare(pairs: Array<[string, string]>): number[] {
  const quote = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  const lua = `local p = {${pairs.map(([a, b]) => `{${quote(a)},${quote(b)}}`).join(',')}} for _, x in ipairs(p) do local a, b = rpm.ver(x[1]), rpm.ver(x[2]) if a < b then print(-1) elseif a == b then print(0) else print(1) end print("\\n") end`;
  const r = spawnSync('rpm', ['--eval', `%{lua: ${lua}}`], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, r.stderr);
  const out = r.stdout.split(/\s+/).filter(Boolean).map(Number);
  assert.equal(out.length, pairs.length, 'one answer per pair');
  return out;
}

/** EVRs as RHEL, Fedora and their rebuilds spell them: epochs, dist tags, module builds, ~ and ^. */
const EVRS = [
  '1.2.3-4.fc39', '2:1.2.3-4.fc39', '0:1.2.3-4.fc39', '1:3.0.7-24.el9', '1:3.0.7-27.el9', '1:3.0.7-27.el9_3', '3.0.7-27.el9', '1:1.1.1k-12.el8',
  '1:22.23.2-2.module+el9.8.0+24958+80b2ac6e', '1:22.23.2-2.module+el9.8.0+24958+80b2ac6f', '1:22.0.0-1', '0:1.9.5p2-10.el9_6.1', '1.9.5p2-9.el9',
  '1.0~rc1-1', '1.0-1', '1.0^git1-1', '1.0.1-1', '1.0a-1', '1.0-1.1', '2:1.2.3-5.fc39', '2:1.2.4-1', '3:0.1-1', '2:1.2.3~beta-1', '2:1.2.3^post1-1',
  '2:1.2.3-4.fc38', '2:1.2.3-4.fc39.1', '2:1.2.3-10', '2:01.2.3-4.fc39', '2:1.2.3-4.FC39', '5.2.15-2.el9', '5.2.15-3.el9', '5.2.15-2.el9_0.1',
];

describe('RPM version comparison agrees with rpm itself', { skip: hasRpm ? false : 'rpm is not installed (apt-get install rpm)' }, () => {
  it(`every ordered pair of ${EVRS.length} EVRs`, () => {
    const pairs: Array<[string, string]> = EVRS.flatMap((a) => EVRS.map((b): [string, string] => [a, b]));
    const rpm = rpmCompare(pairs);
    const disagreements = pairs.filter(([a, b], i) => Math.sign(compareRpm(a, b)) !== rpm[i]).map(([a, b], i) => `${a} vs ${b}: rpm ${rpm[i]}, wharf ${compareRpm(a, b)}`);
    assert.deepEqual(disagreements, []);
  });
});

const prepared: RealRpmdb | string = hasRpm ? buildRealRpmdb() : 'rpm is not installed (apt-get install rpm)';
const skip = typeof prepared === 'string' ? prepared : false;

for (const engine of engines()) {
  describe(`a real rpm database scanned against Red Hat-shaped advisories, checked with rpm [${engine}]`, { skip }, () => {
    let server: TestServer;
    let dir: string;
    const admin = basic({ username: 'admin', password: TEST_ADMIN_PASSWORD });
    const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
    const rpmdb = prepared as RealRpmdb;
    /** Fixed versions on every side of the installed 2:1.2.3-4.fc39: epoch, version, release, ~, ^, dist tag. */
    const fixes = ['2:1.2.3-4.fc39', '2:1.2.3-5.fc39', '2:1.2.4-1', '1:9.9-9', '3:0.1-1', '1.2.3-4.fc39', '2:1.2.3-4.fc39.1', '2:1.2.3~rc1-1', '2:1.2.3^git1-1', '2:1.2.3-4.fc38', '2:1.2.3-10', '2:1.2.2-99'];

    before(async () => {
      server = await startTestServer(engine, { auth: { enabled: true }, scanner: { pollInterval: '50ms' } });
      await apiJson(server.url, 'POST', '/namespaces', admin, { name: 'rpms' });
      dir = mkdtempSync(path.join(os.tmpdir(), 'wharf-rpm-scan-'));
      fixes.forEach((fixed, i) => {
        const id = `RHSA-2099:${1000 + i}`;
        writeFileSync(path.join(dir, `${id.replace(':', '-')}.json`), JSON.stringify({
          id, modified: '2026-11-30T00:00:00Z', upstream: [`CVE-2099-${1000 + i}`], summary: `probe advisory fixed in ${fixed}`,
          affected: [
            { package: { ecosystem: 'Red Hat:enterprise_linux:9::baseos', name: 'wharf-probe' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }] },
            // Another release's entry must never apply to a RHEL 9 image.
            { package: { ecosystem: 'Red Hat:enterprise_linux:8::baseos', name: 'wharf-probe' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '9:9-9' }] }] },
          ],
        }));
      });
      const imported = await server.vulndb.import(dir);
      assert.equal(imported.records, fixes.length);
    });
    after(async () => {
      await server?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('reports exactly the advisories rpm says the installed packages are below', async () => {
      // rpm -qa of the database: "<name> <epoch>:<version>-<release> <arch> <sourcerpm>"
      const installed = rpmdb.oracle.map((line) => line.split(' ')).filter(([name]) => name !== 'gpg-pubkey').map(([name, evr, , srpm]) => ({ name: name!, evr: evr!, source: srpm!.replace(/-[^-]+-[^-]+\.src\.rpm$/, '') }));
      assert.deepEqual(installed.map((p) => `${p.name} ${p.evr} ${p.source}`).sort(), ['wharf-probe 2:1.2.3-4.fc39 wharf-probe', 'wharf-probe-libs 2:1.2.3-4.fc39 wharf-probe']);
      const verdicts = rpmCompare(installed.flatMap((p) => fixes.map((f): [string, string] => [p.evr, f])));
      const expected = installed.flatMap((p, i) => fixes.map((f, j) => ({ key: `RHSA-2099:${1000 + j} ${p.name}@${p.evr} -> ${f}`, below: verdicts[i * fixes.length + j] === -1 })));
      assert.ok(expected.some((e) => e.below) && expected.some((e) => !e.below), 'the oracle has something to find and something to leave out');

      const layer = gzipSync(await tarOf([
        { name: 'etc/os-release', content: Buffer.from('NAME="Red Hat Enterprise Linux"\nVERSION="9.3 (Plow)"\nID="rhel"\nID_LIKE="fedora"\nVERSION_ID="9.3"\n') },
        { name: 'var/lib/rpm/rpmdb.sqlite', content: rpmdb.sqlite },
      ]));
      const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { User: '1000' }, rootfs: { type: 'layers', diff_ids: [] }, nonce: randomBytes(4).toString('hex') }));
      for (const blob of [config, layer]) {
        const res = await send(server.url, { method: 'POST', path: `/v2/rpms/ubi/blobs/uploads/?digest=${sha(blob)}`, headers: { 'Content-Type': 'application/octet-stream' }, body: blob }, admin);
        assert.equal(res.status, 201, await res.text());
      }
      const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(layer), size: layer.length }] }));
      const put = await send(server.url, { method: 'PUT', path: '/v2/rpms/ubi/manifests/9', headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' }, body: manifest }, admin);
      assert.equal(put.status, 201, await put.text());
      await server.jobs.drain();
      const r = await apiJson<{ status: string; issueCount: number; vulnerabilities: Array<{ advisoryId: string; installedPackage: string; installedVersion: string; fixedVersion: string | null; fix: string }> }>(server.url, 'GET', `/images/${encodeURIComponent('rpms/ubi:9')}/report`, admin);
      const reported = r.vulnerabilities.map((v) => `${v.advisoryId} ${v.installedPackage}@${v.installedVersion} -> ${v.fixedVersion}`).sort();
      assert.deepEqual(reported, expected.filter((e) => e.below).map((e) => e.key).sort(), 'no advisory rpm calls fixed is reported, and none it calls vulnerable is missed');
      assert.ok(r.vulnerabilities.every((v) => v.fix === `dnf upgrade ${v.installedPackage}`));
      assert.equal(r.issueCount, new Set(expected.filter((e) => e.below).map((e) => e.key.split(' ')[0])).size, 'each advisory (one CVE) counts once for both packages');
    });
  });
}
