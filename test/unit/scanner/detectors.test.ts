import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseOsRelease } from '../../../src/scanner/detectors/os-release.js';
import { parseDpkgStatus } from '../../../src/scanner/detectors/dpkg.js';
import { parseApkInstalled } from '../../../src/scanner/detectors/apk.js';
import { isNodeModulesManifest, parseNpmPackageJson } from '../../../src/scanner/detectors/npm.js';
import { normalizePythonName, parsePythonMetadata } from '../../../src/scanner/detectors/python.js';
import { parseGoBuildInfo } from '../../../src/scanner/detectors/go-buildinfo.js';
import { parseRpmdbSqlite, parseRpmHeader, rpmEvr, RpmdbError, sourceRpmName } from '../../../src/scanner/detectors/rpm.js';
import { buildRealRpmdb, type RealRpmdb } from '../../support/rpmdb.js';
import Database from 'better-sqlite3';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'scanner');
const fixture = (name: string): Buffer => readFileSync(path.join(fixtures, name));

describe('os-release', () => {
  it('reads Debian 12 from a real /etc/os-release', () => {
    const os = parseOsRelease(fixture('os-release-debian-12'));
    assert.equal(os?.id, 'debian');
    assert.equal(os?.versionId, '12');
    assert.equal(os?.versionCodename, 'bookworm');
    assert.equal(os?.prettyName, 'Debian GNU/Linux 12 (bookworm)');
  });
  it('handles unquoted, single-quoted and escaped values (os-release(5))', () => {
    const os = parseOsRelease('NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.19.1\nID_LIKE=\'rhel fedora\'\n# comment\nX="a \\"b\\""\n');
    assert.equal(os?.id, 'alpine');
    assert.equal(os?.versionId, '3.19.1');
    assert.deepEqual(os?.idLike, ['rhel', 'fedora']);
    assert.equal(os?.fields.X, 'a "b"');
  });
  it('answers undefined without an ID', () => assert.equal(parseOsRelease('NAME=x\n'), undefined));
});

describe('dpkg status', () => {
  const real = fixture('dpkg-status'); // excerpt of this Debian 12 machine's /var/lib/dpkg/status
  it('lists installed packages with their source package', () => {
    const pkgs = parseDpkgStatus(real);
    const by = new Map(pkgs.map((p) => [p.name, p]));
    assert.equal(pkgs.length, 6);
    // "Source: bash (5.2.15-2)": a binNMU, the source version differs from the binary's
    assert.deepEqual(by.get('bash'), { type: 'deb', name: 'bash', version: '5.2.15-2+b8', arch: 'amd64', sourceName: 'bash', sourceVersion: '5.2.15-2' });
    // "Source: glibc": advisories name glibc, not libc6
    assert.equal(by.get('libc6')?.sourceName, 'glibc');
    assert.equal(by.get('libc6')?.sourceVersion, '2.36-9+deb12u14');
    assert.equal(by.get('libssl3')?.sourceName, 'openssl');
    // no Source field: the source package is the package itself
    assert.equal(by.get('openssl')?.sourceName, 'openssl');
    assert.equal(by.get('zlib1g')?.version, '1:1.2.13.dfsg-1');
  });
  it('skips packages that are not "install ok installed"', () => {
    // The same real paragraphs with dpkg's states for a removed and a half-installed package.
    const state: Record<string, string> = { bash: 'deinstall ok config-files', openssl: 'install reinstreq half-installed' };
    const text = real.toString('utf8').split('\n\n').map((p) => {
      const name = /^Package: (\S+)$/m.exec(p)?.[1] ?? '';
      return state[name] ? p.replace(/^Status: .*$/m, `Status: ${state[name]}`) : p;
    }).join('\n\n');
    const names = parseDpkgStatus(text).map((p) => p.name);
    assert.deepEqual(names.sort(), ['base-files', 'libc6', 'libssl3', 'zlib1g']);
  });
  it('reads status.d entries, which have no Status field (distroless)', () => {
    const entry = real.toString('utf8').split('\n\n').find((p) => p.startsWith('Package: libssl3'))!.replace(/^Status: .*\n/m, '');
    assert.equal(parseDpkgStatus(entry).length, 0, 'without Status a status file entry is not installed');
    assert.deepEqual(parseDpkgStatus(entry, { statusD: true }).map((p) => [p.name, p.version, p.sourceName]), [['libssl3', '3.0.19-1~deb12u2', 'openssl']]);
  });
  it('keeps continuation lines inside their field', () => {
    const pkgs = parseDpkgStatus(real);
    assert.ok(pkgs.every((p) => !p.version.includes('\n')));
  });
});

describe('apk installed database', () => {
  it('reads P:/V: records (apk-tools test/solver/basic.installed)', () => {
    assert.deepEqual(parseApkInstalled(fixture('apk-tools-solver-basic.installed')).map((p) => [p.name, p.version, p.sourceName]), [['a', '1', 'a'], ['b', '1', 'b']]);
  });
  it('uses o: as the source package and A: as the arch', () => {
    const db = 'C:Q1abc=\nP:libcrypto3\nV:3.1.4-r5\nA:x86_64\no:openssl\n\nP:musl\nV:1.2.4_git20230717-r4\nA:x86_64\n';
    assert.deepEqual(parseApkInstalled(db), [
      { type: 'apk', name: 'libcrypto3', version: '3.1.4-r5', arch: 'x86_64', sourceName: 'openssl', sourceVersion: '3.1.4-r5' },
      { type: 'apk', name: 'musl', version: '1.2.4_git20230717-r4', arch: 'x86_64', sourceName: 'musl', sourceVersion: '1.2.4_git20230717-r4' },
    ]);
  });
});

describe('npm package.json', () => {
  it('reads name and version from a real node_modules manifest', () => {
    assert.deepEqual(parseNpmPackageJson(fixture('minimist-1.2.8.package.json')), { type: 'npm', name: 'minimist', version: '1.2.8' });
  });
  for (const bad of ['', '{', '[]', '{"name":"x"}', '{"version":"1.0.0"}', '{"name":1,"version":"1"}']) {
    it(`ignores ${JSON.stringify(bad)}`, () => assert.equal(parseNpmPackageJson(bad), undefined));
  }
  for (const [p, want] of [
    ['usr/lib/node_modules/npm/node_modules/minimist/package.json', true],
    ['app/node_modules/@babel/core/package.json', true],
    ['app/node_modules/minimist/test/fixtures/package.json', false],
    ['app/package.json', false],
    ['app/node_modules/@scope/package.json', false],
  ] as const) {
    it(`${p} ${want ? 'is' : 'is not'} an installed package manifest`, () => assert.equal(isNodeModulesManifest(p), want));
  }
});

describe('Python dist-info METADATA', () => {
  it('reads Name and Version from a real METADATA', () => {
    assert.deepEqual(parsePythonMetadata(fixture('pyyaml-6.0.METADATA')), { type: 'pypi', name: 'PyYAML', version: '6.0' });
  });
  it('stops at the body, which may contain header-like lines', () => {
    assert.deepEqual(parsePythonMetadata('Metadata-Version: 2.1\nName: a\nVersion: 1\n\nName: b\n'), { type: 'pypi', name: 'a', version: '1' });
  });
  for (const [n, want] of [['PyYAML', 'pyyaml'], ['zope.interface', 'zope-interface'], ['Jinja2', 'jinja2'], ['a__b-.c', 'a-b-c']]) {
    it(`normalises ${n} to ${want}`, () => assert.equal(normalizePythonName(n!), want));
  }
});

describe('Go build info', () => {
  // Real Go binaries on Debian machines: skopeo is built by Debian with Go 1.19 (inline format,
  // no module list); the others carry module lists. `go version -m` is the oracle where Go exists.
  const candidates = ['/usr/bin/skopeo', '/usr/bin/kpt', '/usr/bin/cbt', '/usr/local/bin/terraform'].filter((f) => existsSync(f));
  const go = spawnSync('go', ['version']);
  it('finds a real Go binary to read', { skip: candidates.length === 0 && 'no Go binary on this machine' }, () => {
    const info = parseGoBuildInfo(readFileSync(candidates[0]!));
    assert.match(info?.goVersion ?? '', /^go1\.\d+/);
  });
  for (const file of candidates) {
    it(`agrees with \`go version -m ${file}\``, { skip: go.status !== 0 && 'go is not installed' }, () => {
      const info = parseGoBuildInfo(readFileSync(file));
      assert.ok(info, 'no build info found');
      const out = spawnSync('go', ['version', '-m', file], { encoding: 'utf8' }).stdout;
      const lines = out.split('\n');
      assert.equal(info.goVersion, lines[0]!.slice(lines[0]!.indexOf(': ') + 2).split(' ')[0]);
      const rows = lines.slice(1).map((l) => l.split('\t').slice(1));
      assert.equal(info.path, rows.find((r) => r[0] === 'path')?.[1]);
      const main = rows.find((r) => r[0] === 'mod');
      assert.deepEqual(info.main ? [info.main.path, info.main.version] : undefined, main ? [main[1], main[2]] : undefined);
      const deps = rows.filter((r) => r[0] === 'dep').map((r) => `${r[1]}@${r[2]}`);
      assert.deepEqual(info.deps.map((d) => `${d.path}@${d.version}`), deps);
      const replaced = rows.filter((r) => r[0] === '=>').length;
      assert.equal(info.deps.filter((d) => d.replace).length, replaced);
    });
  }
  it('is undefined for a non-Go file', () => {
    assert.equal(parseGoBuildInfo(fixture('dpkg-status')), undefined);
    assert.equal(parseGoBuildInfo(Buffer.concat([Buffer.from('\xff Go buildinf:', 'latin1'), Buffer.alloc(3)])), undefined);
  });

  it('reads the pre-1.18 pointer format through the ELF program headers', () => {
    // No binary built with Go < 1.18 is available here, so this builds the smallest ELF64 that
    // has the layout Go 1.13-1.17 wrote: header at a 16-aligned offset, flags 0 (little endian,
    // not inline), then two pointers to Go string headers {data, len} in a PT_LOAD segment.
    const base = 0x400000n;
    const seg = 0x1000;
    const buf = Buffer.alloc(0x1200);
    buf.writeUInt32BE(0x7f454c46, 0);
    buf[4] = 2; // ELFCLASS64
    buf[5] = 1; // little endian
    buf.writeBigUInt64LE(64n, 0x20); // e_phoff
    buf.writeUInt16LE(56, 0x36); // e_phentsize
    buf.writeUInt16LE(1, 0x38); // e_phnum
    buf.writeUInt32LE(1, 64); // PT_LOAD
    buf.writeBigUInt64LE(BigInt(seg), 64 + 8); // p_offset
    buf.writeBigUInt64LE(base, 64 + 16); // p_vaddr
    buf.writeBigUInt64LE(0x200n, 64 + 32); // p_filesz
    const vaddr = (off: number): bigint => base + BigInt(off - seg);
    Buffer.from('\xff Go buildinf:', 'latin1').copy(buf, seg);
    buf[seg + 14] = 8;
    buf[seg + 15] = 0;
    const vers = 'go1.16.15';
    const sentinel = '0123456789abcdef';
    const mod = `${sentinel}path\texample.com/cmd\nmod\texample.com\tv1.0.0\th1:x=\ndep\tgolang.org/x/net\tv0.0.0-20210226172049-e18ecbb05110\th1:y=\n=>\tgolang.org/x/net\tv0.7.0\th1:z=\n\n${sentinel}`;
    const hdrV = seg + 0x40;
    const hdrM = seg + 0x50;
    buf.writeBigUInt64LE(vaddr(hdrV), seg + 16);
    buf.writeBigUInt64LE(vaddr(hdrM), seg + 24);
    buf.writeBigUInt64LE(vaddr(seg + 0x60), hdrV);
    buf.writeBigUInt64LE(BigInt(vers.length), hdrV + 8);
    buf.write(vers, seg + 0x60, 'latin1');
    buf.writeBigUInt64LE(vaddr(seg + 0x80), hdrM);
    buf.writeBigUInt64LE(BigInt(mod.length), hdrM + 8);
    buf.write(mod, seg + 0x80, 'latin1');
    const info = parseGoBuildInfo(buf);
    assert.equal(info?.goVersion, 'go1.16.15');
    assert.equal(info?.path, 'example.com/cmd');
    assert.deepEqual(info?.main, { path: 'example.com', version: 'v1.0.0', sum: 'h1:x=' });
    assert.deepEqual(info?.deps, [{ path: 'golang.org/x/net', version: 'v0.0.0-20210226172049-e18ecbb05110', sum: 'h1:y=', replace: { path: 'golang.org/x/net', version: 'v0.7.0', sum: 'h1:z=' } }]);
  });
});

describe('rpmdb.sqlite', () => {
  const real = buildRealRpmdb();
  const skip = typeof real === 'string' && `cannot build a real rpmdb.sqlite here: ${real}`;
  const db = (): RealRpmdb => real as RealRpmdb;
  const realBlob = (name: string): Buffer => {
    const copy = Buffer.from(db().sqlite);
    copy[18] = 1; // WAL → legacy journal, so SQLite opens it from memory
    copy[19] = 1;
    const sqlite = new Database(copy, { readonly: true });
    try {
      const rows = sqlite.prepare('SELECT blob FROM Packages').all() as { blob: Buffer }[];
      const hit = rows.find((r) => parseRpmHeader(r.blob).name === name);
      assert.ok(hit, `no ${name} in the real database`);
      return hit.blob;
    } finally {
      sqlite.close();
    }
  };
  /** An SQLite file with rpm's Packages table holding the given blobs. */
  const rpmdbWith = (...blobs: Buffer[]): Buffer => {
    const sqlite = new Database(':memory:');
    sqlite.exec("CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)");
    for (const b of blobs) sqlite.prepare('INSERT INTO Packages (blob) VALUES (?)').run(b);
    const out = sqlite.serialize();
    sqlite.close();
    return out;
  };

  it('reads the packages rpm itself installed, as `rpm -qa` reports them', { skip }, () => {
    const pkgs = parseRpmdbSqlite(db().sqlite);
    // rpm -qa lists the real signing key too; the detector skips it.
    assert.ok(db().oracle.some((l) => l.startsWith('gpg-pubkey ')), `the oracle lists a gpg-pubkey: ${db().oracle.join(' | ')}`);
    assert.deepEqual(db().oracle.filter((l) => !l.startsWith('gpg-pubkey ')), [
      'wharf-probe 2:1.2.3-4.fc39 noarch wharf-probe-1.2.3-4.fc39.src.rpm',
      'wharf-probe-libs 2:1.2.3-4.fc39 noarch wharf-probe-1.2.3-4.fc39.src.rpm',
    ]);
    assert.deepEqual(
      pkgs.sort((a, b) => a.name.localeCompare(b.name)),
      [
        { type: 'rpm', name: 'wharf-probe', version: '2:1.2.3-4.fc39', sourceName: 'wharf-probe', arch: 'noarch' },
        { type: 'rpm', name: 'wharf-probe-libs', version: '2:1.2.3-4.fc39', sourceName: 'wharf-probe', arch: 'noarch' },
      ],
    );
    // Independently of the expected values: every non-key line of rpm -qa, field by field.
    const oracle = db().oracle.filter((l) => !l.startsWith('gpg-pubkey ')).map((l) => {
      const [name, evr, arch, srpm] = l.split(' ');
      return `${name} ${evr!.replace(/^\(none\):/, '')} ${arch} ${srpm!.replace(/-[^-]+-[^-]+\.src\.rpm$/, '')}`;
    });
    assert.deepEqual(pkgs.map((p) => `${p.name} ${p.version} ${p.arch} ${p.sourceName}`).sort(), oracle);
  });
  it('leaves the caller’s buffer as it was (the WAL marks are patched on a copy)', { skip }, () => {
    const before = Buffer.from(db().sqlite);
    parseRpmdbSqlite(db().sqlite);
    assert.ok(db().sqlite.equals(before));
  });
  it('reads a real header blob: epoch, arch and SOURCERPM', { skip }, () => {
    assert.deepEqual(parseRpmHeader(realBlob('wharf-probe-libs')), {
      name: 'wharf-probe-libs', version: '1.2.3', release: '4.fc39', epoch: 2, arch: 'noarch', sourceRpm: 'wharf-probe-1.2.3-4.fc39.src.rpm',
    });
  });
  it('rejects truncated and corrupted real header blobs with a reason', { skip }, () => {
    const blob = realBlob('wharf-probe');
    for (const n of [0, 7, 8, 100, blob.length - 1]) {
      assert.throws(() => parseRpmHeader(blob.subarray(0, n)), RpmdbError, `truncated to ${n} bytes`);
    }
    const huge = Buffer.from(blob);
    huge.writeUInt32BE(0x7fffffff, 0); // index entry count
    assert.throws(() => parseRpmHeader(huge), /index entries/);
    const long = Buffer.from(blob);
    long.writeUInt32BE(0xfffffff0, 4); // data store length
    assert.throws(() => parseRpmHeader(long), /data store/);
    // Point every entry's offset past the data store.
    const far = Buffer.from(blob);
    const il = far.readUInt32BE(0);
    for (let i = 0; i < il; i++) far.writeUInt32BE(0x7ffffff0, 8 + i * 16 + 8);
    assert.throws(() => parseRpmHeader(far), /outside the \d+-byte data store/);
    // A database whose only package is the corrupted header fails naming the package.
    assert.throws(() => parseRpmdbSqlite(rpmdbWith(blob.subarray(0, 100))), (e: Error) => e instanceof RpmdbError && /^package 1: /.test(e.message));
  });
  it('rejects hand-made malformed headers without reading out of bounds', () => {
    const header = (entries: [number, number, number, number][], data: Buffer): Buffer => {
      const b = Buffer.alloc(8 + entries.length * 16);
      b.writeUInt32BE(entries.length, 0);
      b.writeUInt32BE(data.length, 4);
      entries.forEach((e, i) => e.forEach((v, j) => b.writeUInt32BE(v, 8 + i * 16 + j * 4)));
      return Buffer.concat([b, data]);
    };
    const data = Buffer.from('pkg\x001.0\x001\x00');
    const ok = header([[1000, 6, 0, 1], [1001, 6, 4, 1], [1002, 6, 8, 1]], data);
    assert.deepEqual(parseRpmHeader(ok), { name: 'pkg', version: '1.0', release: '1' });
    assert.throws(() => parseRpmHeader(header([[1000, 6, 0, 1], [1001, 6, 4, 1], [1002, 6, 8, 1]], Buffer.from('pkg\x001.0\x001'))), /no terminating NUL/);
    assert.throws(() => parseRpmHeader(header([[1000, 6, 0, 1], [1001, 6, 4, 1], [1002, 6, 8, 1], [1003, 4, 9, 1]], data)), /EPOCH at offset 9/);
    assert.throws(() => parseRpmHeader(header([[1000, 6, 0, 1], [1001, 6, 4, 1], [1002, 6, 8, 1], [1003, 6, 0, 1]], data)), /EPOCH has type 6/);
    assert.throws(() => parseRpmHeader(header([[1000, 4, 0, 1]], data)), /tag 1000 has type 4/);
    assert.throws(() => parseRpmHeader(header([[1001, 6, 4, 1], [1002, 6, 8, 1]], data)), /no NAME/);
    assert.throws(() => parseRpmHeader(header([[1000, 6, 0, 1], [1001, 6, 4, 1]], data)), /no RELEASE/);
    assert.throws(() => parseRpmHeader(Buffer.alloc(8)), /0 index entries/);
    // Through the database: a blob that is not a BLOB, a corrupt file, a file that is not SQLite.
    assert.deepEqual(parseRpmdbSqlite(rpmdbWith(ok)), [{ type: 'rpm', name: 'pkg', version: '1.0-1', sourceName: 'pkg' }]);
    assert.throws(() => parseRpmdbSqlite(Buffer.from('not a database at all')), /not an SQLite database/);
    const file = rpmdbWith(ok);
    assert.throws(() => parseRpmdbSqlite(Buffer.concat([file.subarray(0, 100), Buffer.alloc(file.length - 100, 0xff)])), RpmdbError);
  });
  it('reads only a real Packages table (a view could cost anything)', () => {
    const sqlite = new Database(':memory:');
    sqlite.exec("CREATE VIEW Packages AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT i AS hnum, zeroblob(1000000) AS blob FROM n");
    const file = sqlite.serialize();
    sqlite.close();
    assert.throws(() => parseRpmdbSqlite(file), /no Packages table/);
  });
  it('names the source package from SOURCERPM', () => {
    assert.equal(sourceRpmName('openssl-3.0.7-27.el9.src.rpm'), 'openssl');
    assert.equal(sourceRpmName('python3.11-3.11.5-1.el9_3.src.rpm'), 'python3.11');
    assert.equal(sourceRpmName('glibc-2.34-100.el9_4.2.nosrc.rpm'), 'glibc');
    assert.equal(sourceRpmName('garbage'), undefined);
    assert.equal(rpmEvr({ version: '1.0', release: '1' }), '1.0-1');
    assert.equal(rpmEvr({ epoch: 1, version: '3.0.7', release: '27.el9' }), '1:3.0.7-27.el9');
  });
});
