import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { engines, startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from '../support/server.js';
import { apiJson, basic, send } from '../support/iam.js';
import { tarOf } from '../support/scanner-layers.js';
import { compareMaven } from '../../src/scanner/versions/maven.js';

/**
 * Java checked against Maven's own answer. Maven's ComparableVersion (the class Maven resolves
 * versions with, run from Debian's maven installation) must agree with the scanner's comparator
 * on every pair of versions as Maven Central artifacts spell them; and real jars from the local
 * Maven repository (~/.m2, filled by Maven itself) are found by their pom.properties and matched
 * against GitHub's real advisories for them.
 */

const MAVEN_ARTIFACT = '/usr/share/maven/lib/maven-artifact-3.x.jar';
const hasMaven = existsSync(MAVEN_ARTIFACT) && spawnSync('java', ['-version']).status === 0;

/** Maven's verdict on consecutive pairs: `java … ComparableVersion v1 v2 v3…` prints "v1 < v2", "v2 == v3"… */
function mavenCompare(pairs: Array<[string, string]>): number[] {
  const args = pairs.flat();
  const r = spawnSync('java', ['-cp', realpathSync(MAVEN_ARTIFACT), 'org.apache.maven.artifact.versioning.ComparableVersion', ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, r.stderr);
  const verdicts = r.stdout.split('\n').map((l) => /^\s+(\S+) (<|>|==) (\S+)$/.exec(l)).filter((m): m is RegExpExecArray => m !== null);
  assert.equal(verdicts.length, args.length - 1, 'one verdict per consecutive pair');
  // Pair i is arguments 2i and 2i+1, so its verdict is the (2i)th line.
  return pairs.map((_, i) => ({ '<': -1, '==': 0, '>': 1 })[verdicts[2 * i]![2] as '<' | '==' | '>']);
}

const VERSIONS = [
  '1', '1.0', '1.0.0', '1-SNAPSHOT', '1.0-SNAPSHOT', '1-alpha-1', '1-alpha2', '1-beta-2', '1-m1', '1-rc1', '1-cr2', '1-sp', '1-ga', '1-final', '1-1', '1.1', '1-abc',
  '2.0-beta9', '2.3.1', '2.12.2', '2.14.1', '2.15.0', '2.17.1', '1.3', '1.5', '1.9', '1.10.0', '1.12.0', '16.0.1', '25.1-jre', '25.1-android', '32.0.0', '32.0.0-android', '32.1.3-jre',
  '9999.0-empty-to-avoid-conflict-with-guava', '5.3.20', '5.3.20.RELEASE', '2.13.4', '2.13.4.2', '2.13.4.1', '1.0.0.Final', '1.0.0.CR1', '1.0.0.Beta1', '3.0.0-M1', '2.0.0-RC1', '1.2.3.4.5',
];

describe('Maven version comparison agrees with Maven itself', { skip: hasMaven ? false : 'Debian\'s maven and a JRE are not installed (apt-get install maven)' }, () => {
  it(`every ordered pair of ${VERSIONS.length} versions`, () => {
    const pairs: Array<[string, string]> = VERSIONS.flatMap((a) => VERSIONS.map((b): [string, string] => [a, b]));
    const maven = mavenCompare(pairs);
    const disagreements = pairs.map(([a, b], i) => [a, b, maven[i], Math.sign(compareMaven(a, b))] as const).filter(([, , m, w]) => m !== w).map(([a, b, m, w]) => `${a} vs ${b}: maven ${m}, wharf ${w}`);
    assert.deepEqual(disagreements, []);
  });
});

const m2 = path.join(process.env.HOME ?? '/root', '.m2', 'repository');
const jar = (group: string, artifact: string, version: string) => path.join(m2, ...group.split('.'), artifact, version, `${artifact}-${version}.jar`);
const JARS = [jar('com.google.guava', 'guava', '25.1-jre'), jar('com.google.guava', 'guava', '32.1.3-jre'), jar('org.apache.commons', 'commons-text', '1.3'), jar('org.apache.commons', 'commons-text', '1.10.0')];
const missing = JARS.filter((j) => !existsSync(j));
const skip = missing.length > 0 ? `the local Maven repository lacks ${missing.join(', ')} (mvn dependency:get -Dartifact=com.google.guava:guava:25.1-jre …)` : false;
const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'osv', 'coverage');

for (const engine of engines()) {
  describe(`real jars found by their pom.properties and matched against GitHub's advisories [${engine}]`, { skip }, () => {
    let server: TestServer;
    const admin = basic({ username: 'admin', password: TEST_ADMIN_PASSWORD });
    const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

    before(async () => {
      server = await startTestServer(engine, { auth: { enabled: true }, scanner: { pollInterval: '50ms' } });
      await apiJson(server.url, 'POST', '/namespaces', admin, { name: 'javas' });
      for (const id of ['GHSA-7g45-4rm6-3mm3', 'GHSA-599f-7c49-w659']) await server.vulndb.import(path.join(fixtures, `${id}.json`));
    });
    after(async () => { await server?.stop(); });

    it('guava 25.1-jre is below the fix; guava 32.1.3-jre is fixed; commons-text 1.3 predates the range and 1.10.0 is the fix', async () => {
      const layer = gzipSync(await tarOf(JARS.map((j) => ({ name: `app/lib/${path.basename(j)}`, content: readFileSync(j) }))));
      const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { User: '1000' }, rootfs: { type: 'layers', diff_ids: [] }, nonce: randomBytes(4).toString('hex') }));
      for (const blob of [config, layer]) {
        const res = await send(server.url, { method: 'POST', path: `/v2/javas/app/blobs/uploads/?digest=${sha(blob)}`, headers: { 'Content-Type': 'application/octet-stream' }, body: blob }, admin);
        assert.equal(res.status, 201, await res.text());
      }
      const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(layer), size: layer.length }] }));
      const put = await send(server.url, { method: 'PUT', path: '/v2/javas/app/manifests/1', headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' }, body: manifest }, admin);
      assert.equal(put.status, 201, await put.text());
      await server.jobs.drain();
      const r = await apiJson<{ status: string; vulnerabilities: Array<{ advisoryId: string; installedPackage: string; installedVersion: string; fixedVersion: string | null; severity: string; severitySource: string; cvssScore?: number; locations: string[] }> }>(server.url, 'GET', `/images/${encodeURIComponent('javas/app:1')}/report`, admin);
      assert.deepEqual(r.vulnerabilities.map((v) => `${v.advisoryId} ${v.installedPackage}@${v.installedVersion} -> ${v.fixedVersion} ${v.severity} ${v.cvssScore} ${v.severitySource}`), [
        'GHSA-7g45-4rm6-3mm3 com.google.guava:guava@25.1-jre -> 32.0.0 MEDIUM 5.5 cvss-v3.1',
      ]);
      assert.deepEqual(r.vulnerabilities[0]!.locations, ['/app/lib/guava-25.1-jre.jar!/META-INF/maven/com.google.guava/guava/pom.properties']);
      assert.equal(r.status, '1 Issue');
      const sbom = await apiJson<{ components: Array<{ purl?: string }> }>(server.url, 'GET', `/images/${encodeURIComponent('javas/app:1')}/sbom`, admin);
      const purls = sbom.components.map((c) => c.purl).filter((p): p is string => !!p).sort();
      assert.deepEqual(purls, ['pkg:maven/com.google.guava/guava@25.1-jre', 'pkg:maven/com.google.guava/guava@32.1.3-jre', 'pkg:maven/org.apache.commons/commons-text@1.10.0', 'pkg:maven/org.apache.commons/commons-text@1.3']);
    });
  });
}
