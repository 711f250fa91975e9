/** Terminal output: tables, sizes, relative times and short digests, as `ibmcloud cr` and docker print them. */

/** Columns separated by three spaces, padded to the widest cell; an empty cell shows "-"; no trailing spaces. */
export function table(headers: string[], body: string[][]): string {
  const rows = body.map((r) => r.map((c) => c || '-'));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('   ').trimEnd();
  return [line(headers), ...rows.map(line)].map((l) => `${l}\n`).join('');
}

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];

/** Bytes in decimal units, as the registry's console and docker show them: "512 B", "2.6 MB", "27 MB". */
export function humanSize(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  if (unit === 0) return `${bytes} B`;
  const rounded = value < 10 ? Math.round(value * 10) / 10 : Math.round(value);
  // 999.6 kB rounds to 1000 kB: show it as 1 MB instead.
  if (rounded >= 1000 && unit < UNITS.length - 1) return `1 ${UNITS[unit + 1]}`;
  return `${rounded} ${UNITS[unit]}`;
}

const SIZE_UNITS: Record<string, number> = {
  b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40,
};

/**
 * "500MB", "2 GiB", "1.5GB", "0B" → bytes; "unlimited" → null. A bare number is refused: `ibmcloud cr`
 * reads it as megabytes and the API as bytes, so the unit must be said.
 */
export function parseSize(text: string): number | null {
  const trimmed = text.trim().toLowerCase();
  if (trimmed === 'unlimited' || trimmed === 'none') return null;
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/.exec(trimmed);
  if (!match) throw new Error(`"${text}" is not a size: write e.g. 500MB, 2GiB or unlimited`);
  if (!match[2]) throw new Error(`"${text}" has no unit: write e.g. ${match[1]}MB or ${match[1]}GiB (or ${match[1]}B for bytes)`);
  const factor = SIZE_UNITS[match[2]];
  if (factor === undefined) throw new Error(`"${text}" has an unknown unit: use B, kB, MB, GB, TB, KiB, MiB, GiB or TiB`);
  return Math.round(Number(match[1]) * factor);
}

/**
 * How long ago `iso` was, the way docker (go-units HumanDuration) says it: "Less than a second ago",
 * "About a minute ago", "6 hours ago", "3 weeks ago".
 */
export function relativeTime(iso: string | null | undefined, now: number): string {
  if (!iso) return '-';
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return iso;
  return `${humanDuration(Math.max(0, now - then))} ago`;
}

export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const minutes = Math.floor(ms / 60_000);
  const hours = Math.round(ms / 3_600_000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(hours / 24 / 365)} years`;
}

/** The first 12 hex characters of a digest, as `ibmcloud cr image-list` prints it. */
export function shortDigest(digest: string): string {
  const colon = digest.indexOf(':');
  return colon === -1 ? digest.slice(0, 12) : digest.slice(colon + 1, colon + 13);
}

/** A limit that may be absent: "Unlimited" or the human size. */
export function sizeLimit(bytes: number | null | undefined): string {
  return bytes === null || bytes === undefined ? 'Unlimited' : humanSize(bytes);
}
