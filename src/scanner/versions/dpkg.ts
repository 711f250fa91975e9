/**
 * Debian package version comparison, as dpkg does it (Debian Policy 5.6.12; dpkg's
 * lib/dpkg/version.c verrevcmp). Advisories for Debian give fixed versions in this scheme, so a
 * plain string or semver comparison would report 1.0~rc1 as newer than 1.0 and miss real issues.
 */

export interface DpkgVersion {
  epoch: number;
  upstream: string;
  revision: string;
}

/**
 * Splits `[epoch:]upstream[-revision]` the way dpkg's parseversion does: the epoch ends at the
 * first colon, the revision starts after the last hyphen. Surrounding blanks are ignored.
 * Returns undefined for what dpkg refuses outright (empty, non-numeric epoch, empty upstream).
 */
export function parseDpkgVersion(text: string): DpkgVersion | undefined {
  const s = text.trim();
  if (s === '' || /\s/.test(s)) return undefined;
  let epoch = 0;
  let rest = s;
  const colon = s.indexOf(':');
  if (colon >= 0) {
    const e = s.slice(0, colon);
    if (!/^[0-9]+$/.test(e)) return undefined;
    epoch = Number(e);
    if (!Number.isSafeInteger(epoch) || epoch > 0x7fffffff) return undefined;
    rest = s.slice(colon + 1);
  }
  const hyphen = rest.lastIndexOf('-');
  const upstream = hyphen >= 0 ? rest.slice(0, hyphen) : rest;
  const revision = hyphen >= 0 ? rest.slice(hyphen + 1) : '';
  if (upstream === '' && hyphen < 0) return undefined;
  return { epoch, upstream, revision };
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isAlpha = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/** dpkg's order(): `~` before the end of the string, the end before letters, letters before other characters. */
function order(c: number): number {
  if (Number.isNaN(c) || isDigit(c)) return 0;
  if (isAlpha(c)) return c;
  if (c === 126 /* ~ */) return -1;
  return c + 256;
}

/** verrevcmp: alternating non-digit and digit runs; digit runs compare as numbers. */
export function compareDpkgPart(a: string, b: string): number {
  let i = 0;
  let j = 0;
  const ca = (k: number): number => a.charCodeAt(k); // NaN past the end stands for C's NUL
  const cb = (k: number): number => b.charCodeAt(k);
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !isDigit(ca(i))) || (j < b.length && !isDigit(cb(j)))) {
      const ac = order(ca(i));
      const bc = order(cb(j));
      if (ac !== bc) return Math.sign(ac - bc);
      i++;
      j++;
    }
    while (ca(i) === 48) i++;
    while (cb(j) === 48) j++;
    while (isDigit(ca(i)) && isDigit(cb(j))) {
      if (firstDiff === 0) firstDiff = ca(i) - cb(j);
      i++;
      j++;
    }
    if (isDigit(ca(i))) return 1;
    if (isDigit(cb(j))) return -1;
    if (firstDiff !== 0) return Math.sign(firstDiff);
  }
  return 0;
}

export function compareDpkgParsed(a: DpkgVersion, b: DpkgVersion): number {
  if (a.epoch !== b.epoch) return a.epoch < b.epoch ? -1 : 1;
  return compareDpkgPart(a.upstream, b.upstream) || compareDpkgPart(a.revision, b.revision);
}

/** Compares two Debian versions; -1, 0 or 1. Throws on a version dpkg itself would refuse. */
export function compareDpkg(a: string, b: string): number {
  const pa = parseDpkgVersion(a);
  const pb = parseDpkgVersion(b);
  if (!pa) throw new Error(`invalid Debian version "${a.slice(0, 100)}"`);
  if (!pb) throw new Error(`invalid Debian version "${b.slice(0, 100)}"`);
  return compareDpkgParsed(pa, pb);
}
