import Database from 'better-sqlite3';
import type { DetectedPackage } from './types.js';

/**
 * RPM packages from rpmdb.sqlite, the database rpm ≥ 4.16 keeps by default (Fedora ≥ 33,
 * RHEL 9, UBI 9): /var/lib/rpm/rpmdb.sqlite, or /usr/lib/sysimage/rpm/rpmdb.sqlite on Fedora
 * ≥ 36. Its Packages table holds one row per installed package whose blob is the package's
 * header as rpm's headerExport writes it (no lead, no header magic):
 *
 *   int32 il (index entries), int32 dl (data store bytes), il × {int32 tag, type, offset, count},
 *   then dl bytes of data; all big-endian, offsets relative to the data store.
 *
 * The database is untrusted input (it comes from a pushed layer): every header is bounds-checked
 * and anything malformed raises RpmdbError with the reason, never an out-of-range read.
 */

export class RpmdbError extends Error {
  override readonly name = 'RpmdbError';
}

const TAG_NAME = 1000;
const TAG_VERSION = 1001;
const TAG_RELEASE = 1002;
const TAG_EPOCH = 1003;
const TAG_ARCH = 1022;
const TAG_SOURCERPM = 1044;

const TYPE_INT32 = 4;
const TYPE_STRING = 6;
const TYPE_I18NSTRING = 9;

/** rpm's own bounds on an imported header (header_internal.h: HEADER_TAGS_MAX, HEADER_DATA_MAX). */
const MAX_INDEX_ENTRIES = 0xffff;
const MAX_DATA_BYTES = 0x0fffffff;
const ENTRY_BYTES = 16;

/** The fields the detector reads from one header. */
export interface RpmHeader {
  name: string;
  version: string;
  release: string;
  epoch?: number;
  arch?: string;
  sourceRpm?: string;
}

/** Parses one header blob (the Packages.blob column). Throws RpmdbError when it is malformed. */
export function parseRpmHeader(blob: Uint8Array): RpmHeader {
  const buf = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  if (buf.length < 8) throw new RpmdbError(`header is ${buf.length} bytes, shorter than its 8-byte preamble`);
  const il = buf.readUInt32BE(0);
  const dl = buf.readUInt32BE(4);
  if (il < 1 || il > MAX_INDEX_ENTRIES) throw new RpmdbError(`header claims ${il} index entries (1 to ${MAX_INDEX_ENTRIES} allowed)`);
  if (dl > MAX_DATA_BYTES) throw new RpmdbError(`header claims a ${dl}-byte data store (at most ${MAX_DATA_BYTES} allowed)`);
  const dataStart = 8 + il * ENTRY_BYTES;
  if (dataStart + dl > buf.length) {
    throw new RpmdbError(`header claims ${il} index entries and ${dl} data bytes (${dataStart + dl} bytes) but is ${buf.length} bytes`);
  }
  const data = buf.subarray(dataStart, dataStart + dl);

  const strings = new Map<number, string>();
  let epoch: number | undefined;
  for (let i = 0; i < il; i++) {
    const at = 8 + i * ENTRY_BYTES;
    const tag = buf.readUInt32BE(at);
    const type = buf.readUInt32BE(at + 4);
    const offset = buf.readUInt32BE(at + 8);
    const count = buf.readUInt32BE(at + 12);
    if (tag === TAG_EPOCH) {
      if (type !== TYPE_INT32) throw new RpmdbError(`EPOCH has type ${type}, not INT32`);
      if (count < 1 || offset + 4 > dl) throw new RpmdbError(`EPOCH at offset ${offset} is outside the ${dl}-byte data store`);
      epoch = data.readUInt32BE(offset);
    } else if (tag === TAG_NAME || tag === TAG_VERSION || tag === TAG_RELEASE || tag === TAG_ARCH || tag === TAG_SOURCERPM) {
      if (type !== TYPE_STRING && type !== TYPE_I18NSTRING) throw new RpmdbError(`tag ${tag} has type ${type}, not STRING`);
      if (offset >= dl) throw new RpmdbError(`tag ${tag} at offset ${offset} is outside the ${dl}-byte data store`);
      const end = data.indexOf(0, offset);
      if (end < 0) throw new RpmdbError(`tag ${tag} at offset ${offset} has no terminating NUL in the data store`);
      strings.set(tag, data.toString('utf8', offset, end));
    }
  }
  const name = strings.get(TAG_NAME);
  const version = strings.get(TAG_VERSION);
  const release = strings.get(TAG_RELEASE);
  if (!name) throw new RpmdbError('header has no NAME');
  if (version === undefined || release === undefined) throw new RpmdbError(`header of ${name} has no ${version === undefined ? 'VERSION' : 'RELEASE'}`);
  const out: RpmHeader = { name, version, release };
  if (epoch !== undefined) out.epoch = epoch;
  const arch = strings.get(TAG_ARCH);
  if (arch) out.arch = arch;
  const sourceRpm = strings.get(TAG_SOURCERPM);
  if (sourceRpm) out.sourceRpm = sourceRpm;
  return out;
}

/**
 * The source package's name from a SOURCERPM value: "openssl-3.0.7-27.el9.src.rpm" → "openssl".
 * Version and release never contain "-", so the name is everything before the last two dashes.
 */
export function sourceRpmName(sourceRpm: string): string | undefined {
  const m = /^(.+)-[^-]+-[^-]+\.(?:src|nosrc)\.rpm$/.exec(sourceRpm);
  return m?.[1];
}

/**
 * `[epoch:]version-release` as rpm prints %{EVR}: the epoch when the header has one (even 0),
 * nothing otherwise (rpm compares a missing epoch as 0).
 */
export function rpmEvr(h: Pick<RpmHeader, 'epoch' | 'version' | 'release'>): string {
  return `${h.epoch !== undefined ? `${h.epoch}:` : ''}${h.version}-${h.release}`;
}

/** The packages of an rpmdb.sqlite file. Throws RpmdbError when the file or a header is malformed. */
export function parseRpmdbSqlite(file: Buffer): DetectedPackage[] {
  if (file.length < 100 || file.subarray(0, 16).toString('latin1') !== 'SQLite format 3\0') {
    throw new RpmdbError('not an SQLite database');
  }
  // rpm leaves the database in WAL mode (header bytes 18 and 19 are 2), which SQLite cannot
  // open from memory; rpm checkpoints on close, so the main file holds every committed package.
  // A copy with the legacy-journal marks opens, and the layer's buffer stays as it was.
  const copy = Buffer.from(file);
  if (copy[18] === 2) copy[18] = 1;
  if (copy[19] === 2) copy[19] = 1;
  let db: Database.Database;
  try {
    db = new Database(copy, { readonly: true });
  } catch (err) {
    throw new RpmdbError(`cannot open the database: ${(err as Error).message}`);
  }
  try {
    let rows: unknown[];
    try {
      // A view (or a trigger-laden schema) named Packages could make a query cost anything:
      // read only a real table.
      const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'Packages'").get();
      if (!table) throw new RpmdbError('the database has no Packages table');
      rows = db.prepare('SELECT hnum, blob FROM Packages ORDER BY hnum').all();
    } catch (err) {
      if (err instanceof RpmdbError) throw err;
      throw new RpmdbError(`cannot read the Packages table: ${(err as Error).message}`);
    }
    const out: DetectedPackage[] = [];
    for (const row of rows) {
      const { hnum, blob } = row as { hnum: unknown; blob: unknown };
      if (!(blob instanceof Uint8Array)) throw new RpmdbError(`package ${String(hnum)}: blob is not a BLOB`);
      let h: RpmHeader;
      try {
        h = parseRpmHeader(blob);
      } catch (err) {
        throw new RpmdbError(`package ${String(hnum)}: ${(err as Error).message}`);
      }
      // Imported signing keys are stored as packages named gpg-pubkey; they are not software.
      if (h.name === 'gpg-pubkey') continue;
      const pkg: DetectedPackage = { type: 'rpm', name: h.name, version: rpmEvr(h) };
      const source = h.sourceRpm && sourceRpmName(h.sourceRpm);
      pkg.sourceName = source || h.name;
      if (h.arch) pkg.arch = h.arch;
      out.push(pkg);
    }
    return out;
  } finally {
    db.close();
  }
}
