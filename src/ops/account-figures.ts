import type { Kysely } from 'kysely';
import type { Database } from '../metadata/schema.js';
import { DAY_MS, dayOf, namespaceScannedImages, namespaceStorage, pullsPerDay, pushesPerDay, storagePerDay } from '../metadata/activity.js';
import type { SeverityLevel } from '../scanner/osv/schema.js';
import { yieldToRequests } from '../metadata/yield.js';

export const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'NEGLIGIBLE', 'UNKNOWN'] as const;

/** Open vulnerabilities by severity over scanned images, as their reports count them for the account (ScanService.openVulnerabilities). */
export type OpenVulnerabilities = (images: Array<{ name: string; digest: string }>) => Promise<{ severityCounts: Record<SeverityLevel, number>; scannedImages: number }>;

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
export async function accountFigures(db: Kysely<Database>, accountId: number, namespaces: string[], now: number, dayCount: number, openVulnerabilities: OpenVulnerabilities): Promise<AccountFigures> {
  const since = now - (dayCount - 1) * DAY_MS;
  const firstDay = dayOf(since);
  // Requests run between the parts: on SQLite each holds the event loop while it runs (tens of
  // milliseconds each for a namespace of 20,000 images).
  const pushes = await pushesPerDay(db, namespaces, Date.parse(`${firstDay}T00:00:00Z`));
  await yieldToRequests();
  const pulls = await pullsPerDay(db, accountId, namespaces, firstDay);
  const days = Array.from({ length: dayCount }, (_, i) => {
    const day = dayOf(since + i * DAY_MS);
    return { day, pushes: pushes.get(day) ?? 0, pulls: pulls.get(day) ?? 0 };
  });

  const history = await storagePerDay(db, accountId, namespaces, firstDay);
  const storage = [];
  for (const name of namespaces) {
    const snapshots = history.get(name);
    await yieldToRequests();
    storage.push({ name, storageBytes: await namespaceStorage(db, name), history: days.map((d) => snapshots?.get(d.day) ?? null) });
  }

  const scanned: Array<{ name: string; digest: string }>[] = [];
  for (const name of namespaces) {
    await yieldToRequests();
    scanned.push(await namespaceScannedImages(db, name));
  }
  // flat(), not push(...rows): spreading a namespace of 100,000 images as arguments overflows the stack.
  const { severityCounts: vulnerabilities, scannedImages } = await openVulnerabilities(scanned.flat());
  return { days, namespaces: storage, vulnerabilities, scannedImages };
}
