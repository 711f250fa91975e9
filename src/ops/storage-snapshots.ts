import type { Kysely } from 'kysely';
import type { Database } from '../metadata/schema.js';
import { allNamespaces, dayOf, recordStorage, storageByNamespace } from '../metadata/activity.js';
import { yieldToRequests } from '../metadata/yield.js';

/**
 * Notes each namespace's storage for today (run with the periodic maintenance), so the console can
 * draw storage over time. The day keeps its latest figure; a day the registry did not run has none.
 */
export async function recordStorageSnapshots(db: Kysely<Database>, now: number): Promise<number> {
  const day = dayOf(now);
  const used = await storageByNamespace(db);
  const namespaces = await allNamespaces(db);
  for (const ns of namespaces) {
    await recordStorage(db, { accountId: ns.accountId, namespace: ns.name, day, bytes: used.get(ns.name) ?? 0 });
    await yieldToRequests();
  }
  return namespaces.length;
}
