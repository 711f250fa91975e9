import type { Kysely } from 'kysely';
import type { Database, ScanResultTable, ScanState } from './schema.js';
import { yieldToRequests } from './yield.js';

type Db = Kysely<Database>;

/** A scan with its report (JSON ScanReport; null until a scan produced one). */
export type ScanRow = ScanResultTable & { report: string | null };

function scansWithReports(db: Db) {
  return db.selectFrom('scan_results as s').leftJoin('scan_reports as r', 'r.digest', 's.digest')
    .select(['s.digest', 's.state', 's.error', 's.scanned_at', 's.vulndb_import_id', 's.packages_indexed', 'r.report']);
}

export async function findScan(db: Db, digest: string): Promise<ScanRow | undefined> {
  return scansWithReports(db).where('s.digest', '=', digest).executeTakeFirst();
}

export async function findScans(db: Db, digests: string[]): Promise<Map<string, ScanRow>> {
  if (digests.length === 0) return new Map();
  const rows = await scansWithReports(db).where('s.digest', 'in', digests).execute();
  return new Map(rows.map((r) => [r.digest, r]));
}

/** Marks a digest as waiting for its first scan; an existing result stays until the new one replaces it. */
export async function markScanning(db: Db, digest: string): Promise<void> {
  await db.insertInto('scan_results').values({ digest, state: 'scanning', error: null, scanned_at: null, vulndb_import_id: null })
    .onConflict((oc) => oc.column('digest').doNothing()).execute();
}

/** Stores a scan's outcome and its report (or none), replacing what an earlier scan stored. */
export async function saveScan(db: Db, digest: string, result: { state: ScanState; report: string | null; error: string | null; scannedAt: number; vulndbImportId: number | null }): Promise<void> {
  const values = { state: result.state, error: result.error, scanned_at: result.scannedAt, vulndb_import_id: result.vulndbImportId };
  const store = async (trx: Db) => {
    await trx.insertInto('scan_results').values({ digest, ...values })
      .onConflict((oc) => oc.column('digest').doUpdateSet(values)).execute();
    if (result.report === null) {
      await trx.deleteFrom('scan_reports').where('digest', '=', digest).execute();
    } else {
      await trx.insertInto('scan_reports').values({ digest, report: result.report })
        .onConflict((oc) => oc.column('digest').doUpdateSet({ report: result.report! })).execute();
    }
  };
  // The scan job stores its result inside its own transaction; anyone else gets one here.
  if (db.isTransaction) await store(db);
  else await db.transaction().execute(store);
}

/** Digests with a scan result, artifacts left out (they are never scanned). */
export async function scannedDigests(db: Db): Promise<string[]> {
  const rows = await db.selectFrom('scan_results').select('digest').where('state', '!=', 'artifact').execute();
  return rows.map((r) => r.digest);
}

/** A repository that holds the manifest, to read its blobs from. */
export async function repositoryHolding(db: Db, digest: string): Promise<string | undefined> {
  const row = await db.selectFrom('manifests as m').innerJoin('repositories as r', 'r.id', 'm.repository_id')
    .select('r.name').where('m.digest', '=', digest).limit(1).executeTakeFirst();
  return row?.name;
}

export type { ScanState };

export interface ScanProgress {
  state: ScanState;
  scanned_at: number | null;
  hasReport: boolean;
}

/** Where the scans of these digests stand, without their reports (an image list reads a report only when it must). */
export async function findScanStates(db: Db, digests: string[]): Promise<Map<string, ScanProgress>> {
  const out = new Map<string, ScanProgress>();
  // In pages: SQLite binds at most a few thousand parameters per statement; requests run between them.
  for (let i = 0; i < digests.length; i += 500) {
    if (i > 0) await yieldToRequests();
    const rows = await db.selectFrom('scan_results as s').leftJoin('scan_reports as r', 'r.digest', 's.digest')
      .select(['s.digest', 's.state', 's.scanned_at', (eb) => eb.case().when('r.digest', 'is not', null).then(1).else(0).end().as('has_report')])
      .where('s.digest', 'in', digests.slice(i, i + 500)).execute();
    for (const r of rows) out.set(r.digest, { state: r.state, scanned_at: r.scanned_at === null ? null : Number(r.scanned_at), hasReport: Number(r.has_report) === 1 });
  }
  return out;
}

/** The stored reports of these digests (those that have one). */
export async function findReports(db: Db, digests: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let i = 0; i < digests.length; i += 500) {
    const rows = await db.selectFrom('scan_reports').select(['digest', 'report']).where('digest', 'in', digests.slice(i, i + 500)).execute();
    for (const r of rows) out.set(r.digest, r.report);
  }
  return out;
}
