/**
 * Go build information embedded in Go binaries (what `go version -m` prints), read the way
 * Go's debug/buildinfo does: find the "\xff Go buildinf:" header, then either
 *  - Go >= 1.18 (flag bit 2): the Go version and module info follow inline as uvarint-length strings;
 *  - older: two pointers to Go string headers, resolved through the ELF program headers.
 * The module info lists the main module and every `dep` with its version, which is what Go
 * advisories (ecosystem "Go") are matched against; the toolchain version is matched as `stdlib`.
 */

export interface GoModule {
  path: string;
  version: string;
  sum?: string;
  /** Set when the dependency was replaced (`=>` line); the replacement is what was built. */
  replace?: GoModule;
}

export interface GoBuildInfo {
  goVersion: string;
  path?: string;
  main?: GoModule;
  deps: GoModule[];
  settings: Record<string, string>;
}

/** The 14 bytes that open the build info header. */
export const BUILDINFO_MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');
const MAGIC = BUILDINFO_MAGIC;
const HEADER_SIZE = 32;
const ALIGN = 16;
const MAX_STRING = 1 << 20; // module info of real binaries is a few KiB; refuse absurd lengths
/** The most bytes, from the magic on, that the inline (Go >= 1.18) format can need. */
export const MAX_INLINE_BUILDINFO_BYTES = HEADER_SIZE + 2 * (10 + MAX_STRING);

class Malformed extends Error {}
class Incomplete extends Error {}

function uvarint(buf: Buffer, pos: number): [number, number] {
  let x = 0;
  let shift = 0;
  for (let i = pos; i < pos + 10; i++) {
    if (i >= buf.length) throw new Incomplete('uvarint runs past the data');
    const b = buf[i]!;
    x += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [x, i + 1];
    shift += 7;
  }
  throw new Malformed('bad uvarint');
}

function inlineString(buf: Buffer, pos: number): [string, number] {
  const [len, start] = uvarint(buf, pos);
  if (len > MAX_STRING) throw new Malformed('string too long');
  if (start + len > buf.length) throw new Incomplete('string runs past the data');
  return [buf.toString('utf8', start, start + len), start + len];
}

interface Segment {
  vaddr: bigint;
  offset: bigint;
  filesz: bigint;
}

/** PT_LOAD segments of an ELF file, to turn the old format's virtual addresses into file offsets. */
function elfSegments(buf: Buffer): { segments: Segment[]; bigEndian: boolean } | undefined {
  if (buf.length < 52 || buf.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const is64 = buf[4] === 2;
  const be = buf[5] === 2;
  const u16 = (o: number): number => (be ? buf.readUInt16BE(o) : buf.readUInt16LE(o));
  const u32 = (o: number): bigint => BigInt(be ? buf.readUInt32BE(o) : buf.readUInt32LE(o));
  const u64 = (o: number): bigint => (be ? buf.readBigUInt64BE(o) : buf.readBigUInt64LE(o));
  const phoff = Number(is64 ? u64(0x20) : u32(0x1c));
  const phentsize = u16(is64 ? 0x36 : 0x2a);
  const phnum = u16(is64 ? 0x38 : 0x2c);
  const segments: Segment[] = [];
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (p + (is64 ? 56 : 32) > buf.length) break;
    if (Number(u32(p)) !== 1 /* PT_LOAD */) continue;
    segments.push(
      is64
        ? { offset: u64(p + 8), vaddr: u64(p + 16), filesz: u64(p + 32) }
        : { offset: u32(p + 4), vaddr: u32(p + 8), filesz: u32(p + 16) },
    );
  }
  return { segments, bigEndian: be };
}

function pointerString(buf: Buffer, hdr: number, ptrSize: number, bigEndian: boolean): [string, string] {
  const elf = elfSegments(buf);
  if (!elf) throw new Malformed('pre-1.18 build info is only read from ELF binaries');
  const readPtr = (off: number): bigint => {
    if (off < 0 || off + ptrSize > buf.length) throw new Malformed('pointer out of range');
    if (ptrSize === 8) return bigEndian ? buf.readBigUInt64BE(off) : buf.readBigUInt64LE(off);
    return BigInt(bigEndian ? buf.readUInt32BE(off) : buf.readUInt32LE(off));
  };
  const toOffset = (addr: bigint, len: bigint): number => {
    for (const s of elf.segments) {
      if (addr >= s.vaddr && addr + len <= s.vaddr + s.filesz) return Number(s.offset + (addr - s.vaddr));
    }
    throw new Malformed('address not in the file');
  };
  const readGoString = (addr: bigint): string => {
    const h = toOffset(addr, BigInt(2 * ptrSize));
    const data = readPtr(h);
    const len = readPtr(h + ptrSize);
    if (len > BigInt(MAX_STRING)) throw new Malformed('string too long');
    if (len === 0n) return '';
    const at = toOffset(data, len);
    return buf.toString('utf8', at, at + Number(len));
  };
  return [readGoString(readPtr(hdr + 16)), readGoString(readPtr(hdr + 16 + ptrSize))];
}

/** The module text is framed by 16-byte sentinels; anything else means no module info (GOPATH builds). */
function stripSentinels(mod: string): string {
  return mod.length >= 33 && mod[mod.length - 17] === '\n' ? mod.slice(16, -16) : '';
}

function parseModuleText(text: string, info: GoBuildInfo): void {
  let last: GoModule | undefined;
  for (const line of text.split('\n')) {
    const f = line.split('\t');
    const mod = (): GoModule => {
      const m: GoModule = { path: f[1] ?? '', version: f[2] ?? '' };
      if (f[3]) m.sum = f[3];
      return m;
    };
    switch (f[0]) {
      case 'path':
        info.path = f[1] ?? '';
        break;
      case 'mod':
        last = info.main = mod();
        break;
      case 'dep':
        last = mod();
        info.deps.push(last);
        break;
      case '=>':
        if (last) last.replace = mod();
        break;
      case 'build': {
        const kv = f.slice(1).join('\t');
        const eq = kv.indexOf('=');
        if (eq > 0) info.settings[kv.slice(0, eq)] = kv.slice(eq + 1);
        break;
      }
    }
  }
}

function findHeader(buf: Buffer): number {
  // Go looks for the magic 16-byte aligned within the data section; sections start aligned in
  // practice, so file-offset alignment is tried first, then any match.
  let first = -1;
  for (let i = buf.indexOf(MAGIC); i >= 0; i = buf.indexOf(MAGIC, i + 1)) {
    if (buf.length - i < HEADER_SIZE) break;
    if (i % ALIGN === 0) return i;
    if (first < 0) first = i;
  }
  return first;
}

export type BuildInfoHeaderResult =
  | { status: 'ok'; info: GoBuildInfo }
  /** The data ends before the inline strings do: give more bytes after the magic. */
  | { status: 'incomplete' }
  /** Go < 1.18: the header holds pointers into the binary, so only the whole binary can be read. */
  | { status: 'pointer-format' }
  /** Not build info (the magic also occurs as data, e.g. in binaries that link debug/buildinfo). */
  | { status: 'invalid' };

function buildInfo(goVersion: string, mod: string): GoBuildInfo | undefined {
  if (!goVersion.startsWith('go')) return undefined;
  const info: GoBuildInfo = { goVersion, deps: [], settings: {} };
  parseModuleText(stripSentinels(mod), info);
  return info;
}

/**
 * Reads build info from the bytes that start at the magic, for a scanner that sees a binary as
 * a stream: the inline format (Go >= 1.18) needs only the header and the two strings after it
 * (at most MAX_INLINE_BUILDINFO_BYTES), so a binary of any size is read in one pass.
 */
export function parseGoBuildInfoHeader(data: Buffer): BuildInfoHeaderResult {
  if (data.length < HEADER_SIZE) return { status: 'incomplete' };
  if (!data.subarray(0, MAGIC.length).equals(MAGIC)) return { status: 'invalid' };
  const ptrSize = data[14]!;
  const flags = data[15]!;
  if (!(flags & 2)) return ptrSize === 4 || ptrSize === 8 ? { status: 'pointer-format' } : { status: 'invalid' };
  try {
    const [goVersion, pos] = inlineString(data, HEADER_SIZE);
    if (!goVersion.startsWith('go')) return { status: 'invalid' };
    const [mod] = inlineString(data, pos);
    const info = buildInfo(goVersion, mod);
    return info ? { status: 'ok', info } : { status: 'invalid' };
  } catch (err) {
    if (err instanceof Incomplete) return { status: 'incomplete' };
    if (err instanceof Malformed || err instanceof RangeError) return { status: 'invalid' };
    throw err;
  }
}

/** Reads the build info of a Go binary; undefined when it is not a Go binary or the info is unreadable. */
export function parseGoBuildInfo(binary: Buffer): GoBuildInfo | undefined {
  const hdr = findHeader(binary);
  if (hdr < 0) return undefined;
  const ptrSize = binary[hdr + 14]!;
  const flags = binary[hdr + 15]!;
  if (flags & 2) {
    const r = parseGoBuildInfoHeader(binary.subarray(hdr));
    return r.status === 'ok' ? r.info : undefined;
  }
  try {
    if (ptrSize !== 4 && ptrSize !== 8) return undefined;
    const [goVersion, mod] = pointerString(binary, hdr, ptrSize, (flags & 1) === 1);
    return buildInfo(goVersion, mod);
  } catch (err) {
    if (err instanceof Malformed || err instanceof RangeError) return undefined;
    throw err;
  }
}
