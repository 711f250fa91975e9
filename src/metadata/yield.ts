/**
 * Lets queued requests run before the next statement of a long background job. better-sqlite3 runs
 * statements synchronously and Kysely resolves them as microtasks, so on SQLite a loop of awaited
 * statements never returns to the event loop on its own: every request waits for the whole loop.
 */
export function yieldToRequests(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
