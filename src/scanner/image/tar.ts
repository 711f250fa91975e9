import { extract as tarExtract, type Header } from 'tar-stream';
import { ScanError, shortDigest } from '../errors.js';
import type { ScanLimits } from './limits.js';

/**
 * Tar entries of one layer, streamed with tar-stream. tar-stream caps pax and GNU long-name
 * headers at 4 MiB and refuses headers with a bad checksum, so garbage is an error early; an
 * archive that ends inside an entry is reported as truncated.
 */

export type EntryKind = 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';

export interface TarEntry {
  /** Absolute, normalised: "/etc/os-release"; "/" for the root directory. */
  path: string;
  kind: EntryKind;
  mode: number;
  /** Declared size of the entry's data. */
  size: number;
  /** Target of a symlink or hard link, as stored (never followed). */
  linkname?: string;
  /** The entry's data; either iterate it to its end or call skip(), then ask for the next entry. */
  body: AsyncIterable<Buffer>;
  skip(): void;
}

function kindOf(type: Header['type'] | null | undefined): EntryKind {
  switch (type) {
    case 'file':
    case 'contiguous-file':
      return 'file';
    case 'directory':
      return 'directory';
    case 'symlink':
      return 'symlink';
    case 'link':
      return 'hardlink';
    default:
      return 'other';
  }
}

/**
 * "./usr//lib/../lib/x/" -> "/usr/lib/x". `..` is resolved lexically and never climbs above
 * the root: nothing is written to disk, the path only has to name the same file a runtime would.
 */
export function normalizeEntryPath(name: string): string {
  const parts: string[] = [];
  for (const p of name.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') parts.pop();
    else parts.push(p);
  }
  return `/${parts.join('/')}`;
}

function mapTarError(err: unknown, layer: string): ScanError {
  if (err instanceof ScanError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  const name = shortDigest(layer);
  if (/unexpected end of data/i.test(msg)) {
    return new ScanError('truncated', `layer ${name}: the tar archive ends in the middle of an entry (truncated upload?); re-push the image`, layer);
  }
  if (/exceeds max size/i.test(msg)) {
    return new ScanError('limit-exceeded', `layer ${name}: a tar extended header is larger than 4 MiB; the layer looks like a tar bomb`, layer);
  }
  return new ScanError('invalid-archive', `layer ${name} is not a valid tar archive (${msg}); rebuild and re-push the image`, layer);
}

/** An entry's data; a failure of the archive surfaces here too (the entry stream is destroyed with it). */
async function* mapBodyErrors(body: AsyncIterable<Buffer>, layer: string): AsyncGenerator<Buffer> {
  try {
    yield* body;
  } catch (err) {
    throw mapTarError(err, layer);
  }
}

export async function* tarEntries(chunks: AsyncIterable<Buffer>, layer: string, limits: ScanLimits): AsyncGenerator<TarEntry> {
  // v7 tars (no ustar magic) are still read; a header with a bad checksum is refused either way.
  const ex = tarExtract({ allowUnknownFormat: true } as Parameters<typeof tarExtract>[0]);
  let stopped = false;
  const feeding = (async (): Promise<void> => {
    try {
      for await (const c of chunks) {
        if (stopped || ex.destroyed) return;
        if (!ex.write(c)) {
          await new Promise<void>((resolve) => {
            const done = (): void => {
              ex.off('drain', done);
              ex.off('close', done);
              resolve();
            };
            ex.on('drain', done);
            ex.on('close', done);
          });
        }
      }
      if (!stopped && !ex.destroyed) ex.end(undefined);
    } catch (err) {
      ex.destroy(err as Error);
    }
  })();
  try {
    for await (const body of ex) {
      const h = body.header;
      const raw = h.name ?? '';
      if (Buffer.byteLength(raw) > limits.maxPathLength) {
        throw new ScanError(
          'limit-exceeded',
          `layer ${shortDigest(layer)}: an entry's path is longer than ${limits.maxPathLength} bytes; the layer looks like a tar bomb`,
          layer,
          raw.slice(0, 200),
        );
      }
      const path = normalizeEntryPath(raw);
      let depth = 0;
      for (let i = 0; i < path.length; i++) if (path.charCodeAt(i) === 47) depth++;
      if (depth > limits.maxPathDepth) {
        throw new ScanError(
          'limit-exceeded',
          `layer ${shortDigest(layer)}: an entry's path is deeper than ${limits.maxPathDepth} directories; the layer looks like a tar bomb`,
          layer,
          path.slice(0, 200),
        );
      }
      const entry: TarEntry = {
        path,
        kind: kindOf(h.type),
        mode: h.mode ?? 0,
        size: h.size ?? 0,
        body: mapBodyErrors(body as AsyncIterable<Buffer>, layer),
        skip: () => body.resume(),
      };
      if (h.linkname) entry.linkname = h.linkname;
      yield entry;
    }
  } catch (err) {
    throw mapTarError(err, layer);
  } finally {
    stopped = true;
    if (!ex.destroyed) ex.destroy();
    await feeding;
  }
}
