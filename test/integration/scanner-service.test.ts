import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { engines, startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from '../support/server.js';
import { api, apiJson, basic, send } from '../support/iam.js';
import { tarOf } from '../support/scanner-layers.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const fixture = (...p: string[]) => readFileSync(path.join(fixtures, ...p));
const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const enc = encodeURIComponent;

interface Report {
  status: string; issueCount: number; exemptCount: number;
  vulnerabilities: Array<{ advisoryId: string; aliases: string[]; installedPackage: string; installedVersion: string; fixedVersion: string | null; fix: string; exempt: boolean }>;
  configurationIssues: Array<{ checkId: string; exempt: boolean }>;
  error: string | null;
}

for (const engine of engines()) {
  describe(`Vulnerability Advisor in the server [${engine}]`, () => {
    let server: TestServer;
    const admin = basic({ username: 'admin', password: TEST_ADMIN_PASSWORD });

    /** Pushes an image of one gzip layer built from `files`, with `config` (USER, ExposedPorts…). */
    async function pushImage(name: string, tag: string, layer: Buffer, config: Record<string, unknown> = {}, layerMediaType = 'application/vnd.oci.image.layer.v1.tar+gzip'): Promise<string> {
      const configBytes = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config, rootfs: { type: 'layers', diff_ids: [] }, nonce: randomBytes(4).toString('hex') }));
      for (const blob of [configBytes, layer]) {
        const res = await send(server.url, { method: 'POST', path: `/v2/${name}/blobs/uploads/?digest=${sha(blob)}`, headers: { 'Content-Type': 'application/octet-stream' }, body: blob }, admin);
        assert.equal(res.status, 201, await res.text());
      }
      const manifest = Buffer.from(JSON.stringify({
        schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(configBytes), size: configBytes.length },
        layers: [{ mediaType: layerMediaType, digest: sha(layer), size: layer.length }],
      }));
      const res = await send(server.url, { method: 'PUT', path: `/v2/${name}/manifests/${tag}`, headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' }, body: manifest }, admin);
      assert.equal(res.status, 201, await res.text());
      return sha(manifest);
    }

    const report = (ref: string) => apiJson<Report>(server.url, 'GET', `/images/${enc(ref)}/report`, admin);
    const status = async (name: string) => (await apiJson<{ images: Array<{ securityStatus: string }> }>(server.url, 'GET', `/images?repository=${enc(name)}`, admin)).images[0]!.securityStatus;

    before(async () => {
      server = await startTestServer(engine, { auth: { enabled: true }, scanner: { pollInterval: '50ms' } });
      await apiJson(server.url, 'POST', '/namespaces', admin, { name: 'scan' });
      const imported = await server.vulndb.import(path.join(fixtures, 'osv'));
      assert.ok(imported.records >= 5);
    });
    after(async () => { await server.stop(); });

    it('reports the real advisories of an old npm and an old Python package, with the fix', async () => {
      const layer = gzipSync(await tarOf([
        { name: 'app/node_modules/minimist/package.json', content: fixture('scanner', 'minimist-1.2.0.package.json') },
        { name: 'usr/local/lib/python3.11/site-packages/Jinja2-3.1.2.dist-info/METADATA', content: fixture('scanner', 'jinja2-3.1.2.PKG-INFO') },
      ]));
      await pushImage('scan/apps', 'old', layer, { User: '1000' });
      assert.match(await status('scan/apps'), /^(Scanning|Not scanned|\d+ Issues?|No Issues)$/, 'the push did not wait for the scan');
      await server.jobs.drain();
      const r = await report('scan/apps:old');
      const ids = r.vulnerabilities.map((v) => `${v.advisoryId} ${v.installedPackage}@${v.installedVersion} -> ${v.fixedVersion}`).sort();
      assert.deepEqual(ids, [
        'GHSA-h5c8-rqwp-cp95 Jinja2@3.1.2 -> 3.1.3',
        'GHSA-vh95-rmgr-6w4m minimist@1.2.0 -> 1.2.3',
        'GHSA-xvch-5gv4-984h minimist@1.2.0 -> 1.2.6',
      ]);
      const minimist = r.vulnerabilities.find((v) => v.advisoryId === 'GHSA-xvch-5gv4-984h')!;
      assert.ok(minimist.aliases.includes('CVE-2021-44906'));
      assert.match(minimist.fix, /npm install minimist@1\.2\.6/);
      assert.deepEqual(r.configurationIssues.map((c) => c.checkId), [], 'runs as uid 1000, nothing exposed');
      assert.equal(r.status, '3 Issues');
      assert.equal(await status('scan/apps'), '3 Issues');
    });

    it('leaves Python packages that Debian installed to the Debian advisories', async () => {
      const layer = gzipSync(await tarOf([
        { name: 'etc/os-release', content: fixture('scanner', 'os-release-debian-12') },
        { name: 'var/lib/dpkg/status', content: fixture('scanner', 'dpkg-status') },
        // Debian's python3-jinja2 3.1.2-1+deb12u3 carries the fix for CVE-2024-22195 under its Debian version.
        { name: 'usr/lib/python3/dist-packages/Jinja2-3.1.2.egg-info/PKG-INFO', content: fixture('scanner', 'jinja2-3.1.2.PKG-INFO') },
        // The same distribution installed by pip is the user's, and PyPI's advisory applies.
        { name: 'usr/local/lib/python3.11/dist-packages/Jinja2-3.1.2.dist-info/METADATA', content: fixture('scanner', 'jinja2-3.1.2.PKG-INFO') },
      ]));
      await pushImage('scan/debian-python', 'v1', layer, { User: '1000' });
      await server.jobs.drain();
      const r = await report('scan/debian-python:v1');
      const jinja = r.vulnerabilities.filter((v) => v.advisoryId === 'GHSA-h5c8-rqwp-cp95');
      assert.equal(jinja.length, 1, 'reported once, for the pip-installed copy');
      const sbom = await apiJson<{ components: Array<{ purl?: string; evidence?: { occurrences?: Array<{ location: string }> } }> }>(server.url, 'GET', `/images/${enc('scan/debian-python:v1')}/sbom`, admin);
      const locations = JSON.stringify(sbom.components.filter((c) => c.purl?.startsWith('pkg:pypi/jinja2')));
      assert.ok(locations.includes('/usr/local/lib/python3.11/dist-packages/'), locations);
      assert.ok(!locations.includes('/usr/lib/python3/dist-packages/'), locations);
    });

    it('never reports a package at or above the fixed version', async () => {
      const layer = gzipSync(await tarOf([{ name: 'app/node_modules/minimist/package.json', content: fixture('scanner', 'minimist-1.2.8.package.json') }]));
      await pushImage('scan/fixed', 'new', layer, { User: 'app' });
      await server.jobs.drain();
      const r = await report('scan/fixed:new');
      assert.deepEqual(r.vulnerabilities, []);
    });

    it('counts configuration issues and applies exemptions, which the report marks', async () => {
      const layer = gzipSync(await tarOf([{ name: 'app/node_modules/minimist/package.json', content: fixture('scanner', 'minimist-1.2.0.package.json') }]));
      const digest = await pushImage('scan/root', 'v1', layer, { ExposedPorts: { '22/tcp': {} } });
      await server.jobs.drain();
      const before = await report('scan/root:v1');
      const checks = before.configurationIssues.map((c) => c.checkId).sort();
      assert.deepEqual(checks, ['image.runs-as-root', 'image.ssh-port-exposed']);
      assert.equal(before.issueCount, 4);

      const reader = await apiJson<{ id: number }>(server.url, 'POST', '/iam/users', admin, { username: 'scanreader', password: 'scan-reader-password' });
      await apiJson(server.url, 'POST', '/iam/policies', admin, { subject: `user:${reader.id}`, role: 'Reader', namespace: 'scan' });
      const asReader = basic({ username: 'scanreader', password: 'scan-reader-password' });
      assert.equal((await api(server.url, 'POST', '/exemptions', asReader, { issueId: 'CVE-2021-44906', scope: 'namespace', namespace: 'scan', reason: 'x' })).status, 403, 'only Managers exempt');

      const byCve = await apiJson<{ id: number }>(server.url, 'POST', '/exemptions', admin, { issueId: 'CVE-2021-44906', scope: 'repository', namespace: 'scan', repository: 'root', reason: 'only parses trusted arguments' });
      await apiJson(server.url, 'POST', '/exemptions', admin, { issueId: 'image.runs-as-root', scope: 'image', namespace: 'scan', repository: 'root', digest, reason: 'legacy' });
      const after = await report('scan/root:v1');
      assert.equal(after.issueCount, 2);
      assert.equal(after.exemptCount, 2);
      assert.equal(after.status, '2 Issues');
      assert.equal(after.vulnerabilities.find((v) => v.advisoryId === 'GHSA-xvch-5gv4-984h')?.exempt, true);
      assert.equal(after.configurationIssues.find((c) => c.checkId === 'image.runs-as-root')?.exempt, true);
      // The repository exemption does not reach another repository with the same package.
      assert.equal((await report('scan/apps:old')).vulnerabilities.find((v) => v.advisoryId === 'GHSA-xvch-5gv4-984h')?.exempt, false);
      assert.equal((await api(server.url, 'DELETE', `/exemptions/${byCve.id}`, admin)).status, 204);
      assert.equal((await report('scan/root:v1')).issueCount, 3);
    });

    it('gives a scan error status with a message for a layer that is not an archive, and keeps serving', async () => {
      await pushImage('scan/broken', 'v1', randomBytes(4096));
      await server.jobs.drain();
      const r = await report('scan/broken:v1');
      assert.equal(r.status, 'Scan failed');
      assert.ok(r.error && r.error.length > 10, 'a message says why');
      assert.equal(await status('scan/broken'), 'Scan failed');
      assert.equal((await fetch(`${server.url}/v2/`, { headers: { Authorization: admin } })).status, 200);
    });

    it('marks an image without an OS or packages as Unsupported OS', async () => {
      await pushImage('scan/empty', 'v1', gzipSync(await tarOf([{ name: 'data/readme.txt', content: Buffer.from('hello') }])), { User: '1' });
      await server.jobs.drain();
      assert.equal(await status('scan/empty'), 'Unsupported OS');
    });

    it('serves an SBOM of what it found (CycloneDX)', async () => {
      const res = await api(server.url, 'GET', `/images/${enc('scan/apps:old')}/sbom`, admin);
      assert.equal(res.status, 200);
      const bom = await res.json() as { bomFormat: string; specVersion: string; components: Array<{ purl?: string }> };
      assert.equal(bom.bomFormat, 'CycloneDX');
      const purls = bom.components.map((c) => c.purl).filter(Boolean).sort();
      assert.ok(purls.includes('pkg:npm/minimist@1.2.0'), JSON.stringify(purls));
      assert.ok(purls.some((p) => p!.startsWith('pkg:pypi/jinja2@3.1.2')), JSON.stringify(purls));
    });

    it('queues rescans when the advisory data changes, and a restart loses no pending scan', async () => {
      const again = await server.vulndb.import(path.join(fixtures, 'osv'));
      assert.equal(again.changed, 0, 'importing the same data changes nothing');
      const queued = await server.scanner.rescanAll();
      assert.ok(queued >= 4);
      const pending = await server.metadata.db.selectFrom('jobs').select('id').where('kind', '=', 'scan').execute();
      assert.ok(pending.length >= 1, 'scan jobs are rows in the metadata store');
      await server.jobs.drain();
      assert.equal((await report('scan/apps:old')).status, '3 Issues');
    });
  });
}
