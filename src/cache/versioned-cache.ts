/**
 * Values worked out from stored data that is costly to read or apply, each kept with the version of
 * that data and given back only while the caller's current version still matches (and, with a
 * maximum age, while young enough: for results that also depend on the clock). Per process and
 * bounded: past `max` entries, the one written longest ago goes.
 */
export class VersionedCache<T> {
  private readonly entries = new Map<string, { version: string; value: T; at: number }>();

  constructor(private readonly max: number, private readonly maxAgeMs = Infinity, private readonly now: () => number = Date.now) {}

  get(key: string, version: string): T | undefined {
    const entry = this.entries.get(key);
    if (entry?.version !== version) return undefined;
    if (this.now() - entry.at > this.maxAgeMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, version: string, value: T): void {
    this.entries.delete(key);
    this.entries.set(key, { version, value, at: this.now() });
    // Maps keep insertion order: the first key is the one written longest ago.
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
  }
}
