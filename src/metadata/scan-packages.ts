import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

type Db = Kysely<Database>;

export interface PackageKey {
  ecosystem: string;
  name: string;
}

/** Replaces the names a scan of `digest` looked up, and marks the scan as indexed. */
export async function replaceScanPackages(db: Db, digest: string, keys: PackageKey[]): Promise<void> {
  await db.deleteFrom('scan_packages').where('digest', '=', digest).execute();
  const unique = new Map(keys.map((k) => [`${k.ecosystem}\u0000${k.name}`, k]));
  const rows = [...unique.values()].map((k) => ({ digest, ecosystem: k.ecosystem, name: k.name }));
  // PostgreSQL takes at most 65535 parameters a statement: a big image is written in slices.
  for (let i = 0; i < rows.length; i += 1000) await db.insertInto('scan_packages').values(rows.slice(i, i + 1000)).execute();
  await db.updateTable('scan_results').set({ packages_indexed: 1 }).where('digest', '=', digest).execute();
}

/** The ecosystems (as advisories name them: "Debian:12", "npm") the scanned images contain. */
export async function ecosystemsInUse(db: Db): Promise<string[]> {
  const rows = await db.selectFrom('scan_packages').select('ecosystem').distinct().orderBy('ecosystem').execute();
  return rows.map((r) => r.ecosystem);
}

/**
 * Scanned images containing any of the packages, plus the scanned images whose packages are not
 * indexed (scanned before the index existed): a change may touch those, so they count as touched.
 */
export async function digestsTouching(db: Db, keys: PackageKey[]): Promise<string[]> {
  const out = new Set<string>();
  const byEcosystem = new Map<string, string[]>();
  for (const k of keys) byEcosystem.set(k.ecosystem, [...(byEcosystem.get(k.ecosystem) ?? []), k.name]);
  for (const [ecosystem, names] of byEcosystem) {
    const unique = [...new Set(names)];
    for (let i = 0; i < unique.length; i += 1000) {
      const rows = await db.selectFrom('scan_packages as sp').innerJoin('scan_results as sr', 'sr.digest', 'sp.digest')
        .select('sp.digest').distinct()
        .where('sp.ecosystem', '=', ecosystem).where('sp.name', 'in', unique.slice(i, i + 1000)).where('sr.state', '!=', 'artifact')
        .execute();
      for (const r of rows) out.add(r.digest);
    }
  }
  if (keys.length > 0) {
    // An index has no report (its platforms are the images): nothing of its own to rescan.
    const unindexed = await db.selectFrom('scan_results as s').innerJoin('scan_reports as r', 'r.digest', 's.digest').select('s.digest')
      .where('s.packages_indexed', '=', 0).where('s.state', 'in', ['done', 'unsupported']).execute();
    for (const r of unindexed) out.add(r.digest);
  }
  return [...out].sort();
}
