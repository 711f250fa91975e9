import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import type { Kysely } from 'kysely';
import type { Database } from '../metadata/schema.js';
import * as advisories from '../metadata/advisories.js';
import * as feedSources from '../metadata/vulndb-sources.js';
import { OsvFormatError, parseOsvRecord, type OsvRecord } from './osv/schema.js';
import { normalizePythonName } from './detectors/python.js';
import { idsOf } from './osv/aliases.js';
import type { PackageKey } from '../metadata/scan-packages.js';
import { readZipJson } from './feed/zip-entries.js';

export interface ImportResult {
  records: number;
  changed: number;
  /** Advisories removed because their publisher withdrew them (counted in `changed` too). */
  withdrawn: number;
  skipped: Array<{ file: string; reason: string }>;
  dataDate: string | null;
  importId: number;
  /** The packages the changed advisories name (before and after the change): whose images need a rescan. */
  touched: PackageKey[];
}

/** What reading one export did to the loaded advisories, before it is recorded as an import. */
export type Ingested = Omit<ImportResult, 'importId' | 'dataDate'>;

/** One JSON file may hold one record or an array of them (OSV exports use both). */
function recordsIn(json: unknown): unknown[] {
  return Array.isArray(json) ? json : [json];
}

/** Advisory names as scans look them up (PyPI names are compared normalised). */
export function indexName(ecosystem: string, name: string): string {
  return ecosystem === 'PyPI' ? normalizePythonName(name) : name;
}

/**
 * Applies OSV records to the loaded advisories: a new `modified` replaces a record, the same one
 * changes nothing, a withdrawn record is removed. Remembers which packages the changes name.
 */
class Ingest {
  readonly result: Ingested = { records: 0, changed: 0, withdrawn: 0, skipped: [], touched: [] };
  private readonly touched = new Map<string, PackageKey>();

  constructor(private readonly db: Kysely<Database>) {}

  readonly take = async (file: string, text: string): Promise<void> => {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      this.result.skipped.push({ file, reason: `not JSON: ${(err as Error).message}` });
      return;
    }
    for (const raw of recordsIn(json)) {
      let record: OsvRecord;
      try {
        record = parseOsvRecord(raw);
      } catch (err) {
        if (err instanceof OsvFormatError) {
          this.result.skipped.push({ file, reason: err.message });
          continue;
        }
        throw err;
      }
      this.result.records++;
      if (await this.store(record)) this.result.changed++;
    }
  };

  readonly skip = (file: string, reason: string): void => { this.result.skipped.push({ file, reason }); };

  finish(): Ingested {
    return { ...this.result, touched: [...this.touched.values()] };
  }

  /** Stores the record unless the same version (by `modified`) is already there; true when it changed. */
  private async store(record: OsvRecord): Promise<boolean> {
    const current = await advisories.findAdvisoryModified(this.db, record.id);
    if (record.withdrawn) {
      if (current === undefined) return false;
      this.touch(await advisories.packagesOfAdvisory(this.db, record.id));
      await this.write((db) => advisories.deleteAdvisory(db, record.id));
      this.result.withdrawn++;
      return true;
    }
    if (current === record.modified) return false;
    const packages = record.affected
      .filter((a) => a.package)
      .map((a) => ({ ecosystem: a.package!.ecosystem, name: indexName(a.package!.ecosystem, a.package!.name) }));
    if (current !== undefined) this.touch(await advisories.packagesOfAdvisory(this.db, record.id));
    this.touch(packages);
    await this.write((db) => advisories.upsertAdvisory(db, record.id, record.modified, JSON.stringify(record.raw), packages, idsOf(record)));
    return true;
  }

  /** One record's rows change together; inside an export's transaction they are part of it. */
  private async write(change: (db: Kysely<Database>) => Promise<unknown>): Promise<void> {
    if (this.db.isTransaction) await change(this.db);
    else await this.db.transaction().execute(change);
  }

  private touch(keys: PackageKey[]): void {
    for (const k of keys) this.touched.set(`${k.ecosystem}\u0000${k.name}`, { ecosystem: k.ecosystem, name: k.name });
  }
}

/**
 * The vulnerability database: OSV records imported from a directory, a JSON file, a tar(.gz) or
 * a zip archive (OSV's own export format) into the metadata store. Importing the same data twice
 * changes nothing.
 */
export class VulnDb {
  /** `staleAfterMs`: data not confirmed current for longer than this is flagged in reports (scanner.staleAfter). */
  constructor(private readonly db: Kysely<Database>, private readonly now: () => number, private readonly staleAfterMs = 7 * 86_400_000) {}

  async import(source: string): Promise<ImportResult> {
    const info = await stat(source).catch(() => undefined);
    if (!info) throw new Error(`${source} does not exist`);
    let ingested: Ingested;
    if (info.isDirectory()) {
      const ingest = new Ingest(this.db);
      for (const file of await jsonFilesUnder(source)) await ingest.take(path.relative(source, file), await readFile(file, 'utf8'));
      ingested = ingest.finish();
    } else if (/\.json$/i.test(source)) {
      const ingest = new Ingest(this.db);
      await ingest.take(path.basename(source), await readFile(source, 'utf8'));
      ingested = ingest.finish();
    } else if (/\.(tar|tar\.gz|tgz)$/i.test(source)) {
      const ingest = new Ingest(this.db);
      await readTarJson(source, ingest.take);
      ingested = ingest.finish();
    } else if (/\.zip$/i.test(source)) {
      ingested = await this.ingestZip(source);
    } else {
      throw new Error(`${source}: give a directory of OSV JSON files, a .json file, a .zip (as OSV exports them), or a .tar, .tar.gz or .tgz archive of them`);
    }
    return this.recordImport(path.resolve(source), ingested);
  }

  /**
   * Reads a zip of OSV records in two passes. The first, outside any transaction, reads and checks
   * the whole archive and finds the entries whose record would change the data (a damaged archive
   * stops here: ZipReadError, nothing changed). The second applies only those entries, in one
   * transaction: the export goes in whole or not at all, and the database (SQLite's one
   * connection included) is held only as long as the changes take, not the whole export.
   */
  async ingestZip(file: string, stop?: AbortSignal): Promise<Ingested> {
    const skipped: Ingested['skipped'] = [];
    const changing = new Set<string>();
    let records = 0;
    let batch: Array<{ entry: string; id: string; modified: string; withdrawn: boolean }> = [];
    const compare = async () => {
      const loaded = await advisories.modifiedOf(this.db, [...new Set(batch.map((r) => r.id))]);
      for (const r of batch) {
        const current = loaded.get(r.id);
        if (r.withdrawn ? current !== undefined : current !== r.modified) changing.add(r.entry);
      }
      batch = [];
    };
    await readZipJson(file, async (entry, text) => {
      // A server shutting down stops between records; nothing has been written yet.
      stop?.throwIfAborted();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (err) {
        skipped.push({ file: entry, reason: `not JSON: ${(err as Error).message}` });
        return;
      }
      for (const raw of recordsIn(json)) {
        try {
          const record = parseOsvRecord(raw);
          records++;
          batch.push({ entry, id: record.id, modified: record.modified, withdrawn: Boolean(record.withdrawn) });
        } catch (err) {
          if (!(err instanceof OsvFormatError)) throw err;
          skipped.push({ file: entry, reason: err.message });
        }
      }
      if (batch.length >= 500) await compare();
    }, (entry, reason) => skipped.push({ file: entry, reason }));
    await compare();
    if (changing.size === 0) return { records, changed: 0, withdrawn: 0, skipped, touched: [] };
    const applied = await this.db.transaction().execute(async (trx) => {
      const ingest = new Ingest(trx);
      await readZipJson(file, async (name, text) => {
        stop?.throwIfAborted();
        await ingest.take(name, text);
      }, undefined, (name) => changing.has(name));
      return ingest.finish();
    });
    return { ...applied, records, skipped };
  }

  /** Notes an import that changed the data (scans compare their import id with the newest). */
  async recordImport(source: string, ingested: Ingested): Promise<ImportResult> {
    const dataDate = await advisories.newestModified(this.db);
    const importId = await advisories.insertImport(this.db, { imported_at: this.now(), source, records: ingested.records, changed: ingested.changed, data_date: dataDate });
    return { ...ingested, dataDate, importId };
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
    const now = this.now();
    const freshness = await this.freshness();
    return {
      advisories: await advisories.countAdvisories(this.db),
      dataDate: latest?.data_date ?? null,
      lastImport: latest ? { at: new Date(Number(latest.imported_at)).toISOString(), source: latest.source, records: latest.records, changed: latest.changed, id: latest.id } : null,
      ecosystems: await advisories.countByEcosystem(this.db),
      /** When an import or a sync last confirmed the data current, and whether that is too long ago. */
      checkedAt: freshness.checkedAt === null ? null : new Date(freshness.checkedAt).toISOString(),
      stale: freshness.stale,
      staleAfterSeconds: Math.round(this.staleAfterMs / 1000),
      sources: (await feedSources.listSources(this.db)).map((s) => ({
        name: s.name,
        url: s.url,
        lastSync: s.last_success_at === null ? null : new Date(Number(s.last_success_at)).toISOString(),
        ageSeconds: s.last_success_at === null ? null : Math.max(0, Math.round((now - Number(s.last_success_at)) / 1000)),
        lastChanged: s.last_changed_at === null ? null : new Date(Number(s.last_changed_at)).toISOString(),
        records: Number(s.records),
        etag: s.etag,
        lastModified: s.last_modified,
        lastAttempt: s.last_attempt_at === null ? null : new Date(Number(s.last_attempt_at)).toISOString(),
        lastError: s.last_error,
      })),
    };
  }

  /**
   * How current the data is: the newest of the last import and the last sync that read or
   * confirmed an export. No data at all is stale too: "No Issues" against nothing means little.
   */
  async freshness(): Promise<{ checkedAt: number | null; stale: boolean; note: string | null }> {
    const latest = await advisories.latestImport(this.db);
    const synced = await feedSources.lastSuccessAt(this.db);
    const times = [latest ? Number(latest.imported_at) : null, synced].filter((t): t is number => t !== null);
    const checkedAt = times.length > 0 ? Math.max(...times) : null;
    const stale = checkedAt === null || this.now() - checkedAt > this.staleAfterMs;
    const limit = `${Math.round(this.staleAfterMs / 3_600_000)} h (scanner.staleAfter)`;
    const note = !stale ? null : checkedAt === null
      ? 'no vulnerability data has been loaded: findings are missing; run wharf vulndb sync (or wharf vulndb import)'
      : `the vulnerability data was last updated ${new Date(checkedAt).toISOString()}, longer ago than ${limit}: newer advisories are missing; see wharf vulndb status`;
    return { checkedAt, stale, note };
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
