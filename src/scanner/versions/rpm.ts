/**
 * RPM version comparison: rpmvercmp from rpm's lib/rpmvercmp.c (with `~` sorting before
 * everything and `^` after the version but before any further segment), and EVR comparison
 * (epoch, then version, then release) as rpm and dnf apply it to installed packages.
 */

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isAlpha = (c: string | undefined): boolean => c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
const isAlnum = (c: string | undefined): boolean => isDigit(c) || isAlpha(c);

/** rpmvercmp(a, b): -1, 0 or 1. */
export function rpmvercmp(a: string, b: string): number {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while (i < a.length && !isAlnum(a[i]) && a[i] !== '~' && a[i] !== '^') i++;
    while (j < b.length && !isAlnum(b[j]) && b[j] !== '~' && b[j] !== '^') j++;

    // Tilde sorts before everything, even the end of the string (1.0~rc1 < 1.0).
    if (a[i] === '~' || b[j] === '~') {
      if (a[i] !== '~') return 1;
      if (b[j] !== '~') return -1;
      i++;
      j++;
      continue;
    }
    // Caret sorts after the end of the string but before any other segment (1.0 < 1.0^git1 < 1.0.1).
    if (a[i] === '^' || b[j] === '^') {
      if (i >= a.length) return -1;
      if (j >= b.length) return 1;
      if (a[i] !== '^') return 1;
      if (b[j] !== '^') return -1;
      i++;
      j++;
      continue;
    }
    if (!(i < a.length && j < b.length)) break;

    const numeric = isDigit(a[i]);
    const kind = numeric ? isDigit : isAlpha;
    let ei = i;
    let ej = j;
    while (ei < a.length && kind(a[ei])) ei++;
    while (ej < b.length && kind(b[ej])) ej++;
    if (ei === i) return -1; // cannot happen: a's segment is non-empty
    // Segments of different kinds: numeric is newer than alpha.
    if (ej === j) return numeric ? 1 : -1;

    let sa = a.slice(i, ei);
    let sb = b.slice(j, ej);
    if (numeric) {
      sa = sa.replace(/^0+/, '');
      sb = sb.replace(/^0+/, '');
      if (sa.length !== sb.length) return sa.length > sb.length ? 1 : -1;
    }
    if (sa !== sb) return sa < sb ? -1 : 1;
    i = ei;
    j = ej;
  }
  if (i >= a.length && j >= b.length) return 0;
  // Whichever still has characters left wins.
  return i >= a.length ? -1 : 1;
}

export interface Evr {
  epoch: number;
  version: string;
  release: string;
}

/** Parses `[epoch:]version[-release]`; the release starts after the last hyphen. */
export function parseEvr(text: string): Evr {
  let rest = text.trim();
  let epoch = 0;
  const colon = rest.indexOf(':');
  if (colon >= 0 && /^[0-9]*$/.test(rest.slice(0, colon))) {
    epoch = colon === 0 ? 0 : Number(rest.slice(0, colon));
    rest = rest.slice(colon + 1);
  }
  const hyphen = rest.lastIndexOf('-');
  return hyphen >= 0
    ? { epoch, version: rest.slice(0, hyphen), release: rest.slice(hyphen + 1) }
    : { epoch, version: rest, release: '' };
}

/**
 * Compares two EVR strings. A missing release on either side is not compared, which is how
 * rpm matches a dependency like `>= 1.2` against `1.2-3`.
 */
export function compareRpm(a: string, b: string): number {
  const x = parseEvr(a);
  const y = parseEvr(b);
  if (x.epoch !== y.epoch) return x.epoch < y.epoch ? -1 : 1;
  const v = rpmvercmp(x.version, y.version);
  if (v !== 0 || x.release === '' || y.release === '') return v;
  return rpmvercmp(x.release, y.release);
}
