import { isIPv6 } from 'node:net';
import type { Kysely } from 'kysely';
import type { Database } from '../metadata/schema.js';
import { clearThrottle, countAttempt, findThrottle, purgeThrottle, setBlockedUntil } from '../metadata/login-throttle.js';

export interface LoginThrottleSettings {
  /** Failed logins per subject and source before that source has to wait. */
  freeFailures: number;
  /** A pair's failures are forgotten after this long without another. */
  forgetAfterMs: number;
  /** The first wait, after freeFailures failures; each further failure doubles it. */
  backoffMs: number;
  /** The longest wait between two tries. */
  maxBackoffMs: number;
}

/** How often one process removes forgotten pairs. */
const PURGE_INTERVAL_MS = 60_000;

/**
 * The key a source is throttled by: the address, except that IPv6 clients are counted per /64, the
 * block one subscriber usually holds (otherwise a single host would have 2^64 fresh sources).
 */
export function throttleSource(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = address.split('%')[0]!.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = address.includes('::') && tail ? tail.split(':') : [];
  const groups = address.includes('::')
    ? [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups]
    : headGroups;
  return `${groups.slice(0, 4).map((g) => g.toLowerCase().replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/**
 * Makes guessing passwords slow without handing attackers a lock-out: failures are counted per
 * subject (user name, or API key prefix) *and* source, so a source that keeps failing waits
 * (1 s, 2 s, 4 s … up to maxBackoff, by default) while the same subject from any other source is untouched.
 * The counts live in the metadata database, so every replica applies the same ones.
 */
export class LoginThrottle {
  private lastPurge = 0;

  constructor(private readonly db: Kysely<Database>, private readonly settings: LoginThrottleSettings, private readonly now: () => number) {}

  private subject(subject: string): string {
    return subject.toLowerCase().slice(0, 200);
  }

  /** Milliseconds this source must still wait before trying this subject; 0 when it may try now. */
  async waitFor(subject: string, address: string): Promise<number> {
    const row = await findThrottle(this.db, this.subject(subject), throttleSource(address));
    return row ? Math.max(0, row.blocked_until - this.now()) : 0;
  }

  /**
   * Counts an attempt before its credentials are checked, so a burst of parallel guesses is counted
   * as it arrives. Returns 0 when the attempt may go on, else the milliseconds to wait (nothing counted).
   */
  async attempt(subject: string, address: string): Promise<number> {
    const key = this.subject(subject);
    const source = throttleSource(address);
    const now = this.now();
    const forgetBefore = now - this.settings.forgetAfterMs;
    this.purgeOccasionally(now, forgetBefore);
    const failures = await countAttempt(this.db, key, source, now, {
      freeFailures: this.settings.freeFailures, forgetBefore, provisionalUntil: now + this.settings.maxBackoffMs,
    });
    if (failures === undefined) return Math.max(1, await this.waitFor(subject, address));
    const over = failures - this.settings.freeFailures;
    if (over >= 0) await setBlockedUntil(this.db, key, source, now + Math.min(this.settings.maxBackoffMs, this.settings.backoffMs * 2 ** Math.min(over, 30)));
    return 0;
  }

  /** The attempt succeeded: this source starts afresh for this subject. */
  async succeeded(subject: string, address: string): Promise<void> {
    await clearThrottle(this.db, this.subject(subject), throttleSource(address));
  }

  private purgeOccasionally(now: number, forgetBefore: number): void {
    if (now - this.lastPurge < PURGE_INTERVAL_MS) return;
    this.lastPurge = now;
    void purgeThrottle(this.db, forgetBefore, now).catch(() => undefined);
  }
}
