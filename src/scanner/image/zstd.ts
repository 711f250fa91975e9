import { Decompress } from 'fzstd';

/**
 * Streaming zstd decompression (RFC 8878) with bounded memory. fzstd decodes, but it allocates
 * whatever window a frame header asks for (up to 2 GiB) and hands out everything one push
 * decodes at once (a few KiB of RLE blocks decode to GiBs). So the stream is walked here first,
 * frame header by block header, without decoding: each frame's window is checked against a
 * limit, and the decoder is fed one block at a time, so one push yields at most one block
 * (128 KiB). The walk also tells a truncated stream from a complete one.
 */

const FRAME_MAGIC = 0xfd2fb528;
const MAX_BLOCK = 128 * 1024;

export class ZstdFormatError extends Error {
  constructor(
    message: string,
    readonly kind: 'invalid' | 'truncated' | 'window',
  ) {
    super(message);
  }
}

type State =
  | { at: 'magic' }
  | { at: 'frame-header'; need: number } // bytes of the frame header after the magic, once known
  | { at: 'block-header' }
  | { at: 'block-body'; left: number; last: boolean }
  | { at: 'checksum'; left: number }
  | { at: 'skip'; left: number };

/** Splits a zstd stream at block ends and checks frame headers; see the module comment. */
export class ZstdFrameWalker {
  private state: State = { at: 'magic' };
  private head = Buffer.alloc(0); // partial header bytes carried across chunks (at most 18)
  private checksum = false;
  private frames = 0;

  constructor(private readonly maxWindow: number) {}

  /**
   * Returns the offsets in `chunk` just after each block that ends inside it (the points at
   * which the decoder can be pushed without producing more than one block of output).
   */
  walk(chunk: Buffer): number[] {
    const cuts: number[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      const s = this.state;
      switch (s.at) {
        case 'magic': {
          const h = this.take(chunk, pos, 4);
          pos = h.pos;
          if (!h.bytes) break;
          const magic = h.bytes.readUInt32LE(0);
          if (magic === FRAME_MAGIC) this.state = { at: 'frame-header', need: 0 };
          else if ((magic & 0xfffffff0) === 0x184d2a50) this.state = { at: 'skip', left: -1 };
          else throw new ZstdFormatError(this.frames === 0 ? 'not zstd data (bad magic number)' : 'garbage after a zstd frame', 'invalid');
          break;
        }
        case 'skip': {
          if (s.left < 0) {
            const h = this.take(chunk, pos, 4);
            pos = h.pos;
            if (h.bytes) s.left = h.bytes.readUInt32LE(0);
            if (s.left === 0) this.state = { at: 'magic' };
            break;
          }
          const n = Math.min(s.left, chunk.length - pos);
          pos += n;
          s.left -= n;
          if (s.left === 0) this.state = { at: 'magic' };
          break;
        }
        case 'frame-header': {
          if (s.need === 0) {
            const h = this.take(chunk, pos, 1, true);
            pos = h.pos;
            if (!h.bytes) break;
            const fhd = h.bytes[0]!;
            const single = (fhd >> 5) & 1;
            const fcsFlag = fhd >> 6;
            const dictFlag = fhd & 3;
            if (fhd & 8) throw new ZstdFormatError('invalid zstd frame header (reserved bit set)', 'invalid');
            this.checksum = ((fhd >> 2) & 1) === 1;
            s.need = 1 + (single ? 0 : 1) + [0, 1, 2, 4][dictFlag]! + (fcsFlag === 0 ? single : 1 << fcsFlag);
            break;
          }
          const h = this.take(chunk, pos, s.need);
          pos = h.pos;
          if (!h.bytes) break;
          this.checkWindow(h.bytes);
          this.frames++;
          this.state = { at: 'block-header' };
          break;
        }
        case 'block-header': {
          const h = this.take(chunk, pos, 3);
          pos = h.pos;
          if (!h.bytes) break;
          const v = h.bytes[0]! | (h.bytes[1]! << 8) | (h.bytes[2]! << 16);
          const last = (v & 1) === 1;
          const type = (v >> 1) & 3;
          const size = v >>> 3;
          if (type === 3) throw new ZstdFormatError('invalid zstd block type', 'invalid');
          if (size > MAX_BLOCK) throw new ZstdFormatError('zstd block larger than 128 KiB', 'invalid');
          const left = type === 1 ? 1 : size; // an RLE block stores one byte
          if (left === 0) {
            cuts.push(pos);
            this.endBlock(last);
          } else this.state = { at: 'block-body', left, last };
          break;
        }
        case 'block-body': {
          const n = Math.min(s.left, chunk.length - pos);
          pos += n;
          s.left -= n;
          if (s.left === 0) {
            cuts.push(pos);
            this.endBlock(s.last);
          }
          break;
        }
        case 'checksum': {
          const n = Math.min(s.left, chunk.length - pos);
          pos += n;
          s.left -= n;
          if (s.left === 0) this.state = { at: 'magic' };
          break;
        }
      }
    }
    return cuts;
  }

  /** Throws unless the stream ended at a frame boundary after at least one frame. */
  finish(): void {
    if (this.frames === 0 && this.state.at === 'magic' && this.head.length === 0) throw new ZstdFormatError('empty zstd stream', 'truncated');
    if (this.state.at !== 'magic' || this.head.length > 0) throw new ZstdFormatError('zstd stream ends in the middle of a frame', 'truncated');
  }

  private endBlock(last: boolean): void {
    if (!last) this.state = { at: 'block-header' };
    else if (this.checksum) this.state = { at: 'checksum', left: 4 };
    else this.state = { at: 'magic' };
  }

  /** Window_Size as RFC 8878 3.1.1.1.2 defines it; the frame content size for single-segment frames. */
  private checkWindow(hdr: Buffer): void {
    const fhd = hdr[0]!;
    const single = (fhd >> 5) & 1;
    const fcsFlag = fhd >> 6;
    let window: number;
    if (!single) {
      const wd = hdr[1]!;
      const base = 2 ** (10 + (wd >> 3));
      window = base + (base / 8) * (wd & 7);
    } else {
      const at = 1 + [0, 1, 2, 4][fhd & 3]!;
      const size = fcsFlag === 0 ? 1 : 1 << fcsFlag;
      window = 0;
      for (let i = size - 1; i >= 0; i--) window = window * 256 + hdr[at + i]!;
      if (size === 2) window += 256;
    }
    if (window > this.maxWindow) {
      throw new ZstdFormatError(`zstd frame asks for a ${window}-byte window, more than the ${this.maxWindow}-byte limit`, 'window');
    }
  }

  /**
   * Gathers `n` header bytes starting at `pos`, across chunks. With `keep`, the bytes stay in
   * the carry buffer (the frame header descriptor is read twice: to size the header, then whole).
   */
  private take(chunk: Buffer, pos: number, n: number, keep = false): { pos: number; bytes?: Buffer } {
    const want = n - this.head.length;
    const avail = Math.min(want, chunk.length - pos);
    this.head = Buffer.concat([this.head, chunk.subarray(pos, pos + avail)]);
    pos += avail;
    if (this.head.length < n) return { pos };
    const bytes = this.head;
    if (!keep) this.head = Buffer.alloc(0);
    return { pos, bytes };
  }
}

/** Decompresses a zstd stream; errors are ZstdFormatError. Output chunks are at most one block. */
export async function* zstdDecompress(source: AsyncIterable<Buffer>, maxWindow: number): AsyncGenerator<Buffer> {
  const walker = new ZstdFrameWalker(maxWindow);
  let out: Buffer[] = [];
  const decoder = new Decompress((data) => {
    if (data.length > 0) out.push(Buffer.from(data.buffer, data.byteOffset, data.length));
  });
  const push = (piece: Buffer, final: boolean): void => {
    try {
      decoder.push(piece, final);
    } catch (err) {
      throw new ZstdFormatError(`invalid zstd data (${err instanceof Error ? err.message : String(err)})`, 'invalid');
    }
  };
  for await (const chunk of source) {
    let from = 0;
    for (const cut of walker.walk(chunk)) {
      push(chunk.subarray(from, cut), false);
      from = cut;
      if (out.length > 0) {
        const ready = out;
        out = [];
        yield* ready;
      }
    }
    if (from < chunk.length) push(chunk.subarray(from), false);
  }
  walker.finish();
  push(new Uint8Array(0) as Buffer, true);
  yield* out;
}
