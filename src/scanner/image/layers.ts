import type { Readable } from 'node:stream';
import type { GoBuildInfo } from '../detectors/go-buildinfo.js';
import { ScanError, shortDigest } from '../errors.js';
import { decodeLayer, message, type Compression } from './decompress.js';
import { GoBuildInfoScanner } from './go-scan.js';
import { resolveLimits, type ScanLimits } from './limits.js';
import { normalizeEntryPath, tarEntries, type TarEntry } from './tar.js';
import { databaseRoles, ELF_MAGIC, inSystemPath, isWorldWritable, keptRole, markerPaths, type KeptRole } from './wanted.js';
import { FinalFilesystem, parseWhiteout, type Layered } from './whiteouts.js';

/**
 * Reads an image's layers in order, as streams, into the few facts the scanner needs about the
 * final filesystem: the kept files (package databases, manifests, os-release, login.defs), the
 * Go build info of executables, world-writable entries in system paths, and marker files.
 * Memory is what is kept plus one decoder's buffers, whatever the size of the layers.
 */

export interface LayerSource {
  digest: string;
  mediaType: string;
  size: number;
  open(): Promise<Readable>;
}

export interface ImageLayersInput {
  layers: readonly LayerSource[];
}

export interface KeptFile {
  path: string;
  role: KeptRole;
  content: Buffer;
  layer: number;
}

export interface GoBinary {
  path: string;
  info: GoBuildInfo;
  layer: number;
}

export interface FileMeta {
  path: string;
  kind: 'file' | 'directory';
  mode: number;
  layer: number;
}

export interface LayerStats {
  layers: number;
  /** Bytes of layer blobs read (compressed). */
  bytesRead: number;
  /** Bytes of tar data after decompression. */
  bytesDecompressed: number;
  /** Tar entries over all layers. */
  entries: number;
}

export interface ImageFiles {
  kept: Map<string, KeptFile>;
  goBinaries: GoBinary[];
  /** World-writable regular files and non-sticky directories under the system directories. */
  worldWritable: FileMeta[];
  /** Which of the marker paths (e.g. /usr/sbin/sshd) exist. */
  markers: Set<string>;
  /** Files that were skipped, with the reason (e.g. a package.json over the per-file cap). */
  warnings: string[];
  compressions: Compression[];
  stats: LayerStats;
}

interface PathFacts extends Layered {
  kept?: KeptFile;
  go?: GoBuildInfo;
  worldWritable?: FileMeta;
  marker?: true;
}

const MIN_EXECUTABLE = 1024; // smaller files are not worth peeking at for ELF headers

class ImageReader {
  private readonly fs = new FinalFilesystem<PathFacts>();
  private readonly warnings: string[] = [];
  private readonly compressions: Compression[] = [];
  private readonly stats: LayerStats = { layers: 0, bytesRead: 0, bytesDecompressed: 0, entries: 0 };
  private keptBytes = 0;

  constructor(private readonly limits: ScanLimits) {}

  async readLayer(layer: LayerSource, index: number): Promise<void> {
    let raw: Readable;
    try {
      raw = await layer.open();
    } catch (err) {
      if (err instanceof ScanError) throw err;
      throw new ScanError('layer-unreadable', `layer ${shortDigest(layer.digest)} could not be opened: ${message(err)}`, layer.digest);
    }
    let decoded;
    try {
      decoded = await decodeLayer(layer, raw, this.limits.maxZstdWindowBytes);
    } catch (err) {
      raw.destroy();
      throw err;
    }
    this.compressions.push(decoded.compression);
    const before = this.stats.bytesRead;
    try {
      for await (const entry of tarEntries(this.counted(decoded.chunks, layer.digest), layer.digest, this.limits)) {
        if (++this.stats.entries > this.limits.maxEntries) {
          throw new ScanError(
            'limit-exceeded',
            `the image has more than ${this.limits.maxEntries} files (at layer ${shortDigest(layer.digest)}); the layer looks like a tar bomb`,
            layer.digest,
          );
        }
        await this.entry(entry, index, layer.digest);
      }
    } finally {
      this.stats.bytesRead = before + decoded.bytesRead();
      raw.destroy();
    }
    this.stats.layers++;
  }

  result(): ImageFiles {
    const out: ImageFiles = {
      kept: new Map(),
      goBinaries: [],
      worldWritable: [],
      markers: new Set(),
      warnings: this.warnings,
      compressions: this.compressions,
      stats: this.stats,
    };
    for (const [path, f] of this.fs.entries()) {
      if (f.kept) out.kept.set(path, { ...f.kept, path });
      if (f.go) out.goBinaries.push({ path, info: f.go, layer: f.layer });
      if (f.worldWritable) out.worldWritable.push({ ...f.worldWritable, path });
      if (f.marker) out.markers.add(path);
    }
    out.goBinaries.sort((a, b) => a.path.localeCompare(b.path));
    out.worldWritable.sort((a, b) => a.path.localeCompare(b.path));
    return out;
  }

  private async *counted(chunks: AsyncIterable<Buffer>, digest: string): AsyncGenerator<Buffer> {
    for await (const c of chunks) {
      this.stats.bytesDecompressed += c.length;
      if (this.stats.bytesDecompressed > this.limits.maxDecompressedBytes) {
        throw new ScanError(
          'limit-exceeded',
          `the image decompresses to more than ${this.limits.maxDecompressedBytes} bytes (at layer ${shortDigest(digest)}); the layer looks like a compression bomb`,
          digest,
        );
      }
      yield c;
    }
  }

  private async entry(e: TarEntry, layer: number, digest: string): Promise<void> {
    const w = parseWhiteout(e.path);
    if (w !== undefined) {
      e.skip();
      if (w !== 'ignore') this.fs.whiteout(w, layer);
      return;
    }
    if (e.path === '/') {
      e.skip();
      return;
    }
    const facts: PathFacts = { layer };
    if (e.kind === 'directory') {
      e.skip();
      if (inSystemPath(e.path) && isWorldWritable('directory', e.mode)) facts.worldWritable = { path: e.path, kind: 'directory', mode: e.mode, layer };
      this.fs.put(e.path, facts.worldWritable ? facts : undefined, true, layer);
      return;
    }
    if (markerPaths.has(e.path)) facts.marker = true;
    if (e.kind === 'file') {
      if (inSystemPath(e.path) && isWorldWritable('file', e.mode)) facts.worldWritable = { path: e.path, kind: 'file', mode: e.mode, layer };
      const role = keptRole(e.path);
      if (role) await this.keep(e, role, facts, digest);
      else if (e.size >= MIN_EXECUTABLE) await this.peekExecutable(e, facts);
      else e.skip();
    } else {
      e.skip();
      if (e.kind === 'hardlink' && e.linkname !== undefined) {
        // A hard link is the same file under another name: it carries what was kept for its target.
        const target = this.fs.get(normalizeEntryPath(e.linkname));
        const role = keptRole(e.path);
        if (target?.kept && role === target.kept.role) facts.kept = { ...target.kept, path: e.path, layer };
        if (target?.go) facts.go = target.go;
      }
    }
    const keep = facts.kept || facts.go || facts.worldWritable || facts.marker;
    this.fs.put(e.path, keep ? facts : undefined, false, layer);
  }

  private async keep(e: TarEntry, role: KeptRole, facts: PathFacts, digest: string): Promise<void> {
    const cap = this.limits.maxKeptFileBytes;
    if (e.size > cap) {
      e.skip();
      if (databaseRoles.has(role)) {
        throw new ScanError(
          'file-too-large',
          `${e.path} in layer ${shortDigest(digest)} is ${e.size} bytes, more than the ${cap}-byte limit for a package database; the package list cannot be read`,
          digest,
          e.path,
        );
      }
      this.warnings.push(`${e.path}: skipped, ${e.size} bytes is more than the ${cap}-byte limit`);
      return;
    }
    const parts: Buffer[] = [];
    let n = 0;
    for await (const c of e.body) {
      n += c.length;
      if (n <= cap) parts.push(c);
    }
    if (n > cap) return; // cannot happen with a well-formed header; never keep more than the cap
    const previous = this.fs.get(e.path)?.kept?.content.length ?? 0;
    this.keptBytes += n - previous;
    if (this.keptBytes > this.limits.maxKeptTotalBytes) {
      this.keptBytes = this.liveKeptBytes() + n - previous;
      if (this.keptBytes > this.limits.maxKeptTotalBytes) {
        throw new ScanError(
          'limit-exceeded',
          `the files the scanner keeps (package databases and manifests) exceed ${this.limits.maxKeptTotalBytes} bytes at ${e.path} in layer ${shortDigest(digest)}`,
          digest,
          e.path,
        );
      }
    }
    facts.kept = { path: e.path, role, content: Buffer.concat(parts, n), layer: facts.layer };
  }

  private liveKeptBytes(): number {
    let total = 0;
    for (const [, f] of this.fs.entries()) total += f.kept?.content.length ?? 0;
    return total;
  }

  /** Streams a regular file; if it is an ELF executable, looks for Go build info in it. */
  private async peekExecutable(e: TarEntry, facts: PathFacts): Promise<void> {
    let head: Buffer | undefined = Buffer.alloc(0);
    let scanner: GoBuildInfoScanner | undefined;
    for await (const c of e.body) {
      if (scanner) {
        scanner.push(c);
      } else if (head) {
        const h: Buffer = head.length === 0 && c.length >= 4 ? c : Buffer.concat([head, c]);
        if (h.length < 4) {
          head = h;
          continue;
        }
        head = undefined;
        if (h.subarray(0, 4).equals(ELF_MAGIC)) {
          scanner = new GoBuildInfoScanner(this.limits.maxKeptFileBytes);
          scanner.push(h);
        }
      }
    }
    if (!scanner) return;
    const r = scanner.finish();
    if (r.info) facts.go = r.info;
    else if (r.unreadable) this.warnings.push(`${e.path}: ${r.unreadable}`);
  }
}

/** Reads the layers bottom to top; throws ScanError on bad input or when a limit is exceeded. */
export async function readImageLayers(input: ImageLayersInput, limits: Partial<ScanLimits> = {}): Promise<ImageFiles> {
  const reader = new ImageReader(resolveLimits(limits));
  for (const [i, layer] of input.layers.entries()) await reader.readLayer(layer, i);
  return reader.result();
}
