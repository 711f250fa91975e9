/**
 * PEP 440 version parsing, normalisation and ordering, following pypa/packaging's Version
 * (packaging/version.py: VERSION_PATTERN and _cmpkey). PyPI advisories give fixed versions in
 * this scheme, where 1.0.dev1 < 1.0a1 < 1.0 < 1.0+local < 1.0.post1.
 */

export interface Pep440Version {
  epoch: number;
  release: number[];
  pre?: ['a' | 'b' | 'rc', number];
  post?: number;
  dev?: number;
  local?: (string | number)[];
}

// packaging's VERSION_PATTERN, matched case-insensitively with surrounding blanks allowed.
const VERSION_PATTERN = new RegExp(
  '^\\s*v?' +
    '(?:([0-9]+)!)?' + // epoch
    '([0-9]+(?:\\.[0-9]+)*)' + // release
    '([-_.]?(alpha|a|beta|b|preview|pre|c|rc)[-_.]?([0-9]+)?)?' + // pre
    '((?:-([0-9]+))|(?:[-_.]?(post|rev|r)[-_.]?([0-9]+)?))?' + // post
    '([-_.]?(dev)[-_.]?([0-9]+)?)?' + // dev
    '(?:\\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?' + // local
    '\\s*$',
  'i',
);

function preLetter(l: string): 'a' | 'b' | 'rc' {
  const x = l.toLowerCase();
  if (x === 'alpha' || x === 'a') return 'a';
  if (x === 'beta' || x === 'b') return 'b';
  return 'rc'; // c, pre, preview, rc
}

export function parsePep440(text: string): Pep440Version | undefined {
  const m = VERSION_PATTERN.exec(text);
  if (!m) return undefined;
  const v: Pep440Version = {
    epoch: m[1] ? Number(m[1]) : 0,
    release: m[2]!.split('.').map(Number),
  };
  if (m[3]) v.pre = [preLetter(m[4]!), m[5] ? Number(m[5]) : 0];
  if (m[6]) v.post = Number(m[7] ?? m[9] ?? 0);
  if (m[10]) v.dev = m[12] ? Number(m[12]) : 0;
  if (m[13]) v.local = m[13].toLowerCase().split(/[-_.]/).map((p) => (/^[0-9]+$/.test(p) ? Number(p) : p));
  return v;
}

/** The canonical form packaging's str(Version) prints: 1.0-1 -> 1.0.post1, 1.0ALPHA -> 1.0a0. */
export function normalizePep440(text: string): string | undefined {
  const v = parsePep440(text);
  if (!v) return undefined;
  let s = v.epoch ? `${v.epoch}!` : '';
  s += v.release.join('.');
  if (v.pre) s += `${v.pre[0]}${v.pre[1]}`;
  if (v.post !== undefined) s += `.post${v.post}`;
  if (v.dev !== undefined) s += `.dev${v.dev}`;
  if (v.local) s += `+${v.local.join('.')}`;
  return s;
}

const NEG = -Infinity;
const POS = Infinity;
type Key = [number, number[], [number, number], number, number, (readonly [number, string])[] | null];

function preRank(l: 'a' | 'b' | 'rc'): number {
  return l === 'a' ? 0 : l === 'b' ? 1 : 2;
}

/** packaging's _cmpkey: trailing zeros dropped, and sentinels so that dev/pre/post/local order as PEP 440 says. */
function cmpKey(v: Pep440Version): Key {
  const release = [...v.release];
  while (release.length > 0 && release[release.length - 1] === 0) release.pop();
  let pre: [number, number];
  if (!v.pre && v.post === undefined && v.dev !== undefined) pre = [NEG, 0]; // 1.0.dev0 sorts before 1.0a0
  else if (!v.pre) pre = [POS, 0];
  else pre = [preRank(v.pre[0]), v.pre[1]];
  const post = v.post === undefined ? NEG : v.post;
  const dev = v.dev === undefined ? POS : v.dev;
  // Local segments: numbers sort after strings, and a missing local sorts first.
  const local = v.local ? v.local.map((p) => (typeof p === 'number' ? ([p, ''] as const) : ([NEG, p] as const))) : null;
  return [v.epoch, release, pre, post, dev, local];
}

function cmpNum(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function cmpTuple<T>(a: readonly T[], b: readonly T[], item: (x: T, y: T) => number): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const r = item(a[i]!, b[i]!);
    if (r !== 0) return r;
  }
  return cmpNum(a.length, b.length);
}

export function comparePep440Parsed(a: Pep440Version, b: Pep440Version): number {
  const x = cmpKey(a);
  const y = cmpKey(b);
  return (
    cmpNum(x[0], y[0]) ||
    cmpTuple(x[1], y[1], cmpNum) ||
    cmpTuple(x[2], y[2], cmpNum) ||
    cmpNum(x[3], y[3]) ||
    cmpNum(x[4], y[4]) ||
    (x[5] === null || y[5] === null
      ? cmpNum(x[5] === null ? 0 : 1, y[5] === null ? 0 : 1)
      : cmpTuple(x[5], y[5], (p, q) => cmpNum(p[0], q[0]) || (p[1] < q[1] ? -1 : p[1] > q[1] ? 1 : 0)))
  );
}

/** Compares two PEP 440 versions; throws on a string that is not one (pip would refuse it too). */
export function comparePep440(a: string, b: string): number {
  const x = parsePep440(a);
  const y = parsePep440(b);
  if (!x) throw new Error(`invalid PEP 440 version "${a.slice(0, 100)}"`);
  if (!y) throw new Error(`invalid PEP 440 version "${b.slice(0, 100)}"`);
  return comparePep440Parsed(x, y);
}
