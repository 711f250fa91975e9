/**
 * Counts failed logins per user and source address in a sliding window. Per process: with several
 * replicas an attacker gets the limit once per replica, which still bounds guessing.
 */
export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly max: number, private readonly windowMs: number, private readonly now: () => number) {}

  private key(username: string, source: string): string {
    return `${username.toLowerCase().slice(0, 200)}\u0000${source}`;
  }

  private recent(key: string): number[] {
    const cutoff = this.now() - this.windowMs;
    const times = (this.failures.get(key) ?? []).filter((t) => t > cutoff);
    if (times.length === 0) this.failures.delete(key);
    else this.failures.set(key, times);
    return times;
  }

  /** Seconds to wait when blocked, else 0. */
  blockedFor(username: string, source: string): number {
    const times = this.recent(this.key(username, source));
    if (times.length < this.max) return 0;
    return Math.max(1, Math.ceil((times[0]! + this.windowMs - this.now()) / 1000));
  }

  fail(username: string, source: string): void {
    const key = this.key(username, source);
    const times = this.recent(key);
    times.push(this.now());
    this.failures.set(key, times);
    if (this.failures.size > 100_000) this.failures.delete(this.failures.keys().next().value!);
  }

  succeed(username: string, source: string): void {
    this.failures.delete(this.key(username, source));
  }
}
