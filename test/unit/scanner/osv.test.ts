import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OsvFormatError, parseOsvRecord, type OsvRecord } from '../../../src/scanner/osv/schema.js';
import { ownSeverity } from '../../../src/scanner/osv/severity.js';
const severityLevel = (r: OsvRecord) => ownSeverity(r).level;
import { matchAdvisory } from '../../../src/scanner/osv/match.js';
import { ecosystemScheme, osEcosystem, packageQuery } from '../../../src/scanner/osv/ecosystems.js';
import { parseOsRelease } from '../../../src/scanner/detectors/os-release.js';
import { parseDpkgStatus } from '../../../src/scanner/detectors/dpkg.js';
import { toGoModuleVersion } from '../../../src/scanner/versions/semver.js';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures');
const record = (id: string): OsvRecord => parseOsvRecord(JSON.parse(readFileSync(path.join(root, 'osv', `${id}.json`), 'utf8')));

describe('OSV record parsing (real records)', () => {
  it('reads a GitHub advisory: ids, aliases, ranges, severity', () => {
    const r = record('GHSA-xvch-5gv4-984h');
    assert.equal(r.id, 'GHSA-xvch-5gv4-984h');
    assert.deepEqual(r.aliases, ['CVE-2021-44906']);
    assert.equal(r.summary, 'Prototype Pollution in minimist');
    assert.equal(r.published, '2022-03-18T00:01:09Z');
    assert.equal(r.modified, '2023-02-27T14:47:14Z');
    assert.deepEqual(r.severity, [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }]);
    assert.equal(r.affected.length, 2);
    assert.deepEqual(r.affected[0]!.package, { ecosystem: 'npm', name: 'minimist' });
    assert.deepEqual(r.affected[0]!.ranges[0]!.events, [{ introduced: '1.0.0' }, { fixed: '1.2.6' }]);
    assert.equal(severityLevel(r), 'CRITICAL');
  });
  it('maps GitHub MODERATE to MEDIUM and keeps ecosystem_specific', () => {
    const r = record('GHSA-vh95-rmgr-6w4m');
    assert.equal(severityLevel(r), 'MEDIUM');
    assert.deepEqual(r.affected[0]!.ecosystem_specific, { affected_functions: ['(minimist)'] });
  });
  it('reads a Go vulnerability database record with SEMVER ranges', () => {
    const r = record('GO-2022-0969');
    assert.deepEqual(r.aliases, ['CVE-2022-27664', 'GHSA-69cg-p879-7622']);
    assert.equal(r.affected[0]!.ranges[0]!.type, 'SEMVER');
    assert.equal(severityLevel(r), 'UNKNOWN');
  });
  for (const [bad, msg] of [
    [[], /JSON object/],
    [{ modified: 'x' }, /"id"/],
    [{ id: 'X-1' }, /modified/],
    [{ id: 'X-1', modified: 'x', affected: [{ ranges: [{ type: 'ECOSYSTEM', events: [{ nope: '1' }] }] }] }, /introduced, fixed/],
    [{ id: 'X-1', modified: 'x', affected: [{ package: { name: 'a' } }] }, /ecosystem/],
  ] as const) {
    it(`refuses ${JSON.stringify(bad)} with a message naming the field`, () => assert.throws(() => parseOsvRecord(bad), (e: unknown) => e instanceof OsvFormatError && msg.test(e.message)));
  }
});

describe('matching real advisories', () => {
  const cases: [string, string, string, string, 'affected' | 'not-affected', string?][] = [
    // GHSA-vh95-rmgr-6w4m: introduced 0 fixed 0.2.1; introduced 1.0.0 fixed 1.2.3
    ['GHSA-vh95-rmgr-6w4m', 'npm', 'minimist', '1.2.0', 'affected', '1.2.3'],
    ['GHSA-vh95-rmgr-6w4m', 'npm', 'minimist', '0.0.8', 'affected', '0.2.1'],
    ['GHSA-vh95-rmgr-6w4m', 'npm', 'minimist', '1.2.3', 'not-affected'],
    ['GHSA-vh95-rmgr-6w4m', 'npm', 'minimist', '0.2.1', 'not-affected'],
    ['GHSA-vh95-rmgr-6w4m', 'npm', 'minimist', '1.2.8', 'not-affected'],
    // GHSA-xvch-5gv4-984h: introduced 1.0.0 fixed 1.2.6; introduced 0 fixed 0.2.4
    ['GHSA-xvch-5gv4-984h', 'npm', 'minimist', '1.2.0', 'affected', '1.2.6'],
    ['GHSA-xvch-5gv4-984h', 'npm', 'minimist', '1.2.5', 'affected', '1.2.6'],
    ['GHSA-xvch-5gv4-984h', 'npm', 'minimist', '1.2.6-beta.1', 'affected', '1.2.6'],
    ['GHSA-xvch-5gv4-984h', 'npm', 'minimist', '0.2.3', 'affected', '0.2.4'],
    ['GHSA-xvch-5gv4-984h', 'npm', 'minimist', '0.2.4', 'not-affected'],
    ['GHSA-xvch-5gv4-984h', 'npm', 'minimist', '1.2.6', 'not-affected'],
    ['GHSA-xvch-5gv4-984h', 'npm', 'minimist', '1.2.8', 'not-affected'],
    ['GHSA-xvch-5gv4-984h', 'npm', 'minimalist', '1.2.0', 'not-affected'],
    ['GHSA-xvch-5gv4-984h', 'PyPI', 'minimist', '1.2.0', 'not-affected'],
    // GHSA-8q59-q68h-6hv4 (PyYAML < 5.4); names compare PEP 503-normalised
    ['GHSA-8q59-q68h-6hv4', 'PyPI', 'pyyaml', '5.3.1', 'affected', '5.4'],
    ['GHSA-8q59-q68h-6hv4', 'PyPI', 'PyYAML', '5.4b2', 'affected', '5.4'],
    ['GHSA-8q59-q68h-6hv4', 'PyPI', 'pyyaml', '5.4', 'not-affected'],
    ['GHSA-8q59-q68h-6hv4', 'PyPI', 'pyyaml', '6.0', 'not-affected'],
    // GHSA-h5c8-rqwp-cp95 (Jinja2 < 3.1.3)
    ['GHSA-h5c8-rqwp-cp95', 'PyPI', 'Jinja2', '3.1.2', 'affected', '3.1.3'],
    ['GHSA-h5c8-rqwp-cp95', 'PyPI', 'jinja2', '3.1.3', 'not-affected'],
    ['GHSA-h5c8-rqwp-cp95', 'PyPI', 'jinja2', '3.1.3.post1', 'not-affected'],
    // GO-2022-0969: stdlib fixed 1.18.6 and (from 1.19.0-0) 1.19.1; x/net fixed at a pseudo-version
    ['GO-2022-0969', 'Go', 'stdlib', toGoModuleVersion('go1.18.5'), 'affected', '1.18.6'],
    ['GO-2022-0969', 'Go', 'stdlib', toGoModuleVersion('go1.19'), 'affected', '1.19.1'],
    ['GO-2022-0969', 'Go', 'stdlib', toGoModuleVersion('go1.19rc1'), 'affected', '1.19.1'],
    ['GO-2022-0969', 'Go', 'stdlib', toGoModuleVersion('go1.18.6'), 'not-affected'],
    ['GO-2022-0969', 'Go', 'stdlib', toGoModuleVersion('go1.19.8'), 'not-affected'],
    ['GO-2022-0969', 'Go', 'golang.org/x/net', 'v0.0.0-20220826154423-83b083e8dc8b', 'affected', '0.0.0-20220906165146-f3363e06e74c'],
    ['GO-2022-0969', 'Go', 'golang.org/x/net', 'v0.0.0-20220906165146-f3363e06e74c', 'not-affected'],
    ['GO-2022-0969', 'Go', 'golang.org/x/net', 'v0.7.0', 'not-affected'],
  ];
  for (const [id, ecosystem, name, version, want, fixed] of cases) {
    it(`${id}: ${name} ${version} is ${want}${fixed ? ` (fixed in ${fixed})` : ''}`, () => {
      const r = matchAdvisory(record(id), { ecosystem, name, version });
      assert.equal(r.status, want);
      if (r.status === 'affected') assert.equal(r.fixed, fixed);
    });
  }
  it('answers undetermined for a version the ecosystem cannot compare, rather than guess', () => {
    const r = matchAdvisory(record('GHSA-xvch-5gv4-984h'), { ecosystem: 'npm', name: 'minimist', version: 'not-a-version' });
    assert.equal(r.status, 'undetermined');
  });
});

describe('range semantics on the OSV schema shapes', () => {
  // Shapes from the OSV schema's own examples (last_affected, limit, versions lists), on
  // package names that exist only in this test.
  const rec = (affected: unknown[]): OsvRecord => parseOsvRecord({ id: 'TEST-1', modified: '2026-11-25T00:00:00Z', affected });
  it('last_affected includes that version and nothing above it', () => {
    const r = rec([{ package: { ecosystem: 'npm', name: 't' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '1.0.0' }, { last_affected: '1.4.0' }] }] }]);
    assert.equal(matchAdvisory(r, { ecosystem: 'npm', name: 't', version: '1.4.0' }).status, 'affected');
    assert.equal(matchAdvisory(r, { ecosystem: 'npm', name: 't', version: '1.4.1' }).status, 'not-affected');
    const a = matchAdvisory(r, { ecosystem: 'npm', name: 't', version: '1.2.0' });
    assert.ok(a.status === 'affected' && a.fixed === undefined, 'no fix yet');
  });
  it('an explicit versions list matches exactly', () => {
    const r = rec([{ package: { ecosystem: 'Debian:12', name: 'php-league-commonmark' }, versions: ['2.3.9-1', '2.3.9-1+deb12u1'] }]);
    assert.equal(matchAdvisory(r, { ecosystem: 'Debian:12', name: 'php-league-commonmark', version: '2.3.9-1+deb12u1' }).status, 'affected');
    assert.equal(matchAdvisory(r, { ecosystem: 'Debian:12', name: 'php-league-commonmark', version: '2.3.9-1+deb12u2' }).status, 'not-affected');
  });
  it('compares Debian fixed versions with dpkg rules (~deb12u sorts below the unstable revision)', () => {
    const r = rec([{ package: { ecosystem: 'Debian:12', name: 'openssl' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '3.0.13-1~deb12u1' }] }] }]);
    const hit = matchAdvisory(r, { ecosystem: 'Debian:12', name: 'openssl', version: '3.0.11-1~deb12u2' });
    assert.ok(hit.status === 'affected' && hit.fixed === '3.0.13-1~deb12u1');
    assert.equal(matchAdvisory(r, { ecosystem: 'Debian:12', name: 'openssl', version: '3.0.19-1~deb12u2' }).status, 'not-affected');
    assert.equal(matchAdvisory(r, { ecosystem: 'Debian:11', name: 'openssl', version: '1.1.1n-0+deb11u4' }).status, 'not-affected');
  });
  it('a withdrawn advisory affects nothing', () => {
    const r = parseOsvRecord({ id: 'TEST-2', modified: 'x', withdrawn: '2026-01-01T00:00:00Z', affected: [{ package: { ecosystem: 'npm', name: 't' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }] }] }] });
    assert.equal(matchAdvisory(r, { ecosystem: 'npm', name: 't', version: '1.0.0' }).status, 'not-affected');
  });
  it('GIT ranges are not evaluated against package versions', () => {
    const r = rec([{ package: { ecosystem: 'npm', name: 't' }, ranges: [{ type: 'GIT', repo: 'https://example.invalid/r', events: [{ introduced: '0' }, { fixed: 'abc123' }] }] }]);
    assert.equal(matchAdvisory(r, { ecosystem: 'npm', name: 't', version: '1.0.0' }).status, 'not-affected');
  });
});

describe('ecosystems', () => {
  for (const [eco, scheme] of [['Debian:12', 'dpkg'], ['Ubuntu:22.04:LTS', 'dpkg'], ['Alpine:v3.19', 'apk'], ['Rocky Linux:9', 'rpm'], ['AlmaLinux:8', 'rpm'], ['Red Hat:enterprise_linux:9::appstream', 'rpm'], ['npm', 'npm'], ['PyPI', 'pep440'], ['Go', 'go'], ['crates.io', undefined]] as const) {
    it(`${eco} uses ${scheme ?? 'no known'} version rules`, () => assert.equal(ecosystemScheme(eco), scheme));
  }
  const os = (text: string) => parseOsRelease(text)!;
  it('maps the real Debian 12 os-release to Debian:12', () => {
    assert.equal(osEcosystem(parseOsRelease(readFileSync(path.join(root, 'scanner', 'os-release-debian-12')))!), 'Debian:12');
  });
  for (const [text, want] of [
    ['ID=alpine\nVERSION_ID=3.19.1\n', 'Alpine:v3.19'],
    ['ID=debian\nVERSION_ID="11"\n', 'Debian:11'],
    ['ID=debian\nVERSION_CODENAME=trixie\n', undefined],
    ['ID="rocky"\nVERSION_ID="9.3"\n', 'Rocky Linux:9'],
    ['ID="almalinux"\nVERSION_ID="9.3"\n', 'AlmaLinux:9'],
    ['ID=fedora\nVERSION_ID=39\n', undefined],
  ] as const) {
    it(`${JSON.stringify(text)} -> ${want}`, () => assert.equal(osEcosystem(os(text)), want));
  }
  it('queries Debian advisories by source package and source version', () => {
    const debian = parseOsRelease(readFileSync(path.join(root, 'scanner', 'os-release-debian-12')))!;
    const pkgs = parseDpkgStatus(readFileSync(path.join(root, 'scanner', 'dpkg-status')));
    const q = new Map(pkgs.map((p) => [p.name, packageQuery(p, debian)]));
    assert.deepEqual(q.get('libssl3'), { ecosystem: 'Debian:12', name: 'openssl', version: '3.0.19-1~deb12u2' });
    assert.deepEqual(q.get('libc6'), { ecosystem: 'Debian:12', name: 'glibc', version: '2.36-9+deb12u14' });
    assert.deepEqual(q.get('bash'), { ecosystem: 'Debian:12', name: 'bash', version: '5.2.15-2' });
    assert.equal(packageQuery(pkgs[0]!, undefined), undefined, 'no OS, no OS advisories');
  });
  it('queries PyPI by normalised name and npm as named', () => {
    assert.deepEqual(packageQuery({ type: 'pypi', name: 'PyYAML', version: '6.0' }), { ecosystem: 'PyPI', name: 'pyyaml', version: '6.0' });
    assert.deepEqual(packageQuery({ type: 'npm', name: '@babel/core', version: '7.0.0' }), { ecosystem: 'npm', name: '@babel/core', version: '7.0.0' });
  });
});
