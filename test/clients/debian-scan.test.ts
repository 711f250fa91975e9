import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, createReadStream, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { engines, startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from '../support/server.js';
import { apiJson, basic } from '../support/iam.js';
import { removeScratchTree, unmountAllUnder } from '../support/mounts.js';
import { describeRun, runCommand } from '../support/process.js';
import { MEDIA, OciLayout, type Descriptor } from '../support/oci-layout.js';
import { tarOf, whiteout } from '../support/scanner-layers.js';

/**
 * End to end on a real Debian system: a bookworm root filesystem built here with
 * `debootstrap --variant=minbase` from the configured Debian mirror, packed as an OCI image, pushed
 * with skopeo, scanned. The expected findings come from an independent oracle: the installed
 * packages as dpkg-query reads them from the image's own dpkg database, each compared with the
 * fixture advisories' fixed versions by `dpkg --compare-versions` — not by the scanner's comparator.
 *
 * The root filesystem (and its packed layers) is cached under the temp directory for the day, so a
 * rerun the same day takes seconds instead of a minute or two.
 */

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const enc = encodeURIComponent;
const ZSTD_LAYER = 'application/vnd.oci.image.layer.v1.tar+zstd';
/**
 * Sized for a loaded machine, not a quiet one: debootstrap takes a minute or two alone, and several
 * times that on two cores shared with the rest of the suite (11 minutes in all there).
 */
const DEBOOTSTRAP_TIMEOUT_MS = 20 * 60_000;
const SKOPEO_TIMEOUT_MS = 10 * 60_000;
const CACHE_PREFIX = 'wharf-debian-bookworm-minbase-';

function which(cmd: string): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin']) {
    const full = path.join(dir, cmd);
    if (dir && existsSync(full)) return full;
  }
  return undefined;
}

/** The Debian mirror apt is configured with (deb822 sources or one-line sources.list). */
function configuredMirror(): string | undefined {
  const files = ['/etc/apt/sources.list', ...(existsSync('/etc/apt/sources.list.d') ? readdirSync('/etc/apt/sources.list.d').filter((f) => /\.(list|sources)$/.test(f)).map((f) => `/etc/apt/sources.list.d/${f}`) : [])];
  for (const file of files) {
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    for (const block of text.split(/\n\s*\n/)) {
      const uri = /^URIs:\s*(\S+)/m.exec(block)?.[1];
      const suites = /^Suites:\s*(.+)$/m.exec(block)?.[1]?.split(/\s+/) ?? [];
      if (uri && suites.includes('bookworm') && !/security/.test(uri)) return uri;
    }
    for (const line of text.split('\n')) {
      const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s/.exec(line.trim() + ' ');
      if (m && !/security/.test(m[1]!)) return m[1];
    }
  }
  return undefined;
}

interface Rootfs {
  dir: string;
  /** The rootfs as one uncompressed tar, and the same compressed. */
  tar: string;
  gzip: string;
  zstd: string;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Scratch trees of builds whose process is gone (killed mid-debootstrap), with whatever they left mounted. */
async function removeAbandonedBuilds(): Promise<void> {
  for (const entry of readdirSync(os.tmpdir())) {
    const builder = new RegExp(`^${CACHE_PREFIX}[0-9-]+\\.building-(\\d+)$`).exec(entry);
    if (builder && !processAlive(Number(builder[1]))) await removeScratchTree(path.join(os.tmpdir(), entry));
  }
}

/** debootstrap's minbase bookworm, built once a day and kept; undefined + reason when it cannot be built here. */
async function debianRootfs(): Promise<{ rootfs?: Rootfs; skip?: string }> {
  for (const tool of ['debootstrap', 'skopeo', 'zstd', 'dpkg-query']) {
    if (!which(tool)) return { skip: `${tool} is not installed (apt-get install -y debootstrap skopeo zstd)` };
  }
  const mirror = configuredMirror();
  if (!mirror) return { skip: 'no Debian bookworm mirror in /etc/apt/sources.list or /etc/apt/sources.list.d/' };
  if (process.getuid?.() !== 0) return { skip: 'debootstrap needs root' };
  const cache = path.join(os.tmpdir(), `${CACHE_PREFIX}${new Date().toISOString().slice(0, 10)}`);
  const rootfs: Rootfs = { dir: path.join(cache, 'rootfs'), tar: path.join(cache, 'rootfs.tar'), gzip: path.join(cache, 'rootfs.tar.gz'), zstd: path.join(cache, 'rootfs.tar.zst') };
  if (!existsSync(path.join(cache, 'done'))) {
    await removeScratchTree(cache);
    await removeAbandonedBuilds();
    const building = `${cache}.building-${process.pid}`;
    await removeScratchTree(building);
    mkdirSync(building, { recursive: true });
    const args = ['--variant=minbase', 'bookworm', path.join(building, 'rootfs'), mirror];
    // Its own process group: a timeout kills the chroot's dpkg too, which would hold proc mounted.
    const run = await runCommand(which('debootstrap')!, args, { timeoutMs: DEBOOTSTRAP_TIMEOUT_MS, processGroup: true });
    if (run.code !== 0) {
      const logFile = path.join(building, 'rootfs', 'debootstrap', 'debootstrap.log');
      const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
      // debootstrap's own error is the news; a cleanup that fails too is added to it, never put in its place.
      const cleanup = await removeScratchTree(building).then(() => '', (err: unknown) => `\n(the scratch tree ${building} could not be removed either: ${(err as Error).message})`);
      const text = `${run.stderr}\n${log}`;
      const network = /Failed getting release file|Temporary failure resolving|Could not resolve|Connection refused|Network is unreachable|Couldn't download|Failed to connect|timed out/i.exec(text);
      if (network) return { skip: `debootstrap cannot reach the mirror ${mirror}: ${text.split('\n').find((l) => network[0] && l.includes(network[0]))?.trim() ?? network[0]}${cleanup}` };
      throw new Error(`debootstrap failed:\n${describeRun('debootstrap', args, run)}\n${logFile} (end):\n${log.slice(-4000)}${cleanup}`);
    }
    // A successful debootstrap unmounts what it mounted; tar must never walk into a mounted proc.
    await unmountAllUnder(building);
    // One layer: the whole filesystem, numeric owners, as an image build would archive it.
    execFileSync('tar', ['--numeric-owner', '--sort=name', '--xattrs', '-C', path.join(building, 'rootfs'), '-cf', path.join(building, 'rootfs.tar'), '.']);
    execFileSync('sh', ['-c', 'gzip -n -6 -c "$1" > "$2" && zstd -q -3 -T0 -f "$1" -o "$3"', 'sh', path.join(building, 'rootfs.tar'), path.join(building, 'rootfs.tar.gz'), path.join(building, 'rootfs.tar.zst')]);
    writeFileSync(path.join(building, 'done'), new Date().toISOString());
    renameSync(building, cache);
  }
  return { rootfs };
}

const prepared = await debianRootfs();
const skip = prepared.skip ?? false;

async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return `sha256:${h.digest('hex')}`;
}

/** An installed package as dpkg itself reports it (the oracle's input). */
interface Installed { name: string; version: string; source: string; sourceVersion: string }

function dpkgInstalled(rootfsDir: string): Installed[] {
  const out = execFileSync('dpkg-query', ['--admindir', path.join(rootfsDir, 'var/lib/dpkg'), '-W', '-f', '${db:Status-Abbrev}\t${Package}\t${Version}\t${source:Package}\t${source:Version}\n'], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.startsWith('ii')).map((l) => {
    const [, name, version, source, sourceVersion] = l.split('\t');
    return { name: name!, version: version!, source: source!, sourceVersion: sourceVersion! };
  });
}

const dpkgLessThan = (a: string, b: string): boolean => spawnSync('dpkg', ['--compare-versions', a, 'lt', b]).status === 0;

interface OsvFixture { id: string; aliases?: string[]; upstream?: string[]; affected: Array<{ package?: { ecosystem: string; name: string }; ranges: Array<{ type: string; events: Array<Record<string, string>> }> }> }

const debianAdvisories: OsvFixture[] = readdirSync(path.join(fixtures, 'osv')).filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(path.join(fixtures, 'osv', f), 'utf8')) as OsvFixture)
  .filter((r) => r.affected.some((a) => a.package?.ecosystem === 'Debian:12'));

interface Expected { key: string; advisory: string; binary: string; version: string; fixed: string | null; cve: string }

/**
 * The oracle: for each fixture advisory naming a Debian 12 source package, each installed binary of
 * that source is affected when the advisory has no fix for bookworm, or when dpkg says the installed
 * source version is below the fixed version. (The fixture ranges are all `introduced 0` + at most
 * one `fixed`, which the test checks, so this reading is the whole of their meaning.)
 */
function oracle(installed: Installed[]): { affected: Expected[]; notAffected: string[] } {
  const affected: Expected[] = [];
  const notAffected: string[] = [];
  for (const rec of debianAdvisories) {
    for (const a of rec.affected.filter((x) => x.package?.ecosystem === 'Debian:12')) {
      assert.equal(a.ranges.length, 1);
      const events = a.ranges[0]!.events;
      assert.deepEqual(events[0], { introduced: '0' }, `${rec.id}: ranges start at 0`);
      assert.ok(events.length <= 2 && (events.length === 1 || 'fixed' in events[1]!), `${rec.id}: at most one fixed event`);
      const fixed = events[1]?.fixed ?? null;
      for (const pkg of installed.filter((p) => p.source === a.package!.name)) {
        const cve = [...(rec.aliases ?? []), ...(rec.upstream ?? [])].find((x) => x.startsWith('CVE-'))!;
        if (fixed === null || dpkgLessThan(pkg.sourceVersion, fixed)) {
          affected.push({ key: `${rec.id} ${pkg.name}@${pkg.version} -> ${fixed ?? 'no fix'}`, advisory: rec.id, binary: pkg.name, version: pkg.version, fixed, cve });
        } else {
          notAffected.push(`${rec.id} ${pkg.name}@${pkg.version} (fixed ${fixed})`);
        }
      }
    }
  }
  return { affected: affected.sort((x, y) => x.key.localeCompare(y.key)), notAffected };
}

interface Report {
  status: string; issueCount: number;
  os: { id: string; versionId?: string; versionCodename?: string } | null;
  vulnerabilities: Array<{ advisoryId: string; aliases: string[]; cves: string[]; package: string; installedPackage: string; installedVersion: string; fixedVersion: string | null; severity: string; severitySource: string; summary: string; fix: string }>;
  error: string | null;
}

const keyOf = (v: Report['vulnerabilities'][number]): string => `${v.advisoryId} ${v.installedPackage}@${v.installedVersion} -> ${v.fixedVersion ?? 'no fix'}`;

for (const engine of engines()) {
  describe(`Debian bookworm image built with debootstrap, pushed with skopeo and scanned [${engine}]`, { skip }, () => {
    let server: TestServer;
    let host: string;
    let work: string;
    let layout: OciLayout;
    let rootfs: Rootfs;
    let installed: Installed[];
    let rootfsTarDigest: string;
    const admin = basic({ username: 'admin', password: TEST_ADMIN_PASSWORD });

    /** Puts a big layer file into the layout as a blob (hard link when possible). */
    async function fileBlob(file: string, mediaType: string): Promise<Descriptor> {
      const digest = await sha256File(file);
      const target = path.join(layout.blobsDir, digest.slice('sha256:'.length));
      if (!existsSync(target)) {
        try { linkSync(file, target); } catch { copyFileSync(file, target); }
      }
      return { mediaType, digest, size: statSync(file).size };
    }

    function bufferBlob(data: Buffer, mediaType: string): Descriptor {
      return layout.writeBlob(mediaType, data);
    }

    function image(layers: Array<{ descriptor: Descriptor; diffId: string }>, platform = { architecture: 'amd64', os: 'linux' }): Descriptor {
      const config = layout.writeJson(MEDIA.config, {
        architecture: platform.architecture, os: platform.os,
        config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['bash'] },
        rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
        history: layers.map((_, i) => ({ created_by: i === 0 ? 'debootstrap --variant=minbase bookworm' : `wharf test layer ${i + 1}` })),
      });
      return layout.writeJson(MEDIA.manifest, { schemaVersion: 2, mediaType: MEDIA.manifest, config, layers: layers.map((l) => l.descriptor) }, { platform });
    }

    async function push(tag: string, repo: string, all = false): Promise<void> {
      const args = ['copy', '--preserve-digests', ...(all ? ['--all'] : []), '--dest-tls-verify=false', '--dest-creds', `admin:${TEST_ADMIN_PASSWORD}`, `oci:${layout.dir}:${tag}`, `docker://${host}/${repo}:${tag}`];
      const result = await runCommand('skopeo', args, { timeoutMs: SKOPEO_TIMEOUT_MS });
      assert.equal(result.code, 0, describeRun('skopeo', args, result));
    }

    const report = (ref: string) => apiJson<Report>(server.url, 'GET', `/images/${enc(ref)}/report`, admin);
    const statusOf = async (repo: string, digest?: string): Promise<string> => {
      const list = await apiJson<{ images: Array<{ digest: string; securityStatus: string }> }>(server.url, 'GET', `/images?repository=${enc(repo)}`, admin);
      return (digest ? list.images.find((i) => i.digest === digest) : list.images[0])!.securityStatus;
    };

    /** The report lists exactly the oracle's findings, each fully described. */
    function assertFindings(r: Report, expected: Expected[], label: string): void {
      assert.equal(r.error, null, `${label}: scanned without error`);
      assert.equal(r.os?.id, 'debian', `${label}: OS detected`);
      assert.equal(r.os?.versionId, '12');
      assert.equal(r.os?.versionCodename, 'bookworm');
      const debian = r.vulnerabilities.filter((v) => debianAdvisories.some((a) => a.id === v.advisoryId));
      assert.deepEqual(debian.map(keyOf).sort(), expected.map((e) => e.key), `${label}: the report agrees with dpkg --compare-versions`);
      for (const e of expected) {
        const v = debian.find((x) => keyOf(x) === e.key)!;
        assert.ok(v.cves.includes(e.cve), `${e.key} names ${e.cve}: ${JSON.stringify(v.cves)}`);
        if (e.advisory.startsWith('DSA-') || e.advisory.startsWith('DLA-')) assert.ok(v.aliases.includes(e.cve), `${e.key}: the CVE is an alias of the advisory`);
        assert.match(v.severity, /^(CRITICAL|HIGH|MEDIUM|LOW|NEGLIGIBLE|UNKNOWN)$/);
        // The tracker entries carry no urgency and no CVE record with a vector is loaded here: UNKNOWN, and the report says so.
        assert.equal(`${v.severity} ${v.severitySource}`, 'UNKNOWN none', `${e.key}: where its severity came from`);
        assert.ok(v.summary.length > 0, `${e.key} has a summary`);
        assert.equal(v.fix, e.fixed === null ? 'no fix available yet' : `apt-get install --only-upgrade ${e.binary}`);
      }
    }

    before(async () => {
      rootfs = prepared.rootfs!;
      installed = dpkgInstalled(rootfs.dir);
      rootfsTarDigest = await sha256File(rootfs.tar);
      server = await startTestServer(engine, { auth: { enabled: true }, scanner: { pollInterval: '50ms' } });
      host = new URL(server.url).host;
      await apiJson(server.url, 'POST', '/namespaces', admin, { name: 'debs' });
      const imported = await server.vulndb.import(path.join(fixtures, 'osv'));
      assert.deepEqual(imported.skipped, []);
      work = mkdtempSync(path.join(os.tmpdir(), 'wharf-debian-scan-'));
      layout = new OciLayout(path.join(work, 'layout'));
    });
    after(async () => {
      await server?.stop();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    it('the oracle has something to find and something to leave out', () => {
      assert.ok(installed.length > 50, `debootstrap installed ${installed.length} packages`);
      const { affected, notAffected } = oracle(installed);
      assert.ok(affected.some((e) => e.fixed !== null), `an installed source version is below a fixed version: ${JSON.stringify(affected)}`);
      assert.ok(notAffected.length > 0, 'an installed source version is at or above a fixed version');
    });

    it('reports exactly the advisories whose fixed version is above the installed source version (gzip layer)', async () => {
      const layer = await fileBlob(rootfs.gzip, MEDIA.layerGzip);
      const manifest = image([{ descriptor: layer, diffId: rootfsTarDigest }]);
      layout.tag(manifest, 'bookworm');
      await push('bookworm', 'debs/debian');
      await server.jobs.drain();
      const r = await report('debs/debian:bookworm');
      const { affected, notAffected } = oracle(installed);
      assertFindings(r, affected, 'gzip');
      for (const n of notAffected) assert.ok(!r.vulnerabilities.some((v) => n.startsWith(`${v.advisoryId} ${v.installedPackage}@`)), `${n} is not reported`);
      assert.equal(await statusOf('debs/debian'), r.status);
      assert.match(r.status, /^\d+ Issues?$/);
    });

    it('scans the same rootfs compressed with zstd the same', async () => {
      const layer = await fileBlob(rootfs.zstd, ZSTD_LAYER);
      const manifest = image([{ descriptor: layer, diffId: rootfsTarDigest }]);
      layout.tag(manifest, 'bookworm-zstd');
      await push('bookworm-zstd', 'debs/debian-zstd');
      await server.jobs.drain();
      const r = await report('debs/debian-zstd:bookworm-zstd');
      assertFindings(r, oracle(installed).affected, 'zstd');
      const gz = await report('debs/debian:bookworm');
      assert.deepEqual(r.vulnerabilities.map(keyOf).sort(), gz.vulnerabilities.map(keyOf).sort());
      assert.equal(r.issueCount, gz.issueCount);
    });

    /** Layers 2 and 3: status moved to status.d/ (one file per package), then one entry deleted by a whiteout. */
    async function statusDLayers(removed: string): Promise<Array<{ descriptor: Descriptor; diffId: string }>> {
      const paragraphs = readFileSync(path.join(rootfs.dir, 'var/lib/dpkg/status'), 'utf8').split(/\n\n+/).filter((p) => p.trim());
      const items = paragraphs.map((p) => ({ name: `var/lib/dpkg/status.d/${/^Package: (\S+)/m.exec(p)![1]}`, content: Buffer.from(`${p.trim()}\n`) }));
      assert.ok(items.some((i) => i.name.endsWith(`/${removed}`)));
      const tar2 = await tarOf([whiteout('var/lib/dpkg/status'), { name: 'var/lib/dpkg/status.d/', type: 'directory' }, ...items]);
      const tar3 = await tarOf([whiteout(`var/lib/dpkg/status.d/${removed}`)]);
      return [tar2, tar3].map((tar) => {
        const gz = gzipSync(tar);
        return { descriptor: bufferBlob(gz, MEDIA.layerGzip), diffId: `sha256:${createHash('sha256').update(tar).digest('hex')}` };
      });
    }

    it('does not report a package whose dpkg status entry an upper layer deleted with a whiteout', async () => {
      const { affected } = oracle(installed);
      // Remove the binary of a finding that has a fix, so the difference is visible.
      const victim = affected.find((e) => e.fixed !== null)!.binary;
      const base = await fileBlob(rootfs.gzip, MEDIA.layerGzip);
      const manifest = image([{ descriptor: base, diffId: rootfsTarDigest }, ...await statusDLayers(victim)]);
      layout.tag(manifest, 'whiteout');
      await push('whiteout', 'debs/debian-whiteout');
      await server.jobs.drain();
      const r = await report('debs/debian-whiteout:whiteout');
      const expected = oracle(installed.filter((p) => p.name !== victim)).affected;
      assert.ok(expected.length < affected.length);
      assertFindings(r, expected, 'whiteout');
      assert.ok(!r.vulnerabilities.some((v) => v.installedPackage === victim), `${victim} is not reported`);
    });

    it('scans each platform of a two-platform index, and the index shows the worst of them', async () => {
      const base = { descriptor: await fileBlob(rootfs.gzip, MEDIA.layerGzip), diffId: rootfsTarDigest };
      const victim = oracle(installed).affected.find((e) => e.fixed !== null)!.binary;
      // linux/arm64 points at other layers than linux/amd64: the same base plus the status.d layers
      // (a second debootstrap for arm64 would need qemu for its second stage).
      const amd64 = image([base]);
      const arm64 = image([base, ...await statusDLayers(victim)], { architecture: 'arm64', os: 'linux' });
      const index = layout.writeJson(MEDIA.index, { schemaVersion: 2, mediaType: MEDIA.index, manifests: [amd64, arm64] });
      layout.tag(index, 'multi');
      await push('multi', 'debs/debian-multi', true);
      await server.jobs.drain();
      const ra = await report(`debs/debian-multi@${amd64.digest}`);
      const rb = await report(`debs/debian-multi@${arm64.digest}`);
      assertFindings(ra, oracle(installed).affected, 'amd64');
      assertFindings(rb, oracle(installed.filter((p) => p.name !== victim)).affected, 'arm64');
      assert.match(ra.status, /^\d+ Issues?$/);
      // amd64 keeps the package arm64 deleted, so it has the most issues; the two are not added up.
      assert.ok(ra.issueCount > rb.issueCount);
      assert.equal(await statusOf('debs/debian-multi', index.digest), ra.status);
    });

    it('every installed source package against fixed versions on each side of it: the report is exactly what dpkg --compare-versions says', async () => {
      // One advisory per (source package, fixed version): its own version, a ~ pre-release of it,
      // a +deb12u99 update of it, and the next source package's real version (epochs, +b, ~deb12u…
      // against each other). Built here; the versions are the image's own.
      const sources = [...new Map(installed.map((p) => [p.source, p.sourceVersion])).entries()].sort();
      assert.ok(sources.length > 40, `${sources.length} source packages`);
      const dir = mkdtempSync(path.join(os.tmpdir(), 'wharf-debian-all-'));
      const expected: string[] = [];
      let comparisons = 0;
      try {
        sources.forEach(([source, version], i) => {
          const fixes = [...new Set([version, `${version}~pre1`, `${version}+deb12u99`, sources[(i + 1) % sources.length]![1]])];
          fixes.forEach((fixed, k) => {
            const id = `WHARF-DEB-${i}-${k}`;
            writeFileSync(path.join(dir, `${id}.json`), JSON.stringify({ id, modified: '2026-11-30T00:00:00Z', summary: `${source} fixed in ${fixed}`, affected: [{ package: { ecosystem: 'Debian:12', name: source }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }] }] }));
            comparisons++;
            if (dpkgLessThan(version, fixed)) {
              for (const p of installed.filter((x) => x.source === source)) expected.push(`${id} ${p.name}@${p.version} -> ${fixed}`);
            }
          });
        });
        await server.vulndb.import(dir);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      assert.ok(expected.length > 0 && expected.length < comparisons * 2, `${expected.length} findings expected from ${comparisons} advisories`);
      await server.scanner.rescanAll();
      await server.jobs.drain();
      const r = await report('debs/debian:bookworm');
      const reported = r.vulnerabilities.filter((v) => v.advisoryId.startsWith('WHARF-DEB-')).map(keyOf).sort();
      assert.deepEqual(reported, expected.sort(), 'no package dpkg calls fixed is reported, and none it calls vulnerable is missed');
    });
  });
}
