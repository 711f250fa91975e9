import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseOsvRecord, type OsvRecord } from '../../../src/scanner/osv/schema.js';
import { cvssScore, ecosystemLevel, levelOfScore, ownSeverity, severityOf } from '../../../src/scanner/osv/severity.js';
import { countVulnerabilities, groupBySharedIds, idsOf } from '../../../src/scanner/osv/aliases.js';
import { findVulnerabilities } from '../../../src/scanner/findings.js';
import { viewReport, filterVulnerabilities, isAbove, type ScanReport } from '../../../src/scanner/report.js';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'osv');
const record = (...p: string[]): OsvRecord => parseOsvRecord(JSON.parse(readFileSync(path.join(root, ...p), 'utf8')));

describe('CVSS base scores (vectors of real advisories, with the score each publisher shows)', () => {
  const published: Array<[string, string, number]> = [
    ['GHSA-xvch-5gv4-984h (minimist)', 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 9.8],
    ['GHSA-vh95-rmgr-6w4m (minimist)', 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:L', 5.6],
    ['GHSA-h5c8-rqwp-cp95 (jinja2)', 'CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N', 5.4],
    ['GHSA-jfh8-c2jp-5v3q (Log4Shell)', 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H', 10.0],
    ['GHSA-69cg-p879-7622 (x/net http2)', 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H', 7.5],
    ['Ubuntu CVE-2023-0286 (openssl)', 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:H', 7.4],
    // CVSS 4.0: the specification's own example of a network, no-interaction, full-impact vulnerability (FIRST calculator: 9.3).
    ['CVSS 4.0 network RCE', 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N', 9.3],
    // CVSS 2.0 as NVD scored CVE-2014-0160-era network flaws (AV:N/AC:L/Au:N/C:P/I:P/A:P = 7.5).
    ['CVSS 2.0', 'AV:N/AC:L/Au:N/C:P/I:P/A:P', 7.5],
  ];
  for (const [what, vector, score] of published) {
    it(`${what}: ${score}`, () => assert.equal(cvssScore(vector)?.score, score));
  }
  it('names the version that scored', () => {
    assert.equal(cvssScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H')?.source, 'cvss-v3.1');
    assert.equal(cvssScore('CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H')?.source, 'cvss-v3.0');
    assert.equal(cvssScore('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N')?.source, 'cvss-v4.0');
    assert.equal(cvssScore('AV:N/AC:L/Au:N/C:P/I:P/A:P')?.source, 'cvss-v2.0');
  });
  it('scores nothing for a vector missing base metrics or not a vector at all', () => {
    assert.equal(cvssScore('CVSS:3.1/AV:N/AC:L'), undefined);
    assert.equal(cvssScore('7.5'), undefined, 'a bare number is not a vector');
    assert.equal(cvssScore('CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'), undefined, 'unknown metric value');
  });
  it('FIRST qualitative bands', () => {
    assert.deepEqual([9.0, 8.9, 7.0, 6.9, 4.0, 3.9, 0.1, 0].map(levelOfScore), ['CRITICAL', 'HIGH', 'HIGH', 'MEDIUM', 'MEDIUM', 'LOW', 'LOW', 'NEGLIGIBLE']);
  });
});

describe('where a severity comes from', () => {
  it('a CVSS vector before the ecosystem rating (GHSA: 9.8 over its own CRITICAL; MODERATE 5.6 stays MEDIUM)', () => {
    assert.deepEqual(ownSeverity(record('GHSA-xvch-5gv4-984h.json')), { level: 'CRITICAL', source: 'cvss-v3.1', score: 9.8, vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' });
    assert.equal(ownSeverity(record('GHSA-vh95-rmgr-6w4m.json')).level, 'MEDIUM');
  });
  it('Ubuntu: the vector (7.4 HIGH) when there is one, else ubuntu_priority', () => {
    const r = record('coverage', 'UBUNTU-CVE-2023-0286.json');
    assert.deepEqual(ownSeverity(r, r.affected[0]), { level: 'HIGH', source: 'cvss-v3.1', score: 7.4, vector: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:H' });
    const noVector = { ...r, severity: [] };
    assert.deepEqual(ownSeverity(noVector, r.affected[0]), { level: 'HIGH', source: 'ecosystem' });
  });
  it('the newest CVSS version rates when several are given; an entry\'s own vector before the record\'s', () => {
    const r = record('GHSA-xvch-5gv4-984h.json');
    const both = { ...r, severity: [...r.severity, { type: 'CVSS_V4', score: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N' }] };
    assert.equal(ownSeverity(both).source, 'cvss-v4.0');
    const entry = { ...r.affected[0]!, severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:L' }] };
    assert.equal(ownSeverity(r, entry).level, 'MEDIUM');
  });
  it('ecosystem words: GitHub, Ubuntu, Debian (a "**" guess mark ignored; "not yet assigned" is none)', () => {
    assert.deepEqual(['MODERATE', 'important', 'negligible', 'unimportant', 'low**', 'not yet assigned', 'end-of-life', 7].map(ecosystemLevel),
      ['MEDIUM', 'HIGH', 'NEGLIGIBLE', 'NEGLIGIBLE', 'LOW', undefined, undefined, undefined]);
  });
  it('a record without a rating takes the most severe of its alias records: GO-2022-0969 from GHSA-69cg-p879-7622', () => {
    const go = record('GO-2022-0969.json');
    assert.deepEqual(ownSeverity(go), { level: 'UNKNOWN', source: 'none' });
    const ghsa = record('coverage', 'GHSA-69cg-p879-7622.json');
    assert.deepEqual(severityOf(go, go.affected[0], [ghsa]), { level: 'HIGH', source: 'alias:GHSA-69cg-p879-7622', score: 7.5, vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H' });
    assert.equal(severityOf(go, go.affected[0], [{ ...ghsa, withdrawn: '2024-01-01T00:00:00Z' }]).source, 'none', 'a withdrawn record rates nothing');
    assert.equal(severityOf(go, go.affected[0], [record('GHSA-xvch-5gv4-984h.json')]).source, 'none', 'a record of another vulnerability is no alias');
  });
  it('a Debian DSA takes its CVE record\'s severity (DSA-5514-1 and a record of CVE-2023-4911 built inline with a CVSS 3.1 vector)', () => {
    const dsa = record('DSA-5514-1.json');
    assert.equal(ownSeverity(dsa).level, 'UNKNOWN');
    const cve = parseOsvRecord({ id: 'CVE-2023-4911', modified: '2024-01-01T00:00:00Z', severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H' }] });
    const s = severityOf(dsa, dsa.affected[1], [cve]);
    assert.equal(s.level, 'HIGH');
    assert.equal(s.score, 7.8);
    assert.equal(s.source, 'alias:CVE-2023-4911');
  });
});

describe('one vulnerability, one finding', () => {
  const pyyaml = { type: 'pypi' as const, name: 'PyYAML', version: '5.3.1', location: '/usr/lib/python3/dist-packages/PyYAML-5.3.1.dist-info/METADATA' };
  const records = [record('GHSA-8q59-q68h-6hv4.json'), record('coverage', 'PYSEC-2021-142.json')];
  const lookup = async (ecosystem: string, name: string) => records.filter((r) => r.affected.some((a) => a.package?.ecosystem === ecosystem && a.package.name.toLowerCase() === name.toLowerCase()));

  it('GitHub\'s and PyPA\'s records of CVE-2020-14343 are one PyYAML finding listing both IDs', async () => {
    const { findings } = await findVulnerabilities([pyyaml], undefined, lookup);
    assert.equal(findings.length, 1);
    const f = findings[0]!;
    assert.deepEqual(f.ids, ['GHSA-8q59-q68h-6hv4', 'PYSEC-2021-142']);
    assert.deepEqual(f.cves, ['CVE-2020-14343']);
    assert.equal(f.fixedVersion, '5.4');
    assert.equal(f.severity, 'CRITICAL');
    assert.equal(f.severitySource, 'cvss-v3.1');
  });
  it('exempting either ID exempts it; the image counts one issue, not two', async () => {
    const { findings } = await findVulnerabilities([pyyaml], undefined, lookup);
    const report: ScanReport = { digest: 'sha256:x', os: null, packageCount: 1, vulnerabilities: findings, configurationIssues: [], undetermined: [], warnings: [], vulndbDate: null, scannedAt: '', packages: [] };
    assert.equal(viewReport(report, 'done', 'ns/app', []).status, '1 Issue');
    const byPysec = { id: 1, issue_id: 'PYSEC-2021-142', scope: 'account' as const, namespace: null, repository: null, digest: null, reason: 'r', created_by: 'u', created_at: 0 };
    const view = viewReport(report, 'done', 'ns/app', [byPysec]);
    assert.equal(view.status, 'No Issues');
    assert.equal(view.vulnerabilities[0]!.exempt, true);
  });
  it('a vulnerability in two packages (libc6 and libc-bin from glibc) counts once', async () => {
    const dsa = record('DSA-5514-1.json');
    const os = { id: 'debian', versionId: '12', idLike: [], fields: {} };
    const pkgs = ['libc6', 'libc-bin'].map((name) => ({ type: 'deb' as const, name, version: '2.36-9+deb12u1', sourceName: 'glibc', sourceVersion: '2.36-9+deb12u1' }));
    const { findings } = await findVulnerabilities(pkgs, os, async (eco, name) => (eco === 'Debian:12' && name === 'glibc' ? [dsa] : []));
    assert.equal(findings.length, 2);
    const report: ScanReport = { digest: 'sha256:x', os, packageCount: 2, vulnerabilities: findings, configurationIssues: [], undetermined: [], warnings: [], vulndbDate: null, scannedAt: '', packages: [] };
    const view = viewReport(report, 'done', 'ns/app', []);
    assert.equal(view.issueCount, 1);
    assert.equal(view.severityCounts.UNKNOWN, 1);
  });
  it('counting: each CVE once; a DSA bundling two CVEs counts two, with or without their DEBIAN-CVE records loaded', () => {
    const f = (ids: string[]) => ({ ids });
    const ids = (x: { ids: string[] }) => x.ids;
    assert.equal(countVulnerabilities([f(['DSA-1', 'CVE-2020-1', 'CVE-2020-2'])], ids), 2);
    assert.equal(countVulnerabilities([f(['DSA-1', 'CVE-2020-1', 'CVE-2020-2']), f(['DEBIAN-CVE-2020-1', 'CVE-2020-1']), f(['DEBIAN-CVE-2020-2', 'CVE-2020-2'])], ids), 2);
    assert.equal(countVulnerabilities([f(['GHSA-a']), f(['PYSEC-1', 'GHSA-a']), f(['GO-1'])], ids), 2, 'CVE-less groups count once each');
    assert.deepEqual(groupBySharedIds([f(['A', 'B']), f(['C']), f(['B', 'C']), f(['D'])], ids).map((g) => g.length), [3, 1], 'chains join');
    assert.deepEqual(idsOf({ id: 'DEBIAN-CVE-1', aliases: [], upstream: ['CVE-1'] }), ['DEBIAN-CVE-1', 'CVE-1']);
  });
  it('a withdrawn advisory matches nothing', async () => {
    const withdrawn = { ...records[1]!, withdrawn: '2024-01-01T00:00:00Z' };
    const { findings } = await findVulnerabilities([pyyaml], undefined, async () => [withdrawn]);
    assert.deepEqual(findings, []);
  });
  it('the alias lookup is asked only for records without a rating of their own', async () => {
    const asked: string[][] = [];
    const go = record('GO-2022-0969.json');
    const ghsa = record('coverage', 'GHSA-69cg-p879-7622.json');
    const stdlib = { type: 'go' as const, name: 'stdlib', version: 'go1.18.5', location: '/usr/bin/app' };
    const { findings } = await findVulnerabilities([stdlib], undefined, async (_e, name) => (name === 'stdlib' ? [go] : []), async (idList) => { asked.push(idList); return [ghsa]; });
    assert.equal(findings.length, 1);
    assert.equal(findings[0]!.severity, 'HIGH');
    assert.equal(findings[0]!.severitySource, 'alias:GHSA-69cg-p879-7622');
    assert.deepEqual(asked, [['GO-2022-0969', 'CVE-2022-27664', 'GHSA-69cg-p879-7622']]);
  });
});

describe('severity filters and thresholds', () => {
  it('"nothing above HIGH": CRITICAL is above, HIGH and UNKNOWN are not', () => {
    assert.equal(isAbove('CRITICAL', 'HIGH'), true);
    assert.equal(isAbove('HIGH', 'HIGH'), false);
    assert.equal(isAbove('UNKNOWN', 'LOW'), false);
  });
  it('--severity and --fixable keep the status and counts of the whole image', async () => {
    const minimist = { type: 'npm' as const, name: 'minimist', version: '1.2.0' };
    const recs = [record('GHSA-xvch-5gv4-984h.json'), record('GHSA-vh95-rmgr-6w4m.json')];
    const { findings } = await findVulnerabilities([minimist], undefined, async () => recs);
    const report: ScanReport = { digest: 'sha256:x', os: null, packageCount: 1, vulnerabilities: findings, configurationIssues: [], undetermined: [], warnings: [], vulndbDate: null, scannedAt: '', packages: [] };
    const view = viewReport(report, 'done', 'ns/app', []);
    assert.equal(view.status, '2 Issues');
    assert.equal(view.highestSeverity, 'CRITICAL');
    assert.deepEqual([view.severityCounts.CRITICAL, view.severityCounts.MEDIUM], [1, 1]);
    const high = filterVulnerabilities(view, { minSeverity: 'HIGH' });
    assert.deepEqual(high.vulnerabilities.map((v) => v.advisoryId), ['GHSA-xvch-5gv4-984h']);
    assert.equal(high.status, '2 Issues');
    assert.equal(filterVulnerabilities(view, { fixable: true }).vulnerabilities.length, 2);
  });
});
