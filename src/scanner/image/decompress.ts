import { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ScanError, shortDigest } from '../errors.js';
import { zstdDecompress, ZstdFormatError } from './zstd.js';

/**
 * A layer blob to tar bytes. The media type names the compression; the first bytes decide when
 * the media type names none or an unknown one (Docker's own pull sniffs the same way). A
 * declared compression the bytes do not carry is an error, not a guess.
 */

export type Compression = 'gzip' | 'zstd' | 'none';

const GZIP_MAGIC = [0x1f, 0x8b];
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

/** The compression a layer media type declares; undefined when it does not say (unknown type). */
export function declaredCompression(mediaType: string): Compression | undefined {
  const mt = mediaType.trim().toLowerCase();
  if (mt.endsWith('+gzip') || mt.endsWith('.tar.gzip') || mt === 'application/x-gzip' || mt === 'application/gzip') return 'gzip';
  if (mt.endsWith('+zstd') || mt === 'application/zstd') return 'zstd';
  if (mt.endsWith('.tar') || mt.endsWith('/tar') || mt === 'application/x-tar') return 'none';
  return undefined;
}

export function sniffCompression(head: Buffer): Compression | undefined {
  const starts = (m: number[]): boolean => m.every((b, i) => head[i] === b);
  if (starts(GZIP_MAGIC)) return 'gzip';
  if (starts(ZSTD_MAGIC)) return 'zstd';
  return undefined;
}

export interface DecodedLayer {
  compression: Compression;
  /** Tar bytes. Errors are ScanErrors naming the layer. */
  chunks: AsyncIterable<Buffer>;
  /** Compressed bytes read from the blob so far. */
  bytesRead(): number;
}

export interface LayerDescriptor {
  digest: string;
  mediaType: string;
}

/** Reads the first bytes (enough to sniff), then hands back every chunk in order, the first included. */
async function* withHead(it: AsyncIterator<Buffer>, head: Buffer[]): AsyncGenerator<Buffer> {
  try {
    yield* head;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  } finally {
    await it.return?.();
  }
}

export async function decodeLayer(layer: LayerDescriptor, raw: Readable, maxZstdWindow: number): Promise<DecodedLayer> {
  const name = shortDigest(layer.digest);
  let read = 0;
  const source = (async function* counted(): AsyncGenerator<Buffer> {
    try {
      for await (const c of raw) {
        const b = Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array);
        read += b.length;
        yield b;
      }
    } catch (err) {
      if (err instanceof ScanError) throw err;
      throw new ScanError('layer-unreadable', `layer ${name} could not be read from storage: ${message(err)}`, layer.digest);
    }
  })();

  const head: Buffer[] = [];
  let headLen = 0;
  while (headLen < 4) {
    const r = await source.next();
    if (r.done) break;
    head.push(r.value);
    headLen += r.value.length;
  }
  const first = Buffer.concat(head);
  const declared = declaredCompression(layer.mediaType);
  const sniffed = sniffCompression(first);
  if (headLen === 0) throw new ScanError('invalid-archive', `layer ${name} is empty, not a tar archive; re-push the image`, layer.digest);
  if ((declared === 'gzip' || declared === 'zstd') && sniffed !== declared) {
    throw new ScanError(
      'invalid-archive',
      `layer ${name} is declared as ${layer.mediaType} but its content is not ${declared} data; rebuild and re-push the image`,
      layer.digest,
    );
  }
  const compression: Compression = sniffed ?? 'none';
  const all = withHead(source, head);
  let chunks: AsyncIterable<Buffer>;
  if (compression === 'gzip') chunks = gunzip(all, layer);
  else if (compression === 'zstd') chunks = unzstd(all, layer, maxZstdWindow);
  else chunks = all;
  return { compression, chunks, bytesRead: () => read };
}

async function* gunzip(source: AsyncIterable<Buffer>, layer: LayerDescriptor): AsyncGenerator<Buffer> {
  const gz = createGunzip();
  pipeline(Readable.from(source, { objectMode: false }), gz, () => {});
  try {
    for await (const c of gz) yield c as Buffer;
  } catch (err) {
    if (err instanceof ScanError) throw err;
    const code = (err as { code?: string }).code;
    const name = shortDigest(layer.digest);
    if (code === 'Z_BUF_ERROR') throw new ScanError('truncated', `layer ${name}: the gzip stream ends early (truncated upload?); re-push the image`, layer.digest);
    throw new ScanError('invalid-archive', `layer ${name}: invalid gzip data (${message(err)}); rebuild and re-push the image`, layer.digest);
  } finally {
    gz.destroy();
  }
}

async function* unzstd(source: AsyncIterable<Buffer>, layer: LayerDescriptor, maxWindow: number): AsyncGenerator<Buffer> {
  try {
    yield* zstdDecompress(source, maxWindow);
  } catch (err) {
    if (!(err instanceof ZstdFormatError)) throw err;
    const name = shortDigest(layer.digest);
    if (err.kind === 'truncated') throw new ScanError('truncated', `layer ${name}: ${err.message} (truncated upload?); re-push the image`, layer.digest);
    if (err.kind === 'window') throw new ScanError('limit-exceeded', `layer ${name}: ${err.message}; recompress the layer with a smaller window (no --long)`, layer.digest);
    throw new ScanError('invalid-archive', `layer ${name}: ${err.message}; rebuild and re-push the image`, layer.digest);
  }
}

export function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
