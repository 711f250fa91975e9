/** How figures read in the console: sizes in binary units, dates in the person's locale. */

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

export function date(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '—' : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function shortDigest(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

/** The colour class of a security status: issues red, clean green, pending grey, failures amber. */
export function statusTone(status: string): 'bad' | 'good' | 'pending' | 'warn' {
  if (/^\d+ Issues?$/.test(status)) return 'bad';
  if (status === 'No Issues') return 'good';
  if (status === 'Scan failed' || status === 'Unsupported OS') return 'warn';
  return 'pending';
}
