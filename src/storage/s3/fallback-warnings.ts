/** Where the S3 driver reports what an operator should hear of (pino's logger fits). */
export interface StoreLog {
  warn(details: object, message: string): void;
}

/** At most one warning per this long, with the count of the fallbacks since the last. */
const WARN_EVERY_MS = 60_000;

/**
 * Says when blob reads by presigned URL failed over to the SDK's GetObject (still served, but
 * slower): a store that refuses presigned URLs, say after a credential rotation, would otherwise
 * halve proxied pulls without a word. The first fallback is logged at once, later ones are counted
 * into one line a minute, so a store that refuses every URL does not flood the log.
 */
export class FallbackWarnings {
  private since = 0;
  private lastAt = -Infinity;

  constructor(private readonly log: StoreLog | undefined, private readonly now: () => number = Date.now) {}

  note(err: unknown): void {
    this.since++;
    const at = this.now();
    if (!this.log || at - this.lastAt < WARN_EVERY_MS) return;
    this.log.warn({ fallbacks: this.since, err: { message: err instanceof Error ? err.message : String(err) } },
      'blob reads by presigned URL failed and went through the S3 SDK instead (slower); check that the store accepts presigned GETs');
    this.since = 0;
    this.lastAt = at;
  }
}
