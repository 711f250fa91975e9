import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { engines, startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from '../support/server.js';
import { apiJson, basic, send } from '../support/iam.js';
import { tarOf } from '../support/scanner-layers.js';
import { pushLayerImage } from '../support/layer-image.js';

/**
 * Severities and "one vulnerability, one finding" through the server, on both metadata engines:
 * real records of one CVE from two databases (GitHub's GHSA-8q59-q68h-6hv4 and PyPA's
 * PYSEC-2021-142 for PyYAML) become one finding; Debian's DSA-5514-1 (no rating of its own) takes
 * the severity of a loaded record of its CVE through the advisory_ids index; the status counts
 * distinct vulnerabilities; an exemption by either ID covers the merged finding; a withdrawn
 * advisory stops counting after the rescan.
 */

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const fixture = (...p: string[]) => readFileSync(path.join(fixtures, ...p), 'utf8');
const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const enc = encodeURIComponent;

interface Vulnerability { advisoryId: string; ids: string[]; cves: string[]; installedPackage: string; fixedVersion: string | null; severity: string; severitySource: string; cvssScore?: number; exempt: boolean }
interface Report { status: string; issueCount: number; exemptCount: number; severityCounts: Record<string, number>; highestSeverity: string | null; vulnerabilities: Vulnerability[] }

/** The real dpkg status paragraph of libc6 (test/fixtures/scanner/dpkg-status), at a version before DSA-5514-1's fix, and libc-bin beside it. */
function oldGlibcStatus(): string {
  const libc6 = fixture('scanner', 'dpkg-status').split(/\n\n/).find((p) => p.startsWith('Package: libc6\n'))!;
  const old = libc6.replace(/^Version: .*$/m, 'Version: 2.36-9+deb12u1');
  return `${old}\n\n${old.replace(/^Package: libc6$/m, 'Package: libc-bin')}\n`;
}

for (const engine of engines()) {
  describe(`severities and merged findings in the server [${engine}]`, () => {
    let server: TestServer;
    let extra: string;
    const admin = basic({ username: 'admin', password: TEST_ADMIN_PASSWORD });

    const pushImage = (name: string, tag: string, layer: Buffer) => pushLayerImage(server.url, admin, name, tag, layer, { User: '1000' });
    const report = (ref: string, query = '') => apiJson<Report>(server.url, 'GET', `/images/${enc(ref)}/report${query}`, admin);
    const listedImage = async (name: string) => (await apiJson<{ images: Array<{ securityStatus: string; highestSeverity: string | null }> }>(server.url, 'GET', `/images?repository=${enc(name)}`, admin)).images[0]!;
    const listedStatus = async (name: string) => (await listedImage(name)).securityStatus;
    /** The image list's status and highest open severity: what the Security badge shows. */
    const listedSecurity = async (name: string) => {
      const image = await listedImage(name);
      return [image.securityStatus, image.highestSeverity];
    };

    before(async () => {
      server = await startTestServer(engine, { auth: { enabled: true }, scanner: { pollInterval: '50ms' } });
      extra = mkdtempSync(path.join(os.tmpdir(), 'wharf-severity-'));
      await apiJson(server.url, 'POST', '/namespaces', admin, { name: 'sevr' });
      await server.vulndb.import(path.join(fixtures, 'osv'));
      // No public record of CVE-2023-4911 with a CVSS vector is reachable here: this one is built
      // inline with the vector NVD gives it (CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H, 7.8).
      writeFileSync(path.join(extra, 'CVE-2023-4911.json'), JSON.stringify({ id: 'CVE-2023-4911', modified: '2024-01-01T00:00:00Z', summary: 'glibc: buffer overflow in ld.so GLIBC_TUNABLES', severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H' }], affected: [] }));
      await server.vulndb.import(path.join(extra, 'CVE-2023-4911.json'));
    });
    after(async () => {
      await server.stop();
      rmSync(extra, { recursive: true, force: true });
    });

    it('one finding per vulnerability and package, with every ID and the severity\'s source; the status counts distinct vulnerabilities', async () => {
      // PyYAML's real METADATA (Debian's python3-yaml 6.0) with its Version line set to 5.3.1, installed by pip.
      const metadata = fixture('scanner', 'pyyaml-6.0.METADATA').replace(/^Version: 6\.0$/m, 'Version: 5.3.1');
      const layer = gzipSync(await tarOf([
        { name: 'etc/os-release', content: Buffer.from(fixture('scanner', 'os-release-debian-12')) },
        { name: 'var/lib/dpkg/status', content: Buffer.from(oldGlibcStatus()) },
        { name: 'usr/local/lib/python3.11/dist-packages/PyYAML-5.3.1.dist-info/METADATA', content: Buffer.from(metadata) },
      ]));
      await pushImage('sevr/app', 'v1', layer);
      await server.jobs.drain();
      const r = await report('sevr/app:v1');
      const rows = r.vulnerabilities.map((v) => `${v.installedPackage} ${v.ids.join('+')} ${v.severity} ${v.severitySource} ${v.fixedVersion}`).sort();
      assert.deepEqual(rows, [
        'PyYAML GHSA-8q59-q68h-6hv4+PYSEC-2021-142 CRITICAL cvss-v3.1 5.4',
        'libc-bin DSA-5514-1 HIGH alias:CVE-2023-4911 2.36-9+deb12u3',
        'libc6 DSA-5514-1 HIGH alias:CVE-2023-4911 2.36-9+deb12u3',
      ]);
      assert.equal(r.status, '2 Issues', 'CVE-2020-14343 and CVE-2023-4911, however many packages and databases name them');
      assert.equal(await listedStatus('sevr/app'), '2 Issues');
      assert.equal(r.highestSeverity, 'CRITICAL');
      assert.deepEqual(await listedSecurity('sevr/app'), ['2 Issues', 'CRITICAL'], 'the image list names the most severe open issue');
      assert.deepEqual(await listedSecurity('sevr/app'), ['2 Issues', 'CRITICAL'], 'and says the same when asked again (from its cache)');
      assert.deepEqual([r.severityCounts.CRITICAL, r.severityCounts.HIGH, r.severityCounts.UNKNOWN], [1, 1, 0]);
    });

    it('filters by severity and fixability without changing the image\'s status', async () => {
      const critical = await report('sevr/app:v1', '?severity=CRITICAL');
      assert.deepEqual(critical.vulnerabilities.map((v) => v.installedPackage), ['PyYAML']);
      assert.equal(critical.status, '2 Issues');
      assert.equal((await report('sevr/app:v1', '?fixable=true')).vulnerabilities.length, 3);
      const bad = await send(server.url, { method: 'GET', path: `/api/v1/images/${enc('sevr/app:v1')}/report?severity=SEVERE` }, admin);
      assert.equal(bad.status, 400);
    });

    it('an exemption by either ID of a merged finding covers it', async () => {
      await apiJson(server.url, 'POST', '/exemptions', admin, { issueId: 'PYSEC-2021-142', scope: 'repository', namespace: 'sevr', repository: 'app', reason: 'only loads trusted YAML' });
      const r = await report('sevr/app:v1');
      assert.equal(r.vulnerabilities.find((v) => v.installedPackage === 'PyYAML')?.exempt, true);
      assert.equal(r.status, '1 Issue');
      assert.equal(r.exemptCount, 1);
      assert.equal(r.highestSeverity, 'HIGH');
      assert.equal(await listedStatus('sevr/app'), '1 Issue');
      assert.deepEqual(await listedSecurity('sevr/app'), ['1 Issue', 'HIGH'], 'a new exemption changes the list at once');
    });

    it('a withdrawn advisory stops counting after the rescan', async () => {
      const dsa = JSON.parse(fixture('osv', 'DSA-5514-1.json')) as Record<string, unknown>;
      // DSA-5514-1 as it would read withdrawn (built from the real record: withdrawn and modified set).
      writeFileSync(path.join(extra, 'DSA-5514-1.json'), JSON.stringify({ ...dsa, modified: '2030-01-01T00:00:00Z', withdrawn: '2030-01-01T00:00:00Z' }));
      const imported = await server.vulndb.import(path.join(extra, 'DSA-5514-1.json'));
      assert.equal(imported.changed, 1);
      await server.scanner.rescanAll();
      await server.jobs.drain();
      const r = await report('sevr/app:v1');
      assert.deepEqual(r.vulnerabilities.filter((v) => !v.exempt).map((v) => v.advisoryId), []);
      assert.equal(r.status, 'No Issues');
      assert.deepEqual(await listedSecurity('sevr/app'), ['No Issues', null], 'a rescan changes the list at once');
    });
  });
}
