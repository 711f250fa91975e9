import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import type { Kysely } from 'kysely';
import type { Database } from '../metadata/schema.js';
import * as advisories from '../metadata/advisories.js';
import { OsvFormatError, parseOsvRecord, type OsvRecord } from './osv/schema.js';
import { normalizePythonName } from './detectors/python.js';
import { idsOf } from './osv/aliases.js';

export interface ImportResult {
  records: number;
  changed: number;
  skipped: Array<{ file: string; reason: string }>;
  dataDate: string | null;
  importId: number;
}

/** One JSON file may hold one record or an array of them (OSV exports use both). */
function recordsIn(json: unknown): unknown[] {
  return Array.isArray(json) ? json : [json];
}

/** Advisory names as scans look them up (PyPI names are compared normalised). */
function indexName(ecosystem: string, name: string): string {
  return ecosystem === 'PyPI' ? normalizePythonName(name) : name;
}

/**
 * The vulnerability database: OSV records imported from a directory, a JSON file or a tar(.gz)
 * archive into the metadata store. Importing the same data twice changes nothing.
 */
export class VulnDb {
  constructor(private readonly db: Kysely<Database>, private readonly now: () => number) {}

  async import(source: string): Promise<ImportResult> {
    const result: Omit<ImportResult, 'importId' | 'dataDate'> = { records: 0, changed: 0, skipped: [] };
    const take = async (file: string, text: string) => {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (err) {
        result.skipped.push({ file, reason: `not JSON: ${(err as Error).message}` });
        return;
      }
      for (const raw of recordsIn(json)) {
        let record: OsvRecord;
        try {
          record = parseOsvRecord(raw);
        } catch (err) {
          if (err instanceof OsvFormatError) {
            result.skipped.push({ file, reason: err.message });
            continue;
          }
          throw err;
        }
        result.records++;
        if (await this.store(record)) result.changed++;
      }
    };
    const info = await stat(source).catch(() => undefined);
    if (!info) throw new Error(`${source} does not exist`);
    if (info.isDirectory()) {
      for (const file of await jsonFilesUnder(source)) await take(path.relative(source, file), await readFile(file, 'utf8'));
    } else if (/\.json$/i.test(source)) {
      await take(path.basename(source), await readFile(source, 'utf8'));
    } else if (/\.(tar|tar\.gz|tgz)$/i.test(source)) {
      await readTarJson(source, take);
    } else {
      throw new Error(`${source}: give a directory of OSV JSON files, a .json file, or a .tar, .tar.gz or .tgz archive of them`);
    }
    const dataDate = await advisories.newestModified(this.db);
    const importId = await advisories.insertImport(this.db, { imported_at: this.now(), source: path.resolve(source), records: result.records, changed: result.changed, data_date: dataDate });
    return { ...result, dataDate, importId };
  }

  /** Stores the record unless the same version (by `modified`) is already there; true when it changed. */
  private async store(record: OsvRecord): Promise<boolean> {
    const current = await advisories.findAdvisoryModified(this.db, record.id);
    if (current === record.modified) return false;
    const packages = record.affected
      .filter((a) => a.package)
      .map((a) => ({ ecosystem: a.package!.ecosystem, name: indexName(a.package!.ecosystem, a.package!.name) }));
    await this.db.transaction().execute((trx) => advisories.upsertAdvisory(trx, record.id, record.modified, JSON.stringify(record.raw), packages, idsOf(record)));
    return true;
  }

  async lookup(ecosystem: string, name: string): Promise<OsvRecord[]> {
    const texts = await advisories.advisoriesFor(this.db, ecosystem, indexName(ecosystem, name), { subEcosystems: ecosystem.startsWith('Red Hat:') });
    return texts.map((t) => parseOsvRecord(JSON.parse(t)));
  }

  /** Loaded records that go by any of these IDs: other databases' records of the same vulnerability. */
  async aliases(ids: string[]): Promise<OsvRecord[]> {
    return (await advisories.advisoriesSharingIds(this.db, ids)).map((t) => parseOsvRecord(JSON.parse(t)));
  }

  async status() {
    const latest = await advisories.latestImport(this.db);
    return {
      advisories: await advisories.countAdvisories(this.db),
      dataDate: latest?.data_date ?? null,
      lastImport: latest ? { at: new Date(Number(latest.imported_at)).toISOString(), source: latest.source, records: latest.records, changed: latest.changed, id: latest.id } : null,
      ecosystems: await advisories.countByEcosystem(this.db),
    };
  }

  async currentImportId(): Promise<number | null> {
    return (await advisories.latestImport(this.db))?.id ?? null;
  }
}

async function jsonFilesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...await jsonFilesUnder(full));
    else if (entry.isFile() && entry.name.toLowerCase().endsWith('.json')) out.push(full);
  }
  return out.sort();
}

/** Streams a tar(.gz) and hands each .json entry (up to 16 MiB) to `take`. */
async function readTarJson(file: string, take: (name: string, text: string) => Promise<void>): Promise<void> {
  const { default: tar } = await import('tar-stream'); // only an archive import needs it, not the server's start
  const extract = tar.extract();
  const done = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of entry) {
        size += (chunk as Buffer).length;
        if (size <= 16 * 1024 * 1024) chunks.push(chunk as Buffer);
      }
      if (entry.header.type === 'file' && entry.header.name.toLowerCase().endsWith('.json') && size <= 16 * 1024 * 1024) {
        await take(entry.header.name, Buffer.concat(chunks).toString('utf8'));
      }
    }
  })();
  const source = createReadStream(file);
  await Promise.all([
    /\.(tar\.gz|tgz)$/i.test(file) ? pipeline(source, createGunzip(), extract) : pipeline(source, extract),
    done,
  ]);
}
