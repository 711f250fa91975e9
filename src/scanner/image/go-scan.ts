import {
  BUILDINFO_MAGIC,
  MAX_INLINE_BUILDINFO_BYTES,
  parseGoBuildInfo,
  parseGoBuildInfoHeader,
  type GoBuildInfo,
} from '../detectors/go-buildinfo.js';

const EMPTY = Buffer.alloc(0);
const OVERLAP = BUILDINFO_MAGIC.length - 1;

/**
 * Finds Go build info in an executable as it streams past, in one pass and bounded memory: a
 * sliding window of 13 bytes finds the magic across chunk boundaries; from a candidate magic on,
 * bytes are kept only until the inline (Go >= 1.18) strings are complete. A candidate that does
 * not parse (the magic also occurs as data) is skipped and the search goes on after it.
 * Go < 1.18 headers point elsewhere in the binary, so those are read only from binaries small
 * enough to have been kept whole (`wholeCap`).
 */
export class GoBuildInfoScanner {
  private window: Buffer = EMPTY;
  private tail: Buffer | undefined;
  private whole: Buffer[] | undefined = [];
  private wholeLen = 0;
  private pointerFormat = false;
  private info: GoBuildInfo | undefined;

  constructor(private readonly wholeCap: number) {}

  push(chunk: Buffer): void {
    if (this.info) return;
    if (this.whole) {
      if (this.wholeLen + chunk.length <= this.wholeCap) {
        this.whole.push(chunk);
        this.wholeLen += chunk.length;
      } else this.whole = undefined;
    }
    this.feed(chunk);
  }

  /** The build info found, or why a Go binary's build info could not be read. */
  finish(): { info?: GoBuildInfo; unreadable?: string } {
    if (this.info) return { info: this.info };
    if (this.pointerFormat) {
      if (this.whole) {
        const info = parseGoBuildInfo(Buffer.concat(this.whole, this.wholeLen));
        this.whole = undefined;
        if (info) return { info };
      } else {
        return { unreadable: `Go < 1.18 build info is only read from binaries up to ${this.wholeCap} bytes` };
      }
    }
    return {};
  }

  private feed(data: Buffer): void {
    while (data.length > 0 && !this.info) {
      if (this.tail) {
        const buf = this.tail.length ? Buffer.concat([this.tail, data]) : data;
        data = EMPTY;
        const r = parseGoBuildInfoHeader(buf);
        if (r.status === 'ok') {
          this.info = r.info;
          this.tail = undefined;
          this.whole = undefined;
          return;
        }
        if (r.status === 'incomplete' && buf.length < MAX_INLINE_BUILDINFO_BYTES) {
          this.tail = Buffer.from(buf); // a copy: do not pin the decoder's chunk
          return;
        }
        if (r.status === 'pointer-format') this.pointerFormat = true;
        // Not inline build info: search on from the byte after this magic.
        this.tail = undefined;
        this.window = EMPTY;
        data = buf.subarray(1);
        continue;
      }
      if (this.window.length > 0) {
        const joint = Buffer.concat([this.window, data.subarray(0, OVERLAP)]);
        const at = joint.indexOf(BUILDINFO_MAGIC);
        if (at >= 0) {
          data = Buffer.concat([this.window.subarray(at), data]);
          this.window = EMPTY;
          this.tail = EMPTY;
          continue;
        }
      }
      const at = data.indexOf(BUILDINFO_MAGIC);
      if (at >= 0) {
        this.window = EMPTY;
        this.tail = EMPTY;
        data = data.subarray(at);
        continue;
      }
      this.window =
        data.length >= OVERLAP ? Buffer.from(data.subarray(data.length - OVERLAP)) : Buffer.concat([this.window, data]).subarray(-OVERLAP);
      return;
    }
  }
}
