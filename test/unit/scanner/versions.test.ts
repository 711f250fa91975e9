import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { compareDpkg, parseDpkgVersion } from '../../../src/scanner/versions/dpkg.js';
import { compareApk, isValidApkVersion } from '../../../src/scanner/versions/apk.js';
import { compareRpm, rpmvercmp } from '../../../src/scanner/versions/rpm.js';
import { compareGo, compareNpm, parseGoVersion, toGoModuleVersion } from '../../../src/scanner/versions/semver.js';
import { comparePep440, normalizePep440 } from '../../../src/scanner/versions/pep440.js';

const sym = (r: number): string => (r < 0 ? '<' : r > 0 ? '>' : '=');

// Cases from dpkg's own suite: scripts/t/Dpkg_Version.t (__DATA__ table) and
// lib/dpkg/t/t-version.c, guillemj/dpkg (the dpkg git mirror).
const DPKG: [string, string, number][] = [
  ['1.0-1', '2.0-2', -1],
  ['2.2~rc-4', '2.2-1', -1],
  ['2.2-1', '2.2~rc-4', 1],
  ['1.0000-1', '1.0-1', 0],
  ['1', '0:1', 0],
  ['0', '0:0-0', 0],
  ['2:2.5', '1:7.5', 1],
  ['1:0foo', '0foo', 1],
  ['0:0foo', '0foo', 0],
  ['0foo', '0foo', 0],
  ['0foo-', '0foo', 0],
  ['0foo-', '0foo-0', 0],
  ['0foo', '0fo', 1],
  ['0foo-', '0foo+', -1],
  ['0foo~1', '0foo', -1],
  ['0foo~foo+Bar', '0foo~foo+bar', -1],
  ['0foo~~', '0foo~', -1],
  ['1~', '1', -1],
  ['12345+that-really-is-some-ver-0', '12345+that-really-is-some-ver-10', -1],
  ['0foo-0', '0foo-01', -1],
  ['0foo.bar', '0foobar', 1],
  ['0foo.bar', '0foo1bar', 1],
  ['0foo.bar', '0foo0bar', 1],
  ['0foo1bar-1', '0foobar-1', -1],
  ['0foo2.0', '0foo2', 1],
  ['0foo2.0.0', '0foo2.10.0', -1],
  ['0foo2.0', '0foo2.0.0', -1],
  ['0foo2.0', '0foo2.10', -1],
  ['0foo2.1', '0foo2.10', -1],
  ['1.09', '1.9', 0],
  ['1.0.8+nmu1', '1.0.8', 1],
  ['3.11', '3.10+nmu1', 1],
  ['0.9j-20080306-4', '0.9i-20070324-2', 1],
  ['1.2.0~b7-1', '1.2.0~b6-1', 1],
  ['1.011-1', '1.06-2', 1],
  ['0.0.9+dfsg1-1', '0.0.8+dfsg1-3', 1],
  ['4.6.99+svn6582-1', '4.6.99+svn6496-1', 1],
  ['53', '52', 1],
  ['0.9.9~pre122-1', '0.9.9~pre111-1', 1],
  ['2:2.3.2-2+lenny2', '2:2.3.2-2', 1],
  ['1:3.8.1-1', '3.8.GA-1', 1],
  ['1.0.1+gpl-1', '1.0.1-2', 1],
  ['1a', '1000a', -1],
  ['-0.6.5', '0.9.1', -1],
  // t-version.c: equal forms and component differences
  ['0-0', '00-0', 0],
  ['0:0-00', '0:00-0', 0],
  ['0:a-0', '0:b-0', -1],
  ['0:0-a', '0:0-b', -1],
  // Debian security-update shapes: a stable update (~deb12u1) sorts below the next unstable revision
  ['3.0.11-1~deb12u2', '3.0.11-1', -1],
  ['3.0.13-1~deb12u1', '3.0.11-1~deb12u2', 1],
  ['2.36-9+deb12u4', '2.36-9+deb12u10', -1],
  ['1:1.2.13.dfsg-1', '1.2.13.dfsg-1', 1],
];

describe('dpkg version comparison', () => {
  for (const [a, b, want] of DPKG) {
    it(`${a} ${sym(want)} ${b}`, () => {
      assert.equal(compareDpkg(a, b), want);
      assert.equal(compareDpkg(b, a), 0 - want);
    });
  }

  it('parses epoch, upstream and revision as dpkg splits them', () => {
    assert.deepEqual(parseDpkgVersion('0:0:0-0-0'), { epoch: 0, upstream: '0:0-0', revision: '0' });
    assert.deepEqual(parseDpkgVersion('  \t0:0-1  '), { epoch: 0, upstream: '0', revision: '1' });
    assert.deepEqual(parseDpkgVersion('5:1'), { epoch: 5, upstream: '1', revision: '' });
  });

  for (const bad of ['', '  ', '0:', 'a:0-0', 'A:0-0', '0:0 0-1', '-1:0-1', '999999999999999999999999:0-1']) {
    it(`refuses ${JSON.stringify(bad)} as dpkg does`, () => assert.equal(parseDpkgVersion(bad), undefined));
  }

  // The real dpkg is the oracle where it is installed (it is on Debian build machines).
  const dpkg = spawnSync('dpkg', ['--version']);
  it('agrees with `dpkg --compare-versions` on every case', { skip: dpkg.status !== 0 && 'dpkg is not installed' }, () => {
    // dpkg 1.21 refuses an empty upstream version or revision outright; Dpkg::Version (Perl) still compares them.
    const accepted = (v: string): boolean => !v.startsWith('-') && !v.endsWith('-');
    for (const [a, b, want] of DPKG.filter(([a, b]) => accepted(a) && accepted(b))) {
      const op = want < 0 ? 'lt' : want > 0 ? 'gt' : 'eq';
      const r = spawnSync('dpkg', ['--compare-versions', '--', a, op, b]);
      assert.equal(r.status, 0, `dpkg says not ${a} ${op} ${b}`);
    }
  });
});

// Cases from apk-tools test/unit/version.data (alpinelinux/apk-tools, HEAD of the snapshot taken
// 2026-11-25); the full file (785 cases) also passes, these are the tricky ones.
const APK: [string, '<' | '>' | '=', string][] = [
  ['2.34', '>', '0.1.0_alpha'],
  ['23_foo', '>', '4_beta'],
  ['1.0', '<', '1.0bc'],
  ['0.1.0_alpha2', '>', '0.1.0_alpha'],
  ['1.1', '>', '1.1_alpha1'],
  ['1.3_alpha', '<', '1.3_alpha2'],
  ['0.8_beta4', '<', '4.8-r1'],
  ['3.1_p16', '<', '3.1_p17'],
  ['1.06-r6', '<', '006'],
  ['006', '>', '1.0.0'],
  ['1.2.2-r1', '>', '1.2.2'],
  ['20050718-r2', '>', '3.9.8-r5'],
  ['2.01.01_alpha10', '>', '0.94'],
  ['0.99.3.20040818', '>', '0.7'],
  ['0.5.2.7', '<', '4.2.52_p2-r1'],
  ['3.0.20060720', '<', '20060720'],
  ['2.5.1-r8', '<', '2.5.1a-r1'],
  ['1.3.5-r10', '>', '1.3.5-r8'],
  ['20040401', '>', '2.0.0_rc3-r1'],
  ['3.0.0-r2', '<', '021109-r3'],
  ['0.9.16-r1', '<', '3.9_pre20060124'],
  ['0.10.0-r1', '>', '0.10.0'],
  ['0.10.0', '<', '0.10.1_rc1'],
  ['02.08.01b', '<', '4.77'],
  ['1.6d', '>', '1.2.07.8'],
  ['1.2.07.8', '<', '1.2.12.04'],
  ['0.1_pre20060810', '<', '0.1_pre20060817'],
  ['0.59s-r11', '<', '0.65'],
  ['0.20070118', '<', '0.20070207_rc1'],
  ['4.5_p1-r1', '>', '4.5_p1'],
  ['1.8.5', '<', '1.8.5_p2'],
  ['2.9.11_pre20051101-r3', '>', '2.9.11_pre20051101'],
  ['1.6.8_p12-r1', '>', '1.6.8_p9-r2'],
  ['0.9.28.1', '<', '087-r1'],
  ['2.12r-r4', '<', '2.12r-r5'],
  ['7.0.17', '<', '7.0.174'],
  ['1.3-r0', '<', '1.3.1-r0'],
  ['1.3_pre1-r1', '<', '1.3.2'],
  ['1.0_p10-r0', '>', '1.0_p9-r0'],
  ['0.1.0_alpha_pre2', '<', '0.1.0_alpha'],
  ['1.0.0_pre20191002222144-r0', '<', '1.0.0_pre20210530193627-r0'],
  ['1.0~1234', '<', '1.0~2345'],
  ['1.0~1234-r1', '<', '1.0~2345-r0'],
  ['1.0~1234-r1', '>', '1.0~1234-r0'],
  ['3.0.24', '=', '3.0.24'],
  // Alpine security fixes are usually a new -rN of the same upstream version
  ['3.1.4-r1', '<', '3.1.4-r2'],
  ['1.36.1-r20', '>', '1.36.1-r5'],
];

describe('apk version comparison', () => {
  for (const [a, op, b] of APK) {
    it(`${a} ${op} ${b}`, () => {
      assert.equal(sym(compareApk(a, b)), op);
      assert.equal(sym(compareApk(b, a)), op === '<' ? '>' : op === '>' ? '<' : '=');
    });
  }
  for (const good of ['1.2', '0.1_pre2', '0.1_pre2~1234abcd', '0.1_p1_pre2', '0.1_alpha1_pre2', '0.1_git20240101_pre1', '1.36.1-r20']) {
    it(`accepts ${good}`, () => assert.equal(isValidApkVersion(good), true));
  }
  for (const bad of ['', '0.1bc', '0.1a1', '0.1_pre2~', '0.1_foobar', '0.1-pre1.1', '0.1-r', '0.1-r2_pre1', '0.1-r2-r3', '.1', 'a', '-r1', '0.1_', '0.1__alpha']) {
    it(`refuses ${JSON.stringify(bad)}`, () => assert.equal(isValidApkVersion(bad), false));
  }
});

// rpm's tests/rpmvercmp.at (rpm-software-management/rpm).
const RPMVERCMP: [string, string, number][] = [
  ['1.0', '1.0', 0], ['1.0', '2.0', -1], ['2.0', '1.0', 1],
  ['2.0.1', '2.0.1', 0], ['2.0', '2.0.1', -1], ['2.0.1', '2.0', 1],
  ['2.0.1a', '2.0.1a', 0], ['2.0.1a', '2.0.1', 1], ['2.0.1', '2.0.1a', -1],
  ['5.5p1', '5.5p1', 0], ['5.5p1', '5.5p2', -1], ['5.5p2', '5.5p1', 1],
  ['5.5p10', '5.5p10', 0], ['5.5p1', '5.5p10', -1], ['5.5p10', '5.5p1', 1],
  ['10xyz', '10.1xyz', -1], ['10.1xyz', '10xyz', 1],
  ['xyz10', 'xyz10', 0], ['xyz10', 'xyz10.1', -1], ['xyz10.1', 'xyz10', 1],
  ['xyz.4', 'xyz.4', 0], ['xyz.4', '8', -1], ['8', 'xyz.4', 1], ['xyz.4', '2', -1], ['2', 'xyz.4', 1],
  ['5.5p2', '5.6p1', -1], ['5.6p1', '5.5p2', 1],
  ['5.6p1', '6.5p1', -1], ['6.5p1', '5.6p1', 1],
  ['6.0.rc1', '6.0', 1], ['6.0', '6.0.rc1', -1],
  ['10b2', '10a1', 1], ['10a2', '10b2', -1],
  ['1.0aa', '1.0aa', 0], ['1.0a', '1.0aa', -1], ['1.0aa', '1.0a', 1],
  ['10.0001', '10.0001', 0], ['10.0001', '10.1', 0], ['10.1', '10.0001', 0], ['10.0001', '10.0039', -1], ['10.0039', '10.0001', 1],
  ['4.999.9', '5.0', -1], ['5.0', '4.999.9', 1],
  ['20101121', '20101121', 0], ['20101121', '20101122', -1], ['20101122', '20101121', 1],
  ['2_0', '2_0', 0], ['2.0', '2_0', 0], ['2_0', '2.0', 0],
  ['a', 'a', 0], ['a+', 'a+', 0], ['a+', 'a_', 0], ['a_', 'a+', 0], ['+a', '+a', 0], ['+a', '_a', 0], ['_a', '+a', 0],
  ['+_', '+_', 0], ['_+', '+_', 0], ['_+', '_+', 0], ['+', '_', 0], ['_', '+', 0],
  ['1.0~rc1', '1.0~rc1', 0], ['1.0~rc1', '1.0', -1], ['1.0', '1.0~rc1', 1], ['1.0~rc1', '1.0~rc2', -1], ['1.0~rc2', '1.0~rc1', 1],
  ['1.0~rc1~git123', '1.0~rc1~git123', 0], ['1.0~rc1~git123', '1.0~rc1', -1], ['1.0~rc1', '1.0~rc1~git123', 1],
  // Caret (rpm >= 4.15): after the version, before any further segment. Checked against rpm 4.18 below.
  ['1.0^', '1.0', 1], ['1.0^git1', '1.0', 1], ['1.0^git1', '1.0^git2', -1], ['1.0^git1', '1.01', -1],
  ['1.0^20160101', '1.0.1', -1], ['1.0^20160102', '1.0^20160101^git1', 1], ['1.0~rc1^git1', '1.0~rc1', 1],
  ['1.0^git1', '1.0^git1~pre', 1],
];

describe('rpmvercmp', () => {
  for (const [a, b, want] of RPMVERCMP) {
    it(`rpmvercmp(${a}, ${b}) = ${want}`, () => assert.equal(rpmvercmp(a, b), want));
  }

  const evr: [string, string, number][] = [
    ['1:1.0-1', '2.0-1', 1], // the epoch outranks the version
    ['0:1.0-1', '1.0-1', 0], // a missing epoch is 0
    ['1.0-1.el9', '1.0-2.el9', -1],
    ['3.0.7-24.el9', '3.0.7-25.el9_3', -1],
    ['1:1.20.4-1.el9', '1:1.20.4-2.el9', -1],
    ['2.6', '2.6-1', 0], // no release on one side: versions alone decide
  ];
  for (const [a, b, want] of evr) {
    it(`EVR ${a} ${sym(want)} ${b}`, () => assert.equal(compareRpm(a, b), want));
  }

  // rpm itself as the oracle, where it is installed (`apt-get install rpm` on Debian).
  const rpm = spawnSync('rpm', ['--version']);
  it('agrees with rpm.vercmp on every case', { skip: rpm.status !== 0 && 'rpm is not installed' }, () => {
    const calls = RPMVERCMP.map(([a, b]) => `rpm.vercmp(${JSON.stringify(a)}, ${JSON.stringify(b)})`).join(', ');
    const r = spawnSync('rpm', ['--eval', `%{lua: print(table.concat({${calls}}, " "))}`], { encoding: 'utf8' });
    const got = r.stdout.trim().split(/\s+/).map(Number);
    assert.deepEqual(got, RPMVERCMP.map(([, , want]) => want));
  });
});

// golang.org/x/mod semver/semver_test.go: the table is in ascending order; equal canonical forms compare 0.
const GO: [string, string][] = [
  ['bad', ''], ['v1-alpha.beta.gamma', ''], ['v1-pre', ''], ['v1+meta', ''], ['v1-pre+meta', ''], ['v1.2-pre', ''], ['v1.2+meta', ''], ['v1.2-pre+meta', ''],
  ['v1.0.0-alpha', 'v1.0.0-alpha'], ['v1.0.0-alpha.1', 'v1.0.0-alpha.1'], ['v1.0.0-alpha.beta', 'v1.0.0-alpha.beta'], ['v1.0.0-beta', 'v1.0.0-beta'],
  ['v1.0.0-beta.2', 'v1.0.0-beta.2'], ['v1.0.0-beta.11', 'v1.0.0-beta.11'], ['v1.0.0-rc.1', 'v1.0.0-rc.1'],
  ['v1', 'v1.0.0'], ['v1.0', 'v1.0.0'], ['v1.0.0', 'v1.0.0'], ['v1.2', 'v1.2.0'], ['v1.2.0', 'v1.2.0'],
  ['v1.2.3-456', 'v1.2.3-456'], ['v1.2.3-456.789', 'v1.2.3-456.789'], ['v1.2.3-456-789', 'v1.2.3-456-789'], ['v1.2.3-456a', 'v1.2.3-456a'],
  ['v1.2.3-pre', 'v1.2.3-pre'], ['v1.2.3-pre+meta', 'v1.2.3-pre'], ['v1.2.3-pre.1', 'v1.2.3-pre.1'], ['v1.2.3-zzz', 'v1.2.3-zzz'],
  ['v1.2.3', 'v1.2.3'], ['v1.2.3+meta', 'v1.2.3'], ['v1.2.3+meta-pre', 'v1.2.3'], ['v1.2.3+meta-pre.sha.256a', 'v1.2.3'],
];

describe('Go module versions', () => {
  it('orders the x/mod/semver table exactly as semver.Compare does', () => {
    for (let i = 0; i < GO.length; i++) {
      for (let j = 0; j < GO.length; j++) {
        const [vi, ci] = GO[i]!;
        const [vj, cj] = GO[j]!;
        const want = ci === cj ? 0 : i < j ? -1 : 1;
        assert.equal(compareGo(vi, vj), want, `Compare(${vi}, ${vj})`);
      }
    }
    assert.equal(compareGo('v1.19', 'v1.2'), 1);
  });
  it('validity matches IsValid', () => {
    for (const [v, canon] of GO) assert.equal(parseGoVersion(v) !== undefined, canon !== '', v);
    assert.equal(parseGoVersion('v1.2.3-01'), undefined); // leading zero in a numeric prerelease identifier
    assert.equal(parseGoVersion('v01.2.3'), undefined);
  });
  const ordered = [
    'v0.0.0-20191109021931-daa7c04131f5', // pseudo-version without a base release
    'v0.0.0-20220906165146-f3363e06e74c',
    'v0.1.0',
    'v1.2.3',
    'v1.2.4-0.20191109021931-daa7c04131f5', // pseudo-version after v1.2.3
    'v1.2.4',
    'v2.0.0+incompatible',
    'v2.0.1+incompatible',
  ];
  it('orders pseudo-versions and +incompatible', () => {
    for (let i = 0; i + 1 < ordered.length; i++) assert.equal(compareGo(ordered[i]!, ordered[i + 1]!), -1, `${ordered[i]} < ${ordered[i + 1]}`);
  });
  for (const [toolchain, module] of [['go1.19.8', 'v1.19.8'], ['go1.19', 'v1.19.0'], ['go1.21rc2', 'v1.21.0-rc.2'], ['go1.9beta1', 'v1.9.0-beta.1'], ['1.18.6', 'v1.18.6'], ['v0.3.0', 'v0.3.0']]) {
    it(`${toolchain} is ${module} for matching`, () => assert.equal(toGoModuleVersion(toolchain!), module));
  }
});

describe('npm versions', () => {
  // SemVer 2.0.0 section 11 example ordering.
  const ordered = ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '1.2.0', '1.2.6', '1.10.0', '2.0.0'];
  for (let i = 0; i + 1 < ordered.length; i++) {
    it(`${ordered[i]} < ${ordered[i + 1]}`, () => {
      assert.equal(compareNpm(ordered[i]!, ordered[i + 1]!), -1);
      assert.equal(compareNpm(ordered[i + 1]!, ordered[i]!), 1);
    });
  }
  it('ignores build metadata and accepts the prefixes npm cleans', () => {
    assert.equal(compareNpm('1.2.3+build.1', '1.2.3+build.2'), 0);
    assert.equal(compareNpm('v1.2.3', '=1.2.3'), 0);
    assert.equal(compareNpm(' 1.2.3 ', '1.2.3'), 0);
  });
  for (const bad of ['1.2', '01.2.3', '1.2.3-01', 'latest', '1.2.3.4']) {
    it(`refuses ${bad}`, () => assert.throws(() => compareNpm(bad, '1.0.0'), /invalid npm version/));
  }
});

// pypa/packaging tests/test_version.py: VERSIONS is in ascending order.
const PEP440_ORDER = [
  '1.0.dev456', '1.0a1', '1.0a2.dev456', '1.0a12.dev456', '1.0a12', '1.0b1.dev456', '1.0b2', '1.0b2.post345.dev456', '1.0b2.post345', '1.0b2-346',
  '1.0c1.dev456', '1.0c1', '1.0rc2', '1.0c3', '1.0', '1.0.post456.dev34', '1.0.post456', '1.1.dev1',
  '1.2+123abc', '1.2+123abc456', '1.2+abc', '1.2+abc123', '1.2+abc123def', '1.2+1234.abc', '1.2+123456', '1.2.r32+123456', '1.2.rev33+123456',
  '1!1.0.dev456', '1!1.0a1', '1!1.0a2.dev456', '1!1.0a12.dev456', '1!1.0a12', '1!1.0b1.dev456', '1!1.0b2', '1!1.0b2.post345.dev456', '1!1.0b2.post345', '1!1.0b2-346',
  '1!1.0c1.dev456', '1!1.0c1', '1!1.0rc2', '1!1.0c3', '1!1.0', '1!1.0.post456.dev34', '1!1.0.post456', '1!1.1.dev1',
  '1!1.2+123abc', '1!1.2+123abc456', '1!1.2+abc', '1!1.2+abc123', '1!1.2+abc123def', '1!1.2+1234.abc', '1!1.2+123456', '1!1.2.r32+123456', '1!1.2.rev33+123456',
];
// The newer table in the same file adds the edges around 0-numbered pre/post/dev releases and locals.
const PEP440_ORDER_2 = [
  '1.0.dev0', '1.0.dev456', '1.0.dev456+local', '1.0a0', '1.0a0.post0.dev0', '1.0a0.post0', '1.0a1.dev1', '1.0a1.dev1+local', '1.0a1', '1.0a1+local',
  '1.0b0', '1.0b1.dev456', '1.0b2', '1.0b2.post345.dev456', '1.0b2.post345', '1.0b2-346', '1.0rc0', '1.0rc1.dev1', '1.0c1', '1.0rc2', '1.0',
  '1.0.post0.dev0', '1.0.post0', '1.0.post456.dev34', '1.0.post456', '1.0.post456+local', '1.0.1.dev1', '1.0.1a1', '1.0.1', '1.0.1+local', '1.0.1.post1',
  '1.1.dev1', '1.2+a', '1.2+abc', '1.2+abcdef', '1.2+def', '1.2+0', '1.2+1', '1.2+1.abc', '1.2+1.1', '1.2+1.1.0', '1.2+2', '1.2+123', '1.2+123456',
];

describe('PEP 440 versions', () => {
  for (const [name, list] of [['VERSIONS', PEP440_ORDER], ['newer table', PEP440_ORDER_2]] as const) {
    it(`orders packaging's ${name} (every pair)`, () => {
      for (let i = 0; i < list.length; i++) {
        for (let j = 0; j < list.length; j++) {
          assert.equal(comparePep440(list[i]!, list[j]!), Math.sign(i - j), `${list[i]} vs ${list[j]}`);
        }
      }
    });
  }
  const normal: [string, string][] = [
    ['1.0-1', '1.0.post1'], ['1.0ALPHA', '1.0a0'], ['1.0.beta.2', '1.0b2'], ['1.0c1', '1.0rc1'], ['1.0-preview-3', '1.0rc3'],
    ['1.0.rev4', '1.0.post4'], ['1.0-r', '1.0.post0'], ['1.0-dev', '1.0.dev0'], ['v1.0', '1.0'], ['  1.0\n', '1.0'],
    ['1.0+Ubuntu-1', '1.0+ubuntu.1'], ['1.0+local_version', '1.0+local.version'], ['01!0010.0020', '1!10.20'],
  ];
  for (const [input, want] of normal) it(`normalises ${JSON.stringify(input)} to ${want}`, () => assert.equal(normalizePep440(input), want));
  it('treats trailing zeros and equal normal forms as equal', () => {
    assert.equal(comparePep440('1.0', '1.0.0'), 0);
    assert.equal(comparePep440('1.0a1', '1.0.alpha.1'), 0);
    assert.equal(comparePep440('5.3.1', '5.4'), -1);
    assert.equal(comparePep440('6.0', '5.4'), 1);
  });
  // pypa/packaging itself as the oracle where Python has it (Debian ships python3-packaging).
  const py = spawnSync('python3', ['-c', 'import packaging.version']);
  it('agrees with packaging.version.Version on order and normal form', { skip: py.status !== 0 && 'python3 packaging is not installed' }, () => {
    const inputs = [...PEP440_ORDER_2, ...normal.map(([i]) => i)];
    const code = 'import json,sys\nfrom packaging.version import Version\nvs=json.load(sys.stdin)\n' +
      'print(json.dumps({"norm":[str(Version(v)) for v in vs],"order":[[(Version(a)>Version(b))-(Version(a)<Version(b)) for b in vs] for a in vs]}))';
    const r = spawnSync('python3', ['-c', code], { input: JSON.stringify(inputs), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const oracle = JSON.parse(r.stdout) as { norm: string[]; order: number[][] };
    assert.deepEqual(inputs.map((v) => normalizePep440(v)), oracle.norm);
    assert.deepEqual(inputs.map((a) => inputs.map((b) => comparePep440(a, b))), oracle.order);
  });
  for (const bad of ['french toast', '1.0+', '1.0+_foo', '1.0..0', '1.0-beta-foo', '1.0-']) {
    it(`refuses ${JSON.stringify(bad)}`, () => assert.equal(normalizePep440(bad), undefined));
  }
});
