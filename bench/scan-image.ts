/**
 * A generated container image for the Vulnerability Advisor item: three layers written once per
 * run, as gzip (level 6, what docker and buildkit use) and zstd (level 3, zstd's default), with
 * content shaped like a real image: a Debian-like base (os-release, a dpkg status database,
 * thousands of small files, shared libraries), a runtime layer of a few large binaries, and an
 * application layer of node_modules (package.json, sources) and Python dist-info METADATA.
 * Content is deterministic (AES-CTR from a fixed key) so every run compresses alike.
 */
import { execFile } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';

const MIB = 1024 * 1024;

export interface GeneratedLayer {
  digest: string;
  mediaType: string;
  size: number;
  file: string;
}

export interface GeneratedImage {
  /** Bytes of tar data over all layers (what the scanner decompresses). */
  tarBytes: number;
  files: number;
  gzip: GeneratedLayer[];
  zstd: GeneratedLayer[];
  remove(): void;
}

/** Deterministic pseudo-random bytes (incompressible, like compressed assets). */
class Noise {
  private readonly cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16, 0));
  private readonly zeros = Buffer.alloc(MIB);
  bytes(n: number): Buffer {
    const out: Buffer[] = [];
    for (let left = n; left > 0; left -= MIB) out.push(this.cipher.update(this.zeros.subarray(0, Math.min(left, MIB))));
    return out.length === 1 ? out[0]! : Buffer.concat(out, n);
  }
  /** A uniform integer in [0, n). */
  int(n: number): number {
    return this.bytes(4).readUInt32LE(0) % n;
  }
}

const WORDS = ('const let function return if else for while import export from default class extends new this '
  + 'async await yield true false null undefined module require exports object string number buffer stream '
  + 'error message value result options config path file data length index error callback promise resolve '
  + 'reject parse render update state props context handler request response server client socket').split(' ');

/** Source-like text (compresses 3–4×, like JavaScript, docs and configuration). */
function textCorpus(noise: Noise, size: number): Buffer {
  const r = noise.bytes(size);
  const parts: string[] = [];
  let n = 0;
  for (let i = 0; n < size; i++) {
    const w = WORDS[r[i % r.length]! % WORDS.length]!;
    const sep = r[(i * 7) % r.length]! % 11 === 0 ? ';\n  ' : r[(i * 13) % r.length]! % 5 === 0 ? `_${r[i % r.length]! % 97}(` : ' ';
    parts.push(w, sep);
    n += w.length + sep.length;
  }
  return Buffer.from(parts.join('')).subarray(0, size);
}

/**
 * ELF-like content: a real ELF header, then 4 KiB blocks of code-like bytes (a skewed alphabet),
 * zero padding, string tables and incompressible data, so it compresses about 2–2.5× as binaries do.
 */
function* binaryChunks(noise: Noise, text: Buffer, size: number): Generator<Buffer> {
  const head = Buffer.alloc(64);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]).copy(head);
  head.writeUInt16LE(3, 16); // ET_DYN
  head.writeUInt16LE(0x3e, 18); // x86-64
  yield head;
  let left = size - head.length;
  const block = 4096;
  while (left > 0) {
    const chunk: Buffer[] = [];
    let n = 0;
    while (n < MIB && n < left) {
      const len = Math.min(block, left - n);
      const kind = noise.int(10);
      let b: Buffer;
      if (kind < 5) {
        b = noise.bytes(len); // code: bytes from a small, skewed alphabet
        for (let i = 0; i < len; i++) b[i] = b[i]! & (b[i]! & 0x80 ? 0x0f : 0x8b);
      } else if (kind < 6) b = Buffer.alloc(len); // padding
      else if (kind < 8) {
        const at = noise.int(text.length - len);
        b = text.subarray(at, at + len); // string tables, embedded text
      }
      else b = noise.bytes(len); // data, compressed sections
      chunk.push(b);
      n += len;
    }
    left -= n;
    yield Buffer.concat(chunk, n);
  }
}

function dpkgStatus(noise: Noise, packages: number): string {
  const stanzas: string[] = [];
  for (let i = 0; i < packages; i++) {
    const name = i < 3 ? ['libc6', 'openssl', 'zlib1g'][i]! : `lib${WORDS[i % WORDS.length]}${i}`;
    const source = i < 3 ? ['glibc', 'openssl', 'zlib'][i]! : name.replace(/^lib/, '');
    stanzas.push([
      `Package: ${name}`, 'Status: install ok installed', 'Priority: optional', 'Section: libs',
      `Installed-Size: ${100 + noise.int(20000)}`, 'Maintainer: Debian Developers <debian-devel@lists.debian.org>',
      'Architecture: amd64', 'Multi-Arch: same', `Source: ${source}`, `Version: ${1 + noise.int(9)}.${noise.int(30)}.${noise.int(20)}-${1 + noise.int(5)}+deb12u${noise.int(4)}`,
      'Depends: libc6 (>= 2.34)', `Description: ${name} runtime library`, ` This package provides the ${name} shared library.`, '',
    ].join('\n'));
  }
  return stanzas.join('\n');
}

interface Entry { name: string; size: number; body: Buffer | Iterable<Buffer>; mode?: number }

async function writeTar(file: string, entries: Iterable<Entry>): Promise<{ bytes: number; files: number }> {
  const pack = tar.pack();
  const out = pipeline(pack, createWriteStream(file));
  let files = 0;
  const dirs = new Set<string>();
  const put = (header: Parameters<ReturnType<typeof tar.pack>['entry']>[0], body?: Buffer) => new Promise<void>((resolve, reject) => {
    pack.entry(header, body ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
  });
  for (const e of entries) {
    for (let d = path.posix.dirname(e.name); d !== '.' && !dirs.has(d); d = path.posix.dirname(d)) {
      dirs.add(d);
      await put({ name: `${d}/`, type: 'directory', mode: 0o755 });
    }
    files++;
    if (Buffer.isBuffer(e.body)) {
      await put({ name: e.name, size: e.size, mode: e.mode ?? 0o644 }, e.body);
      continue;
    }
    await new Promise<void>((resolve, reject) => {
      const w = pack.entry({ name: e.name, size: e.size, mode: e.mode ?? 0o755 }, (err) => (err ? reject(err) : resolve()));
      void (async () => {
        for (const c of e.body as Iterable<Buffer>) if (!w.write(c)) await new Promise<void>((r) => w.once('drain', () => r()));
        w.end(undefined);
      })().catch((err: Error) => { w.destroy(err); reject(err); });
    });
  }
  pack.finalize();
  await out;
  return { bytes: statSync(file).size, files };
}

function* baseLayer(noise: Noise, text: Buffer, budget: number): Generator<Entry> {
  const osRelease = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n';
  yield { name: 'etc/os-release', size: osRelease.length, body: Buffer.from(osRelease) };
  const status = Buffer.from(dpkgStatus(noise, 400));
  yield { name: 'var/lib/dpkg/status', size: status.length, body: status };
  let used = status.length;
  // Shared libraries: a third of the layer.
  for (let i = 0; used < budget / 3; i++) {
    const size = 256 * 1024 + noise.int(3 * MIB);
    yield { name: `usr/lib/x86_64-linux-gnu/lib${WORDS[i % WORDS.length]}${i}.so.1`, size, body: binaryChunks(noise, text, size), mode: 0o755 };
    used += size;
  }
  // Many small files: docs, locale data, scripts (the rest).
  for (let i = 0; used < budget; i++) {
    const size = 200 + noise.int(12 * 1024);
    const at = noise.int(text.length - size);
    yield { name: `usr/share/doc/pkg${i % 400}/file${i}.txt`, size, body: text.subarray(at, at + size) };
    used += size;
  }
}

function* runtimeLayer(noise: Noise, text: Buffer, budget: number): Generator<Entry> {
  let used = 0;
  for (let i = 0; used < budget; i++) {
    const size = Math.min(budget - used, Math.max(MIB, Math.floor(budget / 3)) + noise.int(MIB));
    yield { name: `usr/local/bin/tool${i}`, size, body: binaryChunks(noise, text, size), mode: 0o755 };
    used += size;
  }
}

function* appLayer(noise: Noise, text: Buffer, budget: number): Generator<Entry> {
  let used = 0;
  for (let i = 0; i < 20; i++) {
    const meta = Buffer.from(`Metadata-Version: 2.1\nName: pkg-${i}\nVersion: 1.${i}.0\nSummary: a Python package\n\n${text.subarray(0, 2000).toString()}`);
    yield { name: `usr/lib/python3/dist-packages/pkg_${i}-1.${i}.0.dist-info/METADATA`, size: meta.length, body: meta };
    used += meta.length;
  }
  for (let i = 0; used < budget; i++) {
    const name = i === 0 ? 'minimist' : `${WORDS[i % WORDS.length]}-${i}`;
    const dir = i % 5 === 4 ? `app/node_modules/${WORDS[(i + 1) % WORDS.length]}-${i - 1}/node_modules/${name}` : `app/node_modules/${name}`;
    const pkg = Buffer.from(JSON.stringify({ name, version: i === 0 ? '1.2.0' : `${noise.int(5)}.${noise.int(20)}.${noise.int(10)}`, description: `the ${name} package`, main: 'index.js', license: 'MIT', dependencies: {} }, null, 2));
    yield { name: `${dir}/package.json`, size: pkg.length, body: pkg };
    used += pkg.length;
    for (let f = 0; f < 8 && used < budget; f++) {
      const size = 300 + noise.int(24 * 1024);
      const at = noise.int(text.length - size);
      yield { name: `${dir}/${f === 0 ? 'index.js' : f === 1 ? 'README.md' : `lib/part${f}.js`}`, size, body: text.subarray(at, at + size) };
      used += size;
    }
  }
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const c of createReadStream(file)) hash.update(c as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

/** Writes the image (about `tarMib` MiB of tar data) under the temporary directory. */
export async function generateScanImage(tarMib: number): Promise<GeneratedImage> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wharf-bench-scan-'));
  try {
    const noise = new Noise();
    const text = textCorpus(noise, 8 * MIB);
    const budget = tarMib * MIB;
    const layers = [
      baseLayer(noise, text, Math.floor(budget * 0.35)),
      runtimeLayer(noise, text, Math.floor(budget * 0.4)),
      appLayer(noise, text, Math.floor(budget * 0.25)),
    ];
    let tarBytes = 0;
    let files = 0;
    const gzip: GeneratedLayer[] = [];
    const zstd: GeneratedLayer[] = [];
    for (const [i, entries] of layers.entries()) {
      const plain = path.join(dir, `layer${i}.tar`);
      const written = await writeTar(plain, entries);
      tarBytes += written.bytes;
      files += written.files;
      const gz = `${plain}.gz`;
      await Promise.all([
        pipeline(createReadStream(plain), createGzip({ level: 6 }), createWriteStream(gz)),
        promisify(execFile)('zstd', ['-3', '-q', '-f', plain, '-o', `${plain}.zst`]).then(() => true, () => false),
      ]).then(([, zstdOk]) => { if (!zstdOk) rmSync(`${plain}.zst`, { force: true }); });
      rmSync(plain);
      gzip.push({ file: gz, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', size: statSync(gz).size, digest: await sha256File(gz) });
      try {
        const zst = `${plain}.zst`;
        zstd.push({ file: zst, mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', size: statSync(zst).size, digest: await sha256File(zst) });
      } catch { /* no zstd command: the zstd item reports itself unsupported */ }
    }
    return { tarBytes, files, gzip, zstd: zstd.length === layers.length ? zstd : [], remove: () => rmSync(dir, { recursive: true, force: true }) };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
