import { crc32 } from 'node:zlib';
import yauzl from 'yauzl';

/** Larger than any OSV record; an entry beyond it is skipped, not held in memory. */
const MAX_ENTRY_BYTES = 16 * 1024 * 1024;

/** The file is not a readable zip (truncated, corrupt, or something else entirely). */
export class ZipReadError extends Error {}

/**
 * Hands each `.json` entry of a zip to `take`, one at a time and in order, reading the next entry
 * only once `take` is done: memory holds one record, whatever the size of the export. Each entry's
 * CRC-32 is checked (yauzl checks sizes, not checksums), so a damaged export fails instead of
 * importing garbled records. Errors thrown by `take` come out unchanged.
 */
export async function readZipJson(
  file: string,
  take: (name: string, text: string) => Promise<void>,
  skipped: (name: string, reason: string) => void = () => {},
  /** Entries to read (the others are passed over without decompressing them); default all. */
  only: (name: string) => boolean = () => true,
): Promise<void> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true, autoClose: true, validateEntrySizes: true, strictFileNames: false }, (err, opened) => {
      if (err) reject(new ZipReadError(`not a readable zip archive: ${err.message}`));
      else resolve(opened);
    });
  });
  await new Promise<void>((resolve, reject) => {
    let settled = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      try { zip.close(); } catch { /* already closed */ }
      reject(err);
    };
    const zipFailure = (err: Error) => fail(new ZipReadError(`not a readable zip archive: ${err.message}`));
    zip.on('error', zipFailure);
    zip.on('end', () => { if (!settled) { settled = true; resolve(); } });
    zip.on('entry', (entry: yauzl.Entry) => {
      const name = entry.fileName;
      if (name.endsWith('/') || !name.toLowerCase().endsWith('.json') || !only(name)) return zip.readEntry();
      if (entry.uncompressedSize > MAX_ENTRY_BYTES) {
        skipped(name, `larger than ${MAX_ENTRY_BYTES} bytes`);
        return zip.readEntry();
      }
      zip.openReadStream(entry, (err, stream) => {
        if (err) return zipFailure(err);
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('error', zipFailure);
        stream.on('end', () => {
          const bytes = Buffer.concat(chunks);
          if (crc32(bytes) !== entry.crc32) return zipFailure(new Error(`entry ${name} is damaged (its CRC-32 does not match)`));
          take(name, bytes.toString('utf8')).then(() => { if (!settled) zip.readEntry(); }, fail);
        });
      });
    });
    zip.readEntry();
  });
}
