import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yazl from 'yazl';
import { compareMaven } from '../../../src/scanner/versions/maven.js';
import { compareRubyGems } from '../../../src/scanner/versions/rubygems.js';
import { compareRpm } from '../../../src/scanner/versions/rpm.js';
import { ecosystemCovers, osEcosystem, packageQueries } from '../../../src/scanner/osv/ecosystems.js';
import { matchAdvisory } from '../../../src/scanner/osv/match.js';
import { parseOsvRecord, type OsvRecord } from '../../../src/scanner/osv/schema.js';
import { parseOsRelease } from '../../../src/scanner/detectors/os-release.js';
import { mavenPackagesInArchive, parsePomProperties } from '../../../src/scanner/detectors/maven.js';
import { parseGemspec } from '../../../src/scanner/detectors/gem.js';
import { keptRole } from '../../../src/scanner/image/wanted.js';
import { parseApkInstalled } from '../../../src/scanner/detectors/apk.js';
import { findVulnerabilities } from '../../../src/scanner/findings.js';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'osv');
const record = (...p: string[]): OsvRecord => parseOsvRecord(JSON.parse(readFileSync(path.join(root, ...p), 'utf8')));

function ascending(name: string, cmp: (a: string, b: string) => number, list: string[]): void {
  it(`${name}: every pair of ${list.length} versions in order`, () => {
    for (let i = 0; i < list.length; i++) {
      for (let j = 0; j < list.length; j++) {
        assert.equal(Math.sign(cmp(list[i]!, list[j]!)), Math.sign(i - j), `${list[i]} vs ${list[j]}`);
      }
    }
  });
}

describe('Maven versions (ComparableVersion)', () => {
  // Maven's own ComparableVersionTest: VERSIONS_QUALIFIER and VERSIONS_NUMBER, each ascending.
  ascending('qualifiers', compareMaven, ['1-alpha2snapshot', '1-alpha2', '1-alpha-123', '1-beta-2', '1-beta123', '1-m2', '1-m11', '1-rc', '1-cr2', '1-rc123', '1-SNAPSHOT', '1', '1-sp', '1-sp2', '1-sp123', '1-abc', '1-def', '1-pom-1', '1-1-snapshot', '1-1', '1-2', '1-123']);
  ascending('numbers', compareMaven, ['2.0', '2.0.a', '2-1', '2.0.2', '2.0.123', '2.1.0', '2.1-a', '2.1b', '2.1-c', '2.1-1', '2.1.0.1', '2.2', '2.123', '11.a2', '11.a11', '11.b2', '11.b11', '11.m2', '11.m11', '11', '11.a', '11b', '11c', '11m']);
  it('equal spellings (ComparableVersionTest.testVersionsEqual)', () => {
    for (const [a, b] of [['1', '1.0'], ['1', '1.0.0'], ['1-ga', '1'], ['1-final', '1'], ['1-release', '1'], ['1a1', '1-alpha-1'], ['1b2', '1-beta-2'], ['1m3', '1-milestone-3'], ['1-cr1', '1-rc-1'], ['1X', '1x'], ['1A', '1a']]) {
      assert.equal(compareMaven(a!, b!), 0, `${a} == ${b}`);
    }
  });
  it('Log4Shell\'s ranges: 2.14.1 inside [2.13.0, 2.15.0), 2.12.2 and 2.3.1 outside', () => {
    const r = record('coverage', 'GHSA-jfh8-c2jp-5v3q.json');
    const q = (version: string) => matchAdvisory(r, { ecosystem: 'Maven', name: 'org.apache.logging.log4j:log4j-core', version });
    assert.deepEqual(q('2.14.1'), { status: 'affected', fixed: '2.15.0', affected: r.affected[0] });
    assert.equal(q('2.12.1').status, 'affected');
    assert.equal(q('2.12.2').status, 'not-affected');
    assert.equal(q('2.3.1').status, 'not-affected');
    assert.equal(q('2.15.0').status, 'not-affected');
    assert.equal(q('2.0-beta9').status, 'affected', '2.0-beta9 < 2.3.1');
  });
});

describe('RubyGems versions (Gem::Version)', () => {
  // Orders and equalities from rubygems' test_gem_version.rb.
  ascending('releases and prereleases', compareRubyGems, ['0.9', '1.0.a.2', '1.0.a.10', '1.0.b1', '1.0', '1.0.1', '1.8.2.a', '1.8.2', '5.a', '5.0.0.rc2', '5.x', '9.8.7', '10.0']);
  it('equal spellings', () => {
    for (const [a, b] of [['1.2', '1.2.0'], ['1.2.b1', '1.2.b.1'], ['1.0.a', '1.0.a.0'], ['1.2.3-1', '1.2.3.pre.1'], ['0.0.1.a', '0.0.0001.a']]) assert.equal(compareRubyGems(a!, b!), 0, `${a} == ${b}`);
  });
  it('refuses what Gem::Version refuses', () => {
    for (const bad of ['junk', '1.0\n2.0', '1..2', '']) assert.throws(() => compareRubyGems(bad, '1'));
  });
});

describe('RPM EVR with epochs (as Red Hat\'s records write fixed versions)', () => {
  it('a missing epoch is 0; the epoch outranks version and release', () => {
    assert.equal(compareRpm('3.0.7-24.el9', '0:3.0.7-24.el9'), 0);
    assert.equal(compareRpm('1:3.0.7-24.el9', '1:3.0.7-27.el9'), -1);
    assert.equal(compareRpm('3.0.7-30.el9', '1:3.0.7-27.el9'), -1);
    assert.equal(compareRpm('1:1.1.1k-12.el8', '3.0.7-27.el9'), 1);
  });
});

describe('which ecosystem an image is', () => {
  const os = (text: string) => parseOsRelease(text)!;
  it('Ubuntu LTS releases by os-release VERSION; interim releases without ":LTS"', () => {
    assert.equal(osEcosystem(os('ID=ubuntu\nVERSION_ID="22.04"\nVERSION="22.04.3 LTS (Jammy Jellyfish)"\n')), 'Ubuntu:22.04:LTS');
    assert.equal(osEcosystem(os('ID=ubuntu\nVERSION_ID="23.10"\nVERSION="23.10 (Mantic Minotaur)"\n')), 'Ubuntu:23.10');
  });
  it('RHEL and UBI (ID=rhel), Rocky, Alma, Alpine, Debian', () => {
    assert.equal(osEcosystem(os('ID="rhel"\nVERSION_ID="9.3"\n')), 'Red Hat:enterprise_linux:9');
    assert.equal(osEcosystem(os('ID="rocky"\nVERSION_ID="9.3"\n')), 'Rocky Linux:9');
    assert.equal(osEcosystem(os('ID="almalinux"\nVERSION_ID="9.3"\n')), 'AlmaLinux:9');
    assert.equal(osEcosystem(os('ID=alpine\nVERSION_ID=3.19.1\n')), 'Alpine:v3.19');
    assert.equal(osEcosystem(os('ID=debian\nVERSION_ID="12"\n')), 'Debian:12');
  });
  it('a Red Hat record names the repository after the release; other ecosystems match exactly', () => {
    assert.equal(ecosystemCovers('Red Hat:enterprise_linux:9', 'Red Hat:enterprise_linux:9::baseos'), true);
    assert.equal(ecosystemCovers('Red Hat:enterprise_linux:9', 'Red Hat:enterprise_linux:8::baseos'), false);
    assert.equal(ecosystemCovers('Red Hat:enterprise_linux:9', 'Red Hat:enterprise_linux:90::baseos'), false);
    assert.equal(ecosystemCovers('Debian:12', 'Debian:12::x'), false);
  });
  it('an RPM package is looked up by its binary and its source name', () => {
    const q = packageQueries({ type: 'rpm', name: 'openssl-libs', version: '1:3.0.7-24.el9', sourceName: 'openssl' }, os('ID=rhel\nVERSION_ID=9.3\n'));
    assert.deepEqual(q.map((x) => x.name), ['openssl-libs', 'openssl']);
  });
  it('Ubuntu\'s openssl record: libssl3 3.0.2-0ubuntu1.7 (source openssl) on 22.04 is affected, fixed in 3.0.2-0ubuntu1.8', async () => {
    const r = record('coverage', 'UBUNTU-CVE-2023-0286.json');
    const jammy = os('ID=ubuntu\nVERSION_ID="22.04"\nVERSION="22.04.2 LTS (Jammy Jellyfish)"\n');
    const pkgs = [
      { type: 'deb' as const, name: 'libssl3', version: '3.0.2-0ubuntu1.7', sourceName: 'openssl', sourceVersion: '3.0.2-0ubuntu1.7' },
      { type: 'deb' as const, name: 'openssl', version: '3.0.2-0ubuntu1.8', sourceName: 'openssl', sourceVersion: '3.0.2-0ubuntu1.8' },
    ];
    const { findings } = await findVulnerabilities(pkgs, jammy, async (eco, name) => (eco === 'Ubuntu:22.04:LTS' && name === 'openssl' ? [r] : []));
    assert.deepEqual(findings.map((f) => [f.installedPackage, f.fixedVersion, f.severity, f.severitySource]), [['libssl3', '3.0.2-0ubuntu1.8', 'HIGH', 'cvss-v3.1']]);
  });
  it('a Red Hat record (built inline in the shape OSV\'s Red Hat export writes: repository-suffixed ecosystems, epoch in the fix) finds an older openssl-libs', async () => {
    const rhsa = parseOsvRecord({
      id: 'RHSA-2024:1234', modified: '2024-05-01T00:00:00Z', upstream: ['CVE-2024-0001'],
      severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H' }],
      affected: [
        { package: { ecosystem: 'Red Hat:enterprise_linux:9::baseos', name: 'openssl-libs' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1:3.0.7-27.el9' }] }] },
        { package: { ecosystem: 'Red Hat:enterprise_linux:8::baseos', name: 'openssl-libs' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1:1.1.1k-12.el8' }] }] },
      ],
    });
    const ubi9 = os('ID="rhel"\nVERSION_ID="9.3"\n');
    const lookup = async (eco: string, name: string) => (eco === 'Red Hat:enterprise_linux:9' && name === 'openssl-libs' ? [rhsa] : []);
    const old = await findVulnerabilities([{ type: 'rpm', name: 'openssl-libs', version: '1:3.0.7-24.el9', sourceName: 'openssl' }], ubi9, lookup);
    assert.deepEqual(old.findings.map((f) => [f.fixedVersion, f.fix]), [['1:3.0.7-27.el9', 'dnf upgrade openssl-libs']]);
    const fixed = await findVulnerabilities([{ type: 'rpm', name: 'openssl-libs', version: '1:3.0.7-27.el9', sourceName: 'openssl' }], ubi9, lookup);
    assert.deepEqual(fixed.findings, []);
  });
});

describe('Maven and RubyGems detectors', () => {
  // pom.properties as maven-archiver writes it (log4j-core-2.14.1.jar's, header comment included).
  const pom = '#Created by Apache Maven 3.6.3\nversion=2.14.1\ngroupId=org.apache.logging.log4j\nartifactId=log4j-core\n';
  it('reads groupId:artifactId and version from pom.properties', () => {
    assert.deepEqual(parsePomProperties(pom), { type: 'maven', name: 'org.apache.logging.log4j:log4j-core', version: '2.14.1' });
    assert.equal(parsePomProperties('version=1\n'), undefined);
  });
  it('keeps pom.properties, Java archives and installed gemspecs, not gemspecs of a source tree', () => {
    assert.equal(keptRole('/app/META-INF/maven/org.example/app/pom.properties'), 'maven-pom-properties');
    assert.equal(keptRole('/app/lib/log4j-core-2.14.1.jar'), 'java-archive');
    assert.equal(keptRole('/usr/local/bundle/specifications/rack-2.2.3.gemspec'), 'gemspec');
    assert.equal(keptRole('/src/rack/rack.gemspec'), undefined);
  });
  it('finds the pom.properties inside a jar, and inside a jar inside a Spring Boot jar', async () => {
    const zip = (entries: Array<[string, Buffer]>): Promise<Buffer> => new Promise((resolve, reject) => {
      const z = new yazl.ZipFile();
      for (const [name, content] of entries) z.addBuffer(content, name);
      z.end();
      const chunks: Buffer[] = [];
      z.outputStream.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks))).on('error', reject);
    });
    const log4j = await zip([['META-INF/MANIFEST.MF', Buffer.from('Manifest-Version: 1.0\n')], ['META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties', Buffer.from(pom)]]);
    const boot = await zip([['BOOT-INF/lib/log4j-core-2.14.1.jar', log4j], ['META-INF/maven/com.example/app/pom.properties', Buffer.from('groupId=com.example\nartifactId=app\nversion=1.0.0\n')]]);
    const found = await mavenPackagesInArchive(boot, 16 * 1024 * 1024);
    assert.equal(found.error, undefined);
    assert.deepEqual(found.packages.map((p) => `${p.name}@${p.version} ${p.entry}`).sort(), [
      'com.example:app@1.0.0 META-INF/maven/com.example/app/pom.properties',
      'org.apache.logging.log4j:log4j-core@2.14.1 BOOT-INF/lib/log4j-core-2.14.1.jar!/META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties',
    ]);
    const broken = await mavenPackagesInArchive(Buffer.from('PK\u0003\u0004 not really a zip'), 1024);
    assert.match(broken.error ?? '', /./, 'a damaged archive says why');
  });
  it('reads name and version from a gemspec as Gem::Specification#to_ruby writes it, without running it', () => {
    // The first lines of rack-2.2.3.gemspec as `gem install rack -v 2.2.3` writes it to specifications/.
    const spec = '# -*- encoding: utf-8 -*-\n# stub: rack 2.2.3 ruby lib\n\nGem::Specification.new do |s|\n  s.name = "rack".freeze\n  s.version = "2.2.3"\n\n  s.required_rubygems_version = Gem::Requirement.new(">= 0".freeze) if s.respond_to? :required_rubygems_version=\n  s.require_paths = ["lib".freeze]\nend\n';
    assert.deepEqual(parseGemspec(spec), { type: 'gem', name: 'rack', version: '2.2.3' });
    assert.equal(parseGemspec('Gem::Specification.new do |s|\n  s.name = File.read("NAME")\nend\n'), undefined);
  });
});

describe('Alpine', () => {
  // No Alpine rootfs or apk-tools is reachable here: this database is written the way apk writes
  // /lib/apk/db/installed (one "X:value" line per field, a blank line between packages; C checksum,
  // P name, V version, A arch, S/I sizes, T description, o origin = the source package, m maintainer,
  // t build time, c commit), with the versions Alpine 3.18.4 shipped for busybox and libssl3.
  const installed = [
    'C:Q1y8hIY7L8Ju2wq0YmkUeFnhXQS3s=', 'P:busybox', 'V:1.36.1-r2', 'A:x86_64', 'S:505564', 'I:962560', 'T:Size optimized toolbox of many common UNIX utilities',
    'U:https://busybox.net/', 'L:GPL-2.0-only', 'o:busybox', 'm:Sören Tempel <soeren+alpine@soeren-tempel.net>', 't:1689080633', 'c:b6e8bc4a5ac6ef7a7a96b55c4e4bc2cd6c8a1b5e', '',
    'C:Q1vB0u7X0Yd7tqfz8m0jD9nQKc5eA=', 'P:libssl3', 'V:3.1.3-r0', 'A:x86_64', 'S:240000', 'I:602112', 'T:SSL shared libraries',
    'U:https://www.openssl.org/', 'L:Apache-2.0', 'o:openssl', 'm:Ariadne Conill <ariadne@dereferenced.org>', 't:1695137421', 'c:0d5f3b7e6c9a4e8c5d4a3f2b1c0d9e8f7a6b5c4d', '',
  ].join('\n');
  const alpine = parseOsRelease('NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.18.4\nPRETTY_NAME="Alpine Linux v3.18"\n')!;
  // In the shape OSV publishes Alpine's secdb (ALPINE-CVE-2023-5363: upstream CVE, "Alpine:v3.18", fixed 3.1.4-r0).
  const rec = parseOsvRecord({
    id: 'ALPINE-CVE-2023-5363', modified: '2024-01-01T00:00:00Z', upstream: ['CVE-2023-5363'],
    affected: [{ package: { ecosystem: 'Alpine:v3.18', name: 'openssl' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '3.1.4-r0' }] }] }],
  });
  it('libssl3 (origin openssl) 3.1.3-r0 on Alpine 3.18 is affected by the openssl advisory, fixed in 3.1.4-r0; busybox is not', async () => {
    const pkgs = parseApkInstalled(installed);
    assert.deepEqual(pkgs.map((p) => `${p.name} ${p.version} ${p.sourceName}`), ['busybox 1.36.1-r2 busybox', 'libssl3 3.1.3-r0 openssl']);
    const { findings } = await findVulnerabilities(pkgs, alpine, async (eco, name) => (eco === 'Alpine:v3.18' && name === 'openssl' ? [rec] : []));
    assert.deepEqual(findings.map((f) => [f.installedPackage, f.fixedVersion, f.fix, f.cves.join()]), [['libssl3', '3.1.4-r0', 'apk add --upgrade libssl3', 'CVE-2023-5363']]);
    const fixed = parseApkInstalled(installed.replace('V:3.1.3-r0', 'V:3.1.4-r0'));
    assert.deepEqual((await findVulnerabilities(fixed, alpine, async () => [rec])).findings, []);
  });
});
