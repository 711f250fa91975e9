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
import { pushLayerImage } from '../support/layer-image.js';

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
    const pushImage = (name: string, tag: string, layer: Buffer, config: Record<string, unknown> = {}, layerMediaType?: string) => pushLayerImage(server.url, admin, name, tag, layer, config, layerMediaType);

    /** Pushes blobs and a manifest (built as the client that writes it does) under a tag, or by digest. */
    async function pushManifest(name: string, tag: string | undefined, blobs: Buffer[], manifest: Record<string, unknown>, mediaType = 'application/vnd.oci.image.manifest.v1+json'): Promise<string> {
      for (const blob of blobs) {
        const res = await send(server.url, { method: 'POST', path: `/v2/${name}/blobs/uploads/?digest=${sha(blob)}`, headers: { 'Content-Type': 'application/octet-stream' }, body: blob }, admin);
        assert.equal(res.status, 201, await res.text());
      }
      const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType, ...manifest }));
      const res = await send(server.url, { method: 'PUT', path: `/v2/${name}/manifests/${tag ?? sha(bytes)}`, headers: { 'Content-Type': mediaType }, body: bytes }, admin);
      assert.equal(res.status, 201, await res.text());
      return sha(bytes);
    }
    const desc = (mediaType: string, blob: Buffer, extra: Record<string, unknown> = {}) => ({ mediaType, digest: sha(blob), size: blob.length, ...extra });

    const report = (ref: string) => apiJson<Report>(server.url, 'GET', `/images/${enc(ref)}/report`, admin);
    const listed = async (name: string) => (await apiJson<{ images: Array<{ digest: string; tag: string | null; securityStatus: string }> }>(server.url, 'GET', `/images?repository=${enc(name)}`, admin)).images;
    const status = async (name: string) => (await listed(name))[0]!.securityStatus;

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

    it('an exemption with an expiry exempts until then, and counts for nothing (listed as expired) after', async () => {
      const layer = gzipSync(await tarOf([{ name: 'app/node_modules/minimist/package.json', content: fixture('scanner', 'minimist-1.2.0.package.json') }]));
      await pushImage('scan/lapsing', 'v1', layer, { User: 'app' });
      await server.jobs.drain();
      const open = await report('scan/lapsing:v1');
      assert.ok(open.issueCount >= 1, 'minimist 1.2.0 has open advisories');

      const refused = await api(server.url, 'POST', '/exemptions', admin, { issueId: 'CVE-2021-44906', scope: 'repository', namespace: 'scan', repository: 'lapsing', reason: 'x', expiresAt: '2001-01-01' });
      assert.equal(refused.status, 400);
      assert.match(((await refused.json()) as { detail: string }).detail, /already passed/);
      assert.equal((await api(server.url, 'POST', '/exemptions', admin, { issueId: 'CVE-2021-44906', scope: 'repository', namespace: 'scan', repository: 'lapsing', reason: 'x', expiresAt: 'next tuesday' })).status, 400);

      const expiresAt = new Date(Date.now() + 30 * 86_400_000).toISOString();
      const exemptions = await Promise.all(['CVE-2021-44906', 'CVE-2020-7598'].map((issueId) =>
        apiJson<{ id: number; expiresAt: string | null; expired: boolean }>(server.url, 'POST', '/exemptions', admin, { issueId, scope: 'repository', namespace: 'scan', repository: 'lapsing', reason: 'fix ships next sprint', expiresAt })));
      assert.deepEqual(exemptions.map((e) => [e.expiresAt, e.expired]), [[expiresAt, false], [expiresAt, false]]);
      const exempted = await report('scan/lapsing:v1');
      assert.equal(exempted.issueCount, open.issueCount - exempted.exemptCount);
      assert.ok(exempted.exemptCount >= 1);
      assert.equal(await status('scan/lapsing'), exempted.status);

      // Time passes: the expiry is now behind us (moved in the database; the server's clock is the real one).
      await server.metadata.db.updateTable('exemptions').set({ expires_at: Date.now() - 1000 }).where('id', 'in', exemptions.map((e) => e.id)).execute();
      const lapsed = await report('scan/lapsing:v1');
      assert.equal(lapsed.issueCount, open.issueCount, 'an expired exemption exempts nothing');
      assert.equal(lapsed.exemptCount, 0);
      assert.ok(lapsed.vulnerabilities.every((v) => !v.exempt));
      assert.equal(await status('scan/lapsing'), open.status, 'the image list counts the issue again');
      const { exemptions: listedExemptions } = await apiJson<{ exemptions: Array<{ id: number; expired: boolean; expiresAt: string | null }> }>(server.url, 'GET', '/exemptions', admin);
      assert.deepEqual(listedExemptions.filter((e) => exemptions.some((x) => x.id === e.id)).map((e) => e.expired), [true, true], 'expired exemptions stay listed, marked');
      for (const e of exemptions) assert.equal((await api(server.url, 'DELETE', `/exemptions/${e.id}`, admin)).status, 204);
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

    it('counts configuration issues of an image of an unsupported OS, in the image list as in the report', async () => {
      // Plain files and no USER: no OS to match advisories against, but it runs as root.
      await pushImage('scan/rootfiles', 'v1', gzipSync(await tarOf([{ name: 'data/readme.txt', content: Buffer.from('hello') }])));
      await server.jobs.drain();
      const r = await report('scan/rootfiles:v1');
      assert.deepEqual(r.configurationIssues.map((c) => c.checkId), ['image.runs-as-root']);
      assert.equal(r.status, '1 Issue');
      assert.equal(await status('scan/rootfiles'), '1 Issue', 'wharf image list says what wharf va says');
      const filtered = await apiJson<{ images: Array<{ name: string }> }>(server.url, 'GET', `/images?namespace=scan&securityStatus=${enc('1 Issue')}`, admin);
      assert.ok(filtered.images.some((i) => i.name === 'scan/rootfiles'), 'the securityStatus filter sees the same status');
    });

    it('shows an index as the worst of its platforms, and an attestation in it changes nothing', async () => {
      const amd64Layer = gzipSync(await tarOf([{ name: 'data/amd64.txt', content: Buffer.from('amd64') }]));
      const amd64 = await pushImage('scan/multi', 'amd64', amd64Layer); // runs as root: 1 issue, no OS
      const arm64Layer = gzipSync(await tarOf([{ name: 'app/node_modules/minimist/package.json', content: fixture('scanner', 'minimist-1.2.8.package.json') }]));
      const arm64 = await pushImage('scan/multi', 'arm64', arm64Layer, { User: '1000' }); // a fixed package: no issues
      // A buildx provenance attestation: an image config media type over an in-toto JSON layer.
      const statement = Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v0.1', predicateType: 'https://slsa.dev/provenance/v0.2', subject: [{ name: 'x', digest: { sha256: amd64.slice(7) } }] }));
      const attestationConfig = Buffer.from(JSON.stringify({ architecture: 'unknown', os: 'unknown', config: {}, rootfs: { type: 'layers', diff_ids: [sha(statement)] } }));
      const attestation = await pushManifest('scan/multi', undefined, [attestationConfig, statement], {
        config: desc('application/vnd.oci.image.config.v1+json', attestationConfig),
        layers: [desc('application/vnd.in-toto+json', statement, { annotations: { 'in-toto.io/predicate-type': 'https://slsa.dev/provenance/v0.2' } })],
      });
      const manifestSize = async (digest: string) => Number((await send(server.url, { method: 'HEAD', path: `/v2/scan/multi/manifests/${digest}` }, admin)).headers.get('content-length'));
      const child = async (digest: string, platform: Record<string, string>, annotations?: Record<string, string>) => ({
        mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size: await manifestSize(digest), platform, ...(annotations ? { annotations } : {}),
      });
      const platforms = [await child(amd64, { architecture: 'amd64', os: 'linux' }), await child(arm64, { architecture: 'arm64', os: 'linux' })];
      const index = await pushManifest('scan/multi', 'multi', [], { manifests: platforms }, 'application/vnd.oci.image.index.v1+json');
      const attested = await pushManifest('scan/multi', 'attested', [], {
        manifests: [...platforms, await child(attestation, { architecture: 'unknown', os: 'unknown' }, { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': amd64 })],
      }, 'application/vnd.oci.image.index.v1+json');
      await server.jobs.drain();
      assert.equal((await report(`scan/multi@${amd64}`)).status, '1 Issue');
      assert.equal((await report(`scan/multi@${arm64}`)).status, 'No Issues');
      const rows = await listed('scan/multi');
      assert.equal(rows.find((i) => i.tag === 'multi')?.digest, index);
      assert.equal(rows.find((i) => i.tag === 'multi')?.securityStatus, '1 Issue', 'not "No Issues" while its amd64 image has an issue');
      const r = await report('scan/multi:multi');
      assert.equal(r.status, '1 Issue');
      assert.equal(r.issueCount, 1);
      assert.equal((await report(`scan/multi@${attestation}`)).status, 'Not scannable');
      assert.equal(rows.find((i) => i.tag === 'attested')?.digest, attested);
      assert.equal(rows.find((i) => i.tag === 'attested')?.securityStatus, '1 Issue', 'the attestation is no failed scan');
      assert.ok(!rows.some((i) => i.digest === attestation), 'an untagged manifest an index of the repository points at is part of that image, not a row of its own');
    });

    it('recognises signatures, SBOMs, Helm charts and ORAS files as artifacts: not scanned, no alarm, no findings', async () => {
      const subject = await pushImage('scan/signed', 'v1', gzipSync(await tarOf([{ name: 'data/x', content: Buffer.from('x') }])), { User: '1' });
      // cosign sign: an image config media type, but the layer is the simple-signing payload.
      const payload = Buffer.from(JSON.stringify({ critical: { identity: { 'docker-reference': 'localhost/scan/signed' }, image: { 'docker-manifest-digest': subject }, type: 'cosign container image signature' }, optional: null }));
      const cosignConfig = Buffer.from(JSON.stringify({ architecture: '', config: {}, created: '0001-01-01T00:00:00Z', history: [{ created: '0001-01-01T00:00:00Z' }], os: '', rootfs: { type: 'layers', diff_ids: [sha(payload)] } }));
      const signature = await pushManifest('scan/signed', `${subject.replace(':', '-')}.sig`, [cosignConfig, payload], {
        config: desc('application/vnd.oci.image.config.v1+json', cosignConfig),
        layers: [desc('application/vnd.dev.cosign.simplesigning.v1+json', payload, { annotations: { 'dev.cosignproject.cosign/signature': randomBytes(64).toString('base64') } })],
      });
      // helm push: the chart's own config, and the chart as a tar+gzip layer of its own media type.
      const chart = gzipSync(await tarOf([{ name: 'mychart/Chart.yaml', content: Buffer.from('apiVersion: v2\nname: mychart\nversion: 0.1.0\n') }]));
      const chartConfig = Buffer.from(JSON.stringify({ apiVersion: 'v2', name: 'mychart', version: '0.1.0' }));
      const helm = await pushManifest('scan/charts', '0.1.0', [chartConfig, chart], {
        config: desc('application/vnd.cncf.helm.config.v1+json', chartConfig),
        layers: [desc('application/vnd.cncf.helm.chart.content.v1.tar+gzip', chart)],
      });
      // oras push: artifactType, the empty config, and a plain file under the tar layer media type.
      const empty = Buffer.from('{}');
      const file = Buffer.from('not a tar archive, just a file\n');
      const oras = await pushManifest('scan/files', 'v1', [empty, file], {
        artifactType: 'application/vnd.unknown.artifact.v1',
        config: desc('application/vnd.oci.empty.v1+json', empty),
        layers: [desc('application/vnd.oci.image.layer.v1.tar', file, { annotations: { 'org.opencontainers.image.title': 'notes.txt' } })],
      });
      // An SBOM attached to the image (referrers API).
      const sbom = Buffer.from(JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.5', components: [] }));
      const referrer = await pushManifest('scan/signed', undefined, [empty, sbom], {
        artifactType: 'application/vnd.cyclonedx+json',
        config: desc('application/vnd.oci.empty.v1+json', empty),
        layers: [desc('application/vnd.cyclonedx+json', sbom)],
        subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: subject, size: Number((await send(server.url, { method: 'HEAD', path: `/v2/scan/signed/manifests/${subject}` }, admin)).headers.get('content-length')) },
      });
      const artifacts = [['scan/signed', signature], ['scan/charts', helm], ['scan/files', oras], ['scan/signed', referrer]] as const;
      const queued = await server.metadata.db.selectFrom('jobs').select('dedupe_key').where('dedupe_key', 'in', artifacts.map(([, d]) => `scan:${d}`)).execute();
      assert.deepEqual(queued, [], 'no scan job for an artifact');
      await server.jobs.drain();
      for (const [name, digest] of artifacts) {
        const r = await report(`${name}@${digest}`);
        assert.equal(r.status, 'Not scannable', `${name}@${digest}`);
        assert.equal(r.error, null, 'no "Scan failed … re-push the image"');
        assert.deepEqual([r.vulnerabilities, r.configurationIssues], [[], []], 'no "runs as root" for a chart');
      }
      const sbomOfChart = await api(server.url, 'GET', `/images/${enc('scan/charts:0.1.0')}/sbom`, admin);
      assert.equal(sbomOfChart.status, 409);
      assert.match((await sbomOfChart.json() as { detail: string }).detail, /is an artifact .* not a container image/, 'not "wait until its security status is known"');
      assert.equal((await listed('scan/charts'))[0]!.securityStatus, 'Not scannable');
      assert.equal((await listed('scan/files'))[0]!.securityStatus, 'Not scannable');
      // A chart scanned before artifacts were told apart was left "Scan failed"; the next rescan corrects it.
      await server.metadata.db.updateTable('scan_results').set({ state: 'failed', error: 'layer sha256:… ends early (truncated upload? re-push the image)' }).where('digest', '=', helm).execute();
      assert.equal((await listed('scan/charts'))[0]!.securityStatus, 'Scan failed');
      await server.scanner.rescanAll();
      await server.jobs.drain();
      assert.equal((await listed('scan/charts'))[0]!.securityStatus, 'Not scannable');
      assert.equal((await report('scan/charts:0.1.0')).error, null);
      const signed = await listed('scan/signed');
      // A signature is metadata of its image (the Signed column), not an image of the list.
      assert.equal(signed.find((i) => i.digest === signature), undefined, 'the .sig tag is not listed as an image');
      assert.equal(signed.find((i) => i.digest === subject)?.securityStatus, 'Unsupported OS', 'the signed image itself is scanned');
      assert.equal((signed.find((i) => i.digest === subject) as { signatures?: number } | undefined)?.signatures, 1, 'its signature is counted on it');
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
