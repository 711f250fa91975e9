/**
 * Blob bodies without client-side cost: one random 1 MiB block computed once, and blobs made of
 * a unique first block followed by that block repeated. Digests are computed before timing starts.
 */
import { createHash, randomBytes } from 'node:crypto';

const BLOCK = 1024 * 1024;
const base = randomBytes(BLOCK);

export interface BlobSpec {
  size: number;
  digest: string;
  /** The body as 1 MiB buffers (no copies: all but the first are the shared block). */
  chunks(): Generator<Buffer>;
}

let counter = 0;

function uniqueHead(size: number): Buffer {
  const head = Buffer.from(base.subarray(0, Math.min(BLOCK, size)));
  // A distinct prefix per blob: no server can deduplicate one push against another.
  head.write(`wharf-bench ${process.pid} ${++counter} ${Date.now()} `, 0, 'latin1');
  return head;
}

function* chunksOf(head: Buffer, size: number): Generator<Buffer> {
  yield head;
  let left = size - head.length;
  while (left > 0) {
    const n = Math.min(left, BLOCK);
    yield n === BLOCK ? base : base.subarray(0, n);
    left -= n;
  }
}

/** A blob of `size` bytes whose content no other blob of this run shares. */
export function makeBlob(size: number): BlobSpec {
  const head = uniqueHead(size);
  const hash = createHash('sha256');
  for (const chunk of chunksOf(head, size)) hash.update(chunk);
  return { size, digest: `sha256:${hash.digest('hex')}`, chunks: () => chunksOf(head, size) };
}

/** A small blob held whole (small-blob pushes send it in one write). */
export function makeSmallBlob(size: number): { bytes: Buffer; digest: string } {
  const bytes = uniqueHead(size);
  return { bytes, digest: sha256(bytes) };
}

export function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Byte ranges of `size` split in chunks of `chunkSize`, each as a generator of buffers. */
export function* splitChunks(blob: BlobSpec, chunkSize: number): Generator<{ start: number; end: number; body: Buffer[] }> {
  let pending: Buffer[] = [];
  let pendingSize = 0;
  let start = 0;
  for (const chunk of blob.chunks()) {
    let rest = chunk;
    while (rest.length > 0) {
      const take = Math.min(rest.length, chunkSize - pendingSize);
      pending.push(rest.subarray(0, take));
      pendingSize += take;
      rest = rest.subarray(take);
      if (pendingSize === chunkSize) {
        yield { start, end: start + pendingSize - 1, body: pending };
        start += pendingSize;
        pending = [];
        pendingSize = 0;
      }
    }
  }
  if (pendingSize > 0) yield { start, end: start + pendingSize - 1, body: pending };
}
