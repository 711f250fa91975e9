import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGzip, gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { readImageLayers } from '../../src/scanner/image/layers.js';
import { ScanError } from '../../src/scanner/errors.js';
import { parseGoBuildInfo } from '../../src/scanner/detectors/go-buildinfo.js';
import { GoBuildInfoScanner } from '../../src/scanner/image/go-scan.js';
import { gzip, layerFromFile, layerOf, MT, opaque, tarOf, whiteout, zstd } from '../support/scanner-layers.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'scanner');
const fx = (name: string): { file: string } => ({ file: path.join(fixtures, name) });
const GO_BINARY = '/usr/bin/skopeo'; // a real Go (1.19) binary of this machine
const hasGo = existsSync(GO_BINARY);

async function scanError(p: Promise<unknown>): Promise<ScanError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ScanError, `expected a ScanError, got ${String(err)}`);
    assert.ok(err.message.length > 20);
    return err;
  }
  assert.fail('expected the analysis to fail');
}

describe('layer reader: the final filesystem', () => {
  it('keeps the detector files of a real tree packed with the system tar (gzip)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'wharf-layer-'));
    try {
      execFileSync('mkdir', ['-p', `${dir}/etc`, `${dir}/var/lib/dpkg`, `${dir}/usr/lib/node_modules/minimist`, `${dir}/usr/share/doc`]);
      execFileSync('cp', ['/usr/lib/os-release', `${dir}/etc/os-release`]);
      execFileSync('cp', [path.join(fixtures, 'dpkg-status'), `${dir}/var/lib/dpkg/status`]);
      execFileSync('cp', [path.join(fixtures, 'minimist-1.2.8.package.json'), `${dir}/usr/lib/node_modules/minimist/package.json`]);
      execFileSync('cp', ['/etc/login.defs', `${dir}/usr/share/doc/not-kept`]);
      const tar = execFileSync('tar', ['-C', dir, '-cf', '-', '.'], { maxBuffer: 1 << 28 });
      const files = await readImageLayers({ layers: [layerOf(gzip(tar), MT.dockerGzip, 777)] });
      assert.deepEqual([...files.kept.keys()].sort(), ['/etc/os-release', '/usr/lib/node_modules/minimist/package.json', '/var/lib/dpkg/status']);
      assert.deepEqual(files.kept.get('/var/lib/dpkg/status')!.content, readFileSync(path.join(fixtures, 'dpkg-status')));
      assert.equal(files.kept.get('/etc/os-release')!.role, 'os-release');
      assert.equal(files.stats.layers, 1);
      assert.equal(files.stats.bytesDecompressed, tar.length);
      assert.ok(files.stats.entries >= 9);
      assert.deepEqual(files.compressions, ['gzip']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a file deleted by a whiteout in an upper layer is not scanned', async () => {
    const lower = await tarOf([
      { name: 'app/node_modules/minimist/package.json', content: fx('minimist-1.2.8.package.json') },
      { name: 'usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA', content: fx('pyyaml-6.0.METADATA') },
    ]);
    const upper = await tarOf([whiteout('app/node_modules/minimist/package.json'), whiteout('usr/lib/python3/dist-packages/PyYAML-6.0.dist-info')]);
    const files = await readImageLayers({ layers: [layerOf(gzip(lower), MT.gzip), layerOf(upper, MT.tar)] });
    assert.deepEqual([...files.kept.keys()], []);
  });

  it('an opaque directory hides the lower layers’ entries but keeps its own layer’s, in any order', async () => {
    const lower = await tarOf([
      { name: 'app/node_modules/minimist/package.json', content: fx('minimist-1.2.8.package.json') },
      { name: 'app/node_modules/other/package.json', content: Buffer.from('{"name":"other","version":"1.0.0"}') },
      { name: 'srv/node_modules/kept/package.json', content: Buffer.from('{"name":"kept","version":"2.0.0"}') },
    ]);
    const upper = await tarOf([
      { name: 'app/node_modules/minimist/package.json', content: fx('minimist-1.2.8.package.json') }, // before the marker
      opaque('app/node_modules'),
      { name: 'app/node_modules/new/package.json', content: Buffer.from('{"name":"new","version":"3.0.0"}') }, // after it
    ]);
    const files = await readImageLayers({ layers: [layerOf(lower, MT.tar), layerOf(zstd(upper), MT.zstd)] });
    assert.deepEqual([...files.kept.keys()].sort(), [
      '/app/node_modules/minimist/package.json',
      '/app/node_modules/new/package.json',
      '/srv/node_modules/kept/package.json',
    ]);
    assert.equal(files.kept.get('/app/node_modules/minimist/package.json')!.layer, 1);
  });

  it('a later layer replaces a file, and a non-directory replaces a lower directory', async () => {
    const l1 = await tarOf([
      { name: 'etc/os-release', content: Buffer.from('ID=alpine\nVERSION_ID=3.19.1\n') },
      { name: 'opt/app/node_modules/x/package.json', content: Buffer.from('{"name":"x","version":"1.0.0"}') },
    ]);
    const l2 = await tarOf([
      { name: 'etc/os-release', content: fx('os-release-debian-12') },
      { name: 'opt/app', type: 'symlink', linkname: '/srv/app' },
    ]);
    const files = await readImageLayers({ layers: [layerOf(l1, MT.tar), layerOf(l2, MT.tar)] });
    assert.match(files.kept.get('/etc/os-release')!.content.toString(), /bookworm/);
    assert.equal(files.kept.has('/opt/app/node_modules/x/package.json'), false);
  });

  it('reads zstd layers made by the zstd CLI (multi-frame, checksums, high levels)', async () => {
    const tar = await tarOf([
      { name: 'var/lib/dpkg/status', content: fx('dpkg-status') },
      { name: 'padding', content: randomBytes(300_000) },
      { name: 'etc/os-release', content: fx('os-release-debian-12') },
    ]);
    const multi = Buffer.concat([zstd(tar.subarray(0, 100_000)), zstd(tar.subarray(100_000), '-19', '--check')]);
    for (const blob of [zstd(tar), multi, zstd(tar, '--long=27')]) {
      const files = await readImageLayers({ layers: [layerOf(blob, MT.zstd, 1009)] });
      assert.deepEqual([...files.kept.keys()].sort(), ['/etc/os-release', '/var/lib/dpkg/status']);
      assert.equal(files.stats.bytesDecompressed, tar.length);
    }
  });

  it('sniffs the compression when the media type does not name it, and decompresses a gzip labelled as tar', async () => {
    const tar = await tarOf([{ name: 'etc/os-release', content: fx('os-release-debian-12') }]);
    for (const [blob, mt] of [[gzip(tar), 'application/octet-stream'], [zstd(tar), 'application/x-unknown'], [tar, ''], [gzip(tar), MT.tar]] as const) {
      const files = await readImageLayers({ layers: [layerOf(blob, mt)] });
      assert.equal(files.kept.size, 1, mt);
    }
  });

  it('records world-writable entries in system paths and the sshd marker, not /tmp or sticky directories', async () => {
    const tar = await tarOf([
      { name: 'usr/local/bin/tool', content: Buffer.from('#!/bin/sh\n'), mode: 0o777 },
      { name: 'etc/app', type: 'directory', mode: 0o777 },
      { name: 'opt/shared', type: 'directory', mode: 0o1777 },
      { name: 'tmp/x', content: Buffer.from('x'), mode: 0o666 },
      { name: 'usr/bin/ok', content: Buffer.from('x'), mode: 0o755 },
      { name: 'usr/lib/libz.so', type: 'symlink', linkname: 'libz.so.1', mode: 0o777 },
      { name: 'usr/sbin/sshd', content: Buffer.from('x'), mode: 0o755 },
    ]);
    const upper = await tarOf([{ name: 'etc/app', type: 'directory', mode: 0o755 }]);
    const files = await readImageLayers({ layers: [layerOf(tar, MT.tar)] });
    assert.deepEqual(files.worldWritable.map((w) => [w.path, w.kind]), [['/etc/app', 'directory'], ['/usr/local/bin/tool', 'file']]);
    assert.deepEqual([...files.markers], ['/usr/sbin/sshd']);
    const fixed = await readImageLayers({ layers: [layerOf(tar, MT.tar), layerOf(upper, MT.tar)] });
    assert.deepEqual(fixed.worldWritable.map((w) => w.path), ['/usr/local/bin/tool']);
  });

  it('a hard link to a kept file is kept under its own name too', async () => {
    const tar = await tarOf([
      { name: 'usr/lib/os-release', content: fx('os-release-debian-12') },
      { name: 'etc/os-release', type: 'link', linkname: 'usr/lib/os-release' },
    ]);
    const files = await readImageLayers({ layers: [layerOf(tar, MT.tar)] });
    assert.match(files.kept.get('/etc/os-release')!.content.toString(), /bookworm/);
  });
});

describe('layer reader: Go binaries', { skip: !hasGo && `${GO_BINARY} is not installed` }, () => {
  it('finds the build info of a real Go binary as it streams, in any chunking', async () => {
    const expected = parseGoBuildInfo(readFileSync(GO_BINARY))!;
    assert.ok(expected.goVersion.startsWith('go1.'));
    const tar = await tarOf([{ name: 'usr/bin/skopeo', content: { file: GO_BINARY }, mode: 0o755 }]);
    for (const chunk of [65536, 4093, 511]) {
      const files = await readImageLayers({ layers: [layerOf(tar, MT.tar, chunk)] }, { maxKeptFileBytes: 1024 * 1024 });
      assert.equal(files.goBinaries.length, 1);
      assert.equal(files.goBinaries[0]!.path, '/usr/bin/skopeo');
      assert.deepEqual(files.goBinaries[0]!.info, expected);
    }
  });

  it('the streaming scanner skips a magic that is not build info and finds the real one after it', () => {
    const bin = readFileSync(GO_BINARY);
    const fake = Buffer.concat([Buffer.from('\x7fELF', 'latin1'), Buffer.from('\xff Go buildinf:\x08\x02garbage-not-varints', 'latin1'), Buffer.alloc(100), bin]);
    const s = new GoBuildInfoScanner(0);
    for (let i = 0; i < fake.length; i += 7777) s.push(fake.subarray(i, i + 7777));
    assert.equal(s.finish().info?.goVersion, parseGoBuildInfo(bin)!.goVersion);
  });

  it('an ELF file without build info yields none', async () => {
    const tar = await tarOf([{ name: 'usr/bin/notgo', content: Buffer.concat([Buffer.from('\x7fELF', 'latin1'), randomBytes(200_000)]) }]);
    const files = await readImageLayers({ layers: [layerOf(tar, MT.tar)] });
    assert.deepEqual(files.goBinaries, []);
  });
});

describe('layer reader: bad input gives a ScanError', () => {
  const small = (): Promise<Buffer> => tarOf([{ name: 'etc/os-release', content: fx('os-release-debian-12') }, { name: 'data', content: randomBytes(50_000) }]);

  it('a layer that is not an archive', async () => {
    const e = await scanError(readImageLayers({ layers: [layerOf(randomBytes(10_000), MT.tar)] }));
    assert.equal(e.code, 'invalid-archive');
    const e2 = await scanError(readImageLayers({ layers: [layerOf(Buffer.from('hello world, not gzip'), MT.gzip)] }));
    assert.equal(e2.code, 'invalid-archive');
    assert.match(e2.message, /declared as .*gzip/);
  });

  it('a truncated gzip', async () => {
    const gz = gzip(await small());
    const e = await scanError(readImageLayers({ layers: [layerOf(gz.subarray(0, gz.length - 5000), MT.gzip)] }));
    assert.equal(e.code, 'truncated');
    assert.ok(e.layer?.startsWith('sha256:'));
  });

  it('gzip garbage after a valid header', async () => {
    const gz = gzip(await small());
    const bad = Buffer.concat([gz.subarray(0, 20), randomBytes(5000)]);
    const e = await scanError(readImageLayers({ layers: [layerOf(bad, MT.gzip)] }));
    assert.equal(e.code, 'invalid-archive');
  });

  it('zstd garbage and a truncated zstd stream', async () => {
    const garbage = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), randomBytes(5000)]);
    const e = await scanError(readImageLayers({ layers: [layerOf(garbage, MT.zstd)] }));
    assert.ok(['invalid-archive', 'truncated', 'limit-exceeded'].includes(e.code), e.code);
    const z = zstd(await small());
    const t = await scanError(readImageLayers({ layers: [layerOf(z.subarray(0, z.length - 100), MT.zstd)] }));
    assert.equal(t.code, 'truncated');
  });

  it('a zstd frame asking for a window over the limit', async () => {
    const z = zstd(await small(), '--long=30', '--zstd=wlog=30');
    const e = await scanError(readImageLayers({ layers: [layerOf(z, MT.zstd)] }, { maxZstdWindowBytes: 1 << 20 }));
    assert.equal(e.code, 'limit-exceeded');
    assert.match(e.message, /window/);
  });

  it('a truncated tar', async () => {
    const tar = await small();
    const e = await scanError(readImageLayers({ layers: [layerOf(tar.subarray(0, 30_000), MT.tar)] }));
    assert.equal(e.code, 'truncated');
  });

  it('a tar entry with a huge declared size (base-256) that the data does not back', async () => {
    const tar = await tarOf([{ name: 'big', content: Buffer.alloc(1024) }]);
    const h = Buffer.from(tar.subarray(0, 512));
    h.fill(0, 124, 136);
    h[124] = 0x80; // base-256: 2^40 bytes
    h[131] = 1;
    let sum = 0;
    h.fill(0x20, 148, 156);
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    const e = await scanError(readImageLayers({ layers: [layerOf(Buffer.concat([h, tar.subarray(512)]), MT.tar)] }));
    assert.equal(e.code, 'truncated');
  });

  it('a package database bigger than the per-file cap is an error without reading it', async () => {
    const tar = await tarOf([{ name: 'var/lib/dpkg/status', content: Buffer.alloc(200_000, 'a') }]);
    const e = await scanError(readImageLayers({ layers: [layerOf(tar, MT.tar)] }, { maxKeptFileBytes: 100_000 }));
    assert.equal(e.code, 'file-too-large');
    assert.equal(e.path, '/var/lib/dpkg/status');
    // a package.json over the cap is skipped with a warning instead
    const npm = await tarOf([{ name: 'node_modules/x/package.json', content: Buffer.alloc(200_000, ' ') }]);
    const files = await readImageLayers({ layers: [layerOf(npm, MT.tar)] }, { maxKeptFileBytes: 100_000 });
    assert.equal(files.kept.size, 0);
    assert.match(files.warnings[0]!, /node_modules\/x\/package.json: skipped/);
  });

  it('deep paths, long paths and too many entries hit the limits', async () => {
    const deep = await tarOf([{ name: `${'d/'.repeat(300)}f`, content: Buffer.from('x') }]);
    assert.equal((await scanError(readImageLayers({ layers: [layerOf(deep, MT.tar)] }))).code, 'limit-exceeded');
    const long = await tarOf([{ name: `${'x'.repeat(5000)}/f`, content: Buffer.from('x') }]);
    assert.equal((await scanError(readImageLayers({ layers: [layerOf(long, MT.tar)] }))).code, 'limit-exceeded');
    const many = await tarOf(Array.from({ length: 50 }, (_, i) => ({ name: `f${i}`, content: Buffer.from('x') })));
    const e = await scanError(readImageLayers({ layers: [layerOf(many, MT.tar)] }, { maxEntries: 20 }));
    assert.equal(e.code, 'limit-exceeded');
    assert.match(e.message, /more than 20 files/);
  });

  it('a compression bomb stops at the decompressed-bytes limit', async () => {
    const bomb = gzipSync(Buffer.concat([await tarOf([{ name: 'zeros', content: Buffer.alloc(64 * 1024 * 1024) }])]));
    assert.ok(bomb.length < 200_000);
    const e = await scanError(readImageLayers({ layers: [layerOf(bomb, MT.gzip)] }, { maxDecompressedBytes: 8 * 1024 * 1024 }));
    assert.equal(e.code, 'limit-exceeded');
    assert.match(e.message, /compression bomb/);
  });

  it('symlink loops are harmless: links are recorded, never followed', async () => {
    const tar = await tarOf([
      { name: 'a', type: 'symlink', linkname: 'b' },
      { name: 'b', type: 'symlink', linkname: 'a' },
      { name: 'etc/os-release', type: 'symlink', linkname: 'os-release' },
      { name: 'loop', type: 'symlink', linkname: '.' },
      { name: 'loop/loop/etc/os-release', content: fx('os-release-debian-12') },
    ]);
    const files = await readImageLayers({ layers: [layerOf(tar, MT.tar)] });
    // /etc/os-release is a link to itself and /loop a link to /: neither is read through.
    assert.equal(files.kept.size, 0);
    assert.equal(files.stats.entries, 5);
  });

  it('a storage error while reading a layer', async () => {
    const layer = {
      digest: 'sha256:' + 'e'.repeat(64),
      mediaType: MT.gzip,
      size: 10,
      open: async () =>
        new Readable({
          read() {
            this.destroy(new Error('disk on fire'));
          },
        }),
    };
    const e = await scanError(readImageLayers({ layers: [layer] }));
    assert.equal(e.code, 'layer-unreadable');
    assert.match(e.message, /disk on fire/);
  });
});

describe('layer reader: memory stays flat', () => {
  let dir: string;
  let file: string;
  const SIZE = 300 * 1024 * 1024;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'wharf-big-'));
    file = path.join(dir, 'layer.tar.gz');
    // A 300 MiB executable of random data (ELF magic first, so the Go scanner reads all of it),
    // then a real os-release; streamed to disk so the test process never holds it.
    const p = pack();
    // Level 0: deflate of random data gains nothing and level 1 takes 8 s; gunzip still checks every byte's CRC.
    const out = pipeline(p, createGzip({ level: 0 }), createWriteStream(file));
    const body = p.entry({ name: 'usr/local/bin/big', size: SIZE, mode: 0o755 });
    let left = SIZE;
    let first = true;
    while (left > 0) {
      const n = Math.min(left, 4 * 1024 * 1024);
      const c = randomBytes(n);
      if (first) c.write('\x7fELF', 0, 'latin1');
      first = false;
      left -= n;
      if (!body.write(c)) await new Promise<void>((r) => body.once('drain', () => r()));
    }
    body.end(undefined);
    await new Promise((r) => setImmediate(r));
    p.entry({ name: 'etc/os-release' }, readFileSync(path.join(fixtures, 'os-release-debian-12')));
    p.finalize();
    await out;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('analyses a 300 MiB gzip layer with RSS growth under 100 MiB', async () => {
    global.gc?.();
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const t0 = Date.now();
    try {
      const files = await readImageLayers({ layers: [layerFromFile(file, MT.gzip, statSync(file).size)] });
      assert.equal(files.stats.bytesDecompressed > SIZE, true);
      assert.deepEqual([...files.kept.keys()], ['/etc/os-release']);
      assert.deepEqual(files.goBinaries, []);
    } finally {
      clearInterval(timer);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    const growth = (peak - rss0) / 1024 / 1024;
    console.log(`# 300 MiB layer: ${Date.now() - t0} ms, RSS growth ${growth.toFixed(1)} MiB`);
    assert.ok(growth < 100, `RSS grew by ${growth.toFixed(1)} MiB`);
  });
});
