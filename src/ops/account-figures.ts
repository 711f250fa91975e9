import type { Kysely } from 'kysely';
import type { Database } from '../metadata/schema.js';
import { dayOf, namespaceReports, namespaceStorage, pullsPerDay, pushesPerDay, storagePerDay } from '../metadata/activity.js';
import { listExemptions } from '../metadata/exemptions.js';
import { exempts, isInForce, type Exemption, type ScanReport } from '../scanner/report.js';

const DAY_MS = 24 * 3600 * 1000;
export const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'NEGLIGIBLE', 'UNKNOWN'] as const;

export interface AccountFigures {
  /** Oldest first, every day of the period (days without activity count zero). */
  days: Array<{ day: string; pushes: number; pulls: number }>;
  /** Storage now, and at each day's snapshot (aligned with `days`; null: none that day). */
  namespaces: Array<{ name: string; storageBytes: number; history: Array<number | null> }>;
  /** Open (not exempt) vulnerabilities of the scanned images, by severity. */
  vulnerabilities: Record<(typeof SEVERITIES)[number], number>;
  scannedImages: number;
}

/**
 * The figures behind the console's pictures, for namespaces the caller reads whole: storage per
 * namespace, manifests pushed and images pulled per day, and open vulnerabilities by severity with
 * the account's exemptions applied as in each image's report.
 */
export async function accountFigures(db: Kysely<Database>, accountId: number, namespaces: string[], now: number, dayCount: number): Promise<AccountFigures> {
  const since = now - (dayCount - 1) * DAY_MS;
  const firstDay = dayOf(since);
  const pushes = await pushesPerDay(db, namespaces, Date.parse(`${firstDay}T00:00:00Z`));
  const pulls = await pullsPerDay(db, accountId, namespaces, firstDay);
  const days = Array.from({ length: dayCount }, (_, i) => {
    const day = dayOf(since + i * DAY_MS);
    return { day, pushes: pushes.get(day) ?? 0, pulls: pulls.get(day) ?? 0 };
  });

  const history = await storagePerDay(db, accountId, namespaces, firstDay);
  const storage = [];
  for (const name of namespaces) {
    const snapshots = history.get(name);
    storage.push({ name, storageBytes: await namespaceStorage(db, name), history: days.map((d) => snapshots?.get(d.day) ?? null) });
  }

  const exemptions = ((await listExemptions(db, accountId)) as Exemption[]).filter((e) => isInForce(e, now));
  const vulnerabilities = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as AccountFigures['vulnerabilities'];
  let scannedImages = 0;
  for (const name of namespaces) {
    for (const row of await namespaceReports(db, name)) {
      const report = JSON.parse(row.report) as ScanReport;
      scannedImages++;
      for (const v of report.vulnerabilities) {
        if (exemptions.some((e) => exempts(e, [v.advisoryId, ...v.aliases, ...v.cves], row.name, row.digest))) continue;
        vulnerabilities[v.severity in vulnerabilities ? v.severity : 'UNKNOWN']++;
      }
    }
  }
  return { days, namespaces: storage, vulnerabilities, scannedImages };
}
