import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyzeImage } from '../../src/scanner/analyze.js';
import { findVulnerabilities, fixCommand, type AdvisoryLookup } from '../../src/scanner/findings.js';
import { cycloneDx, packageUrl } from '../../src/scanner/sbom.js';
import { parseOsvRecord, type OsvRecord } from '../../src/scanner/osv/schema.js';
import { ScanError } from '../../src/scanner/errors.js';
import { buildRealRpmdb } from '../support/rpmdb.js';
import { gzip, layerOf, MT, tarOf, whiteout, zstd, type TarItem } from '../support/scanner-layers.js';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const fx = (name: string): { file: string } => ({ file: path.join(root, 'scanner', name) });
const GO_BINARY = '/usr/bin/skopeo';

/** The real OSV fixtures as the vulnerability database would serve them. */
function fixtureLookup(): AdvisoryLookup & { calls: string[] } {
  const records: OsvRecord[] = ['GHSA-vh95-rmgr-6w4m', 'GHSA-xvch-5gv4-984h', 'GHSA-8q59-q68h-6hv4', 'GHSA-h5c8-rqwp-cp95', 'GO-2022-0969'].map((id) =>
    parseOsvRecord(JSON.parse(readFileSync(path.join(root, 'osv', `${id}.json`), 'utf8'))),
  );
  const calls: string[] = [];
  const fn = async (ecosystem: string, name: string): Promise<OsvRecord[]> => {
    calls.push(`${ecosystem}/${name}`);
    return records.filter((r) => r.affected.some((a) => a.package?.ecosystem === ecosystem && a.package.name.toLowerCase() === name.toLowerCase()));
  };
  return Object.assign(fn, { calls });
}

const minimist = (version: string): Buffer => {
  const doc = JSON.parse(readFileSync(path.join(root, 'scanner', 'minimist-1.2.8.package.json'), 'utf8'));
  return Buffer.from(JSON.stringify({ ...doc, version })); // the real manifest at an older release
};
const pyyaml = (version: string): Buffer => Buffer.from(readFileSync(path.join(root, 'scanner', 'pyyaml-6.0.METADATA'), 'utf8').replace(/^Version: .*$/m, `Version: ${version}`));

describe('analyzeImage', () => {
  it('reports OS, packages with their files, Go binaries and configuration issues of a layered image', async () => {
    const base = await tarOf([
      { name: 'etc/os-release', content: fx('os-release-debian-12') },
      { name: 'var/lib/dpkg/status', content: fx('dpkg-status') },
      { name: 'etc/login.defs', content: fx('login.defs-debian-12') },
      ...(existsSync(GO_BINARY) ? [{ name: 'usr/local/bin/skopeo', content: { file: GO_BINARY }, mode: 0o755 }] : []),
    ]);
    const app = await tarOf([
      { name: 'app/node_modules/minimist/package.json', content: minimist('1.2.0') },
      { name: 'app/node_modules/mkdirp/node_modules/minimist/package.json', content: minimist('1.2.0') },
      { name: 'usr/local/lib/python3.11/dist-packages/PyYAML-5.3.1.dist-info/METADATA', content: pyyaml('5.3.1') },
      { name: 'usr/local/lib/python3.11/dist-packages/removed-1.0.dist-info/METADATA', content: pyyaml('1.0') },
    ]);
    const cleanup = await tarOf([whiteout('usr/local/lib/python3.11/dist-packages/removed-1.0.dist-info')]);
    const config = {
      config: { Env: ['PATH=/usr/bin', 'DB_PASSWORD=hunter2'], ExposedPorts: { '8080/tcp': {} } },
      history: [{ created_by: 'ADD https://example.com/app.tgz /app # buildkit' }],
    };
    const a = await analyzeImage({ layers: [layerOf(gzip(base), MT.gzip), layerOf(zstd(app), MT.zstd), layerOf(cleanup, MT.tar)], config });
    assert.equal(a.os?.id, 'debian');
    assert.equal(a.os?.versionId, '12');
    assert.equal(a.stats.layers, 3);
    assert.ok(a.stats.bytesRead > 0 && a.stats.entries >= 8);
    const names = a.packages.map((p) => `${p.type}:${p.name}@${p.version} ${p.location}`);
    assert.ok(names.includes('deb:libssl3@3.0.19-1~deb12u2 /var/lib/dpkg/status'));
    assert.ok(names.includes('npm:minimist@1.2.0 /app/node_modules/mkdirp/node_modules/minimist/package.json'));
    assert.ok(names.includes('pypi:PyYAML@5.3.1 /usr/local/lib/python3.11/dist-packages/PyYAML-5.3.1.dist-info/METADATA'));
    assert.ok(!names.some((n) => n.includes('removed-1.0')), 'a whited-out package is not reported');
    if (existsSync(GO_BINARY)) {
      assert.equal(a.goBinaries[0]?.path, '/usr/local/bin/skopeo');
      assert.ok(a.packages.some((p) => p.type === 'go' && p.name === 'stdlib' && p.location === '/usr/local/bin/skopeo'));
    }
    assert.deepEqual(a.configIssues.map((c) => c.checkId).sort(), [
      'build.add-from-url',
      'image.runs-as-root',
      'image.secret-in-env',
      'os.login-defs.pass-max-days',
      'os.login-defs.pass-min-days',
      'os.login-defs.pass-min-len',
    ]);

    const lookup = fixtureLookup();
    const { findings } = await findVulnerabilities(a.packages, a.os, lookup);
    const got = findings.map((f) => `${f.advisoryId} ${f.installedPackage}@${f.installedVersion} -> ${f.fixedVersion}`);
    assert.deepEqual(got, ['GHSA-vh95-rmgr-6w4m minimist@1.2.0 -> 1.2.3', 'GHSA-xvch-5gv4-984h minimist@1.2.0 -> 1.2.6', 'GHSA-8q59-q68h-6hv4 PyYAML@5.3.1 -> 5.4']);
    const m = findings.find((f) => f.advisoryId === 'GHSA-xvch-5gv4-984h')!;
    assert.equal(m.locations.length, 2, 'one finding per (advisory, package), with both node_modules copies');
    assert.deepEqual(m.cves, ['CVE-2021-44906']);
    assert.equal(m.severity, 'CRITICAL');
    assert.equal(m.fix, 'npm install minimist@1.2.6');
    assert.equal(findings.find((f) => f.installedPackage === 'PyYAML')!.fix, "pip install 'PyYAML>=5.4'");
    // skopeo's go1.19.8 is above GO-2022-0969's fix (1.19.1): never reported.
    assert.ok(!got.some((g) => g.startsWith('GO-2022-0969')));
    assert.equal(new Set(lookup.calls).size, lookup.calls.length, 'each (ecosystem, name) is looked up once');

    const bom = cycloneDx({ imageDigest: 'sha256:' + 'a'.repeat(64), imageName: 'ns/app', os: a.os, packages: a.packages, timestamp: new Date(0), serialNumber: 'urn:uuid:00000000-0000-4000-8000-000000000000' });
    assert.equal(bom.specVersion, '1.5');
    assert.equal(bom.metadata.component.version, 'sha256:' + 'a'.repeat(64));
    const purls = bom.components.map((c) => c.purl).filter(Boolean);
    assert.ok(purls.includes('pkg:deb/debian/libssl3@3.0.19-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl'));
    assert.ok(purls.includes('pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12&upstream=zlib'));
    assert.ok(purls.includes('pkg:npm/minimist@1.2.0'));
    assert.ok(purls.includes('pkg:pypi/pyyaml@5.3.1'));
    assert.equal(bom.components.filter((c) => c.purl === 'pkg:npm/minimist@1.2.0')[0]!.evidence!.occurrences.length, 2);
    assert.equal(bom.components[0]!.type, 'operating-system');
  });

  it('packages at or above the fixed version are never reported', async () => {
    const tar = await tarOf([
      { name: 'node_modules/minimist/package.json', content: fx('minimist-1.2.8.package.json') },
      { name: 'usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA', content: fx('pyyaml-6.0.METADATA') },
      { name: 'usr/lib/python3/dist-packages/x.dist-info/METADATA', content: pyyaml('5.4') }, // exactly the fixed version
    ]);
    const a = await analyzeImage({ layers: [layerOf(tar, MT.tar)], config: { config: { User: '1000' } } });
    assert.equal(a.packages.length, 3);
    assert.deepEqual((await findVulnerabilities(a.packages, a.os, fixtureLookup())).findings, []);
    assert.deepEqual(a.configIssues, []);
  });
});

describe('analyzeImage with an rpm database', () => {
  const real = buildRealRpmdb();
  const skip = typeof real === 'string' && `cannot build a real rpmdb.sqlite here: ${real}`;
  const sqlite = (): Buffer => (typeof real === 'string' ? Buffer.alloc(0) : real.sqlite);

  it('reads rpmdb.sqlite where RHEL 9 / UBI 9 keep it and where Fedora ≥ 36 does', { skip }, async () => {
    for (const where of ['var/lib/rpm/rpmdb.sqlite', 'usr/lib/sysimage/rpm/rpmdb.sqlite']) {
      const items: TarItem[] = [{ name: where, content: sqlite() }];
      // Fedora: /var/lib/rpm is a symlink to the sysimage directory, which the reader does not follow.
      if (where.startsWith('usr/')) items.push({ name: 'var/lib/rpm', type: 'symlink', linkname: '../../usr/lib/sysimage/rpm' });
      const a = await analyzeImage({ layers: [layerOf(gzip(await tarOf(items)), MT.gzip)], config: { config: { User: '1000' } } });
      assert.deepEqual(
        a.packages.map((p) => `${p.type}:${p.name}@${p.version} ${p.arch} src=${p.sourceName} ${p.location}`).sort(),
        [
          `rpm:wharf-probe-libs@2:1.2.3-4.fc39 noarch src=wharf-probe /${where}`,
          `rpm:wharf-probe@2:1.2.3-4.fc39 noarch src=wharf-probe /${where}`,
        ],
        where,
      );
    }
  });

  it('a corrupt rpm database is a scan error naming the file, not a crash', { skip }, async () => {
    const corrupt = Buffer.from(sqlite());
    corrupt.fill(0xff, 100); // the SQLite header survives, every page after it is garbage
    const tar = await tarOf([{ name: 'var/lib/rpm/rpmdb.sqlite', content: corrupt }]);
    await assert.rejects(analyzeImage({ layers: [layerOf(tar, MT.tar)] }), (e: unknown) => {
      assert.ok(e instanceof ScanError);
      assert.equal(e.code, 'invalid-database');
      assert.equal(e.path, '/var/lib/rpm/rpmdb.sqlite');
      assert.match(e.message, /^\/var\/lib\/rpm\/rpmdb\.sqlite is not a readable rpm database: /);
      return true;
    });
  });

  it('an rpm database over the per-file cap is an error, not a partial package list', { skip }, async () => {
    const tar = await tarOf([{ name: 'usr/lib/sysimage/rpm/rpmdb.sqlite', content: sqlite() }]);
    await assert.rejects(analyzeImage({ layers: [layerOf(tar, MT.tar)], limits: { maxKeptFileBytes: 4096 } }), (e: unknown) => e instanceof ScanError && e.code === 'file-too-large');
  });
});

describe('fix wording and package URLs', () => {
  it('says the fix in each package manager’s words', () => {
    assert.equal(fixCommand({ type: 'deb', name: 'libssl3', version: '1' }, '3.0.11-1~deb12u2'), 'apt-get install --only-upgrade libssl3');
    assert.equal(fixCommand({ type: 'apk', name: 'busybox', version: '1' }, '1.36.1-r16'), 'apk add --upgrade busybox');
    assert.equal(fixCommand({ type: 'go', name: 'golang.org/x/net', version: 'v0.1.0' }, '0.0.0-20220906165146-f3363e06e74c'), 'go get golang.org/x/net@v0.0.0-20220906165146-f3363e06e74c');
    assert.equal(fixCommand({ type: 'npm', name: 'minimist', version: '1.2.0' }, null), 'no fix available yet');
  });
  it('builds purls per the purl spec', () => {
    const alpine = { id: 'alpine', versionId: '3.19.1', idLike: [], fields: {} };
    assert.equal(packageUrl({ type: 'apk', name: 'busybox', version: '1.36.1-r15', arch: 'x86_64', sourceName: 'busybox' }, alpine), 'pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64&distro=alpine-3.19.1');
    assert.equal(packageUrl({ type: 'npm', name: '@types/node', version: '20.1.0' }), 'pkg:npm/%40types/node@20.1.0');
    assert.equal(packageUrl({ type: 'pypi', name: 'Zope.Interface', version: '6.0' }), 'pkg:pypi/zope-interface@6.0');
    assert.equal(packageUrl({ type: 'go', name: 'github.com/containers/image/v5', version: 'v5.29.0' }), 'pkg:golang/github.com/containers/image/v5@v5.29.0');
    assert.equal(packageUrl({ type: 'go', name: 'stdlib', version: 'go1.19.8' }), 'pkg:golang/stdlib@v1.19.8');
  });
});
