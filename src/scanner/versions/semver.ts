/**
 * Semantic Versioning 2.0.0 precedence, as npm's `semver` package and Go's
 * golang.org/x/mod/semver apply it. The two differ only at the edges, so each has its own parser:
 * npm tolerates a leading `v`/`=` and surrounding blanks; Go requires the `v` prefix, accepts the
 * shorthands `v1` and `v1.2`, and treats an invalid version as lower than any valid one.
 */

export interface SemVer {
  major: bigint;
  minor: bigint;
  patch: bigint;
  prerelease: string[];
  build: string[];
}

const NUM = '0|[1-9][0-9]*';
const PRE_ID = `(?:${NUM}|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)`;
const BUILD_ID = '[0-9A-Za-z-]+';
const SEMVER = new RegExp(
  `^(${NUM})\\.(${NUM})\\.(${NUM})(?:-(${PRE_ID}(?:\\.${PRE_ID})*))?(?:\\+(${BUILD_ID}(?:\\.${BUILD_ID})*))?$`,
);

function build(m: RegExpExecArray, minor?: string, patch?: string): SemVer {
  return {
    major: BigInt(m[1]!),
    minor: BigInt(minor ?? m[2]!),
    patch: BigInt(patch ?? m[3]!),
    prerelease: m[4] ? m[4].split('.') : [],
    build: m[5] ? m[5].split('.') : [],
  };
}

/** Strict SemVer 2.0.0 (no prefix). */
export function parseSemVer(text: string): SemVer | undefined {
  const m = SEMVER.exec(text);
  return m ? build(m) : undefined;
}

/** npm's `semver.parse` (not loose): trims blanks and one leading `v` or `=`. */
export function parseNpmVersion(text: string): SemVer | undefined {
  return parseSemVer(text.trim().replace(/^[=v]+/, ''));
}

const GO_SHORT = new RegExp(`^v(${NUM})(?:\\.(${NUM}))?$`);

/**
 * Go module versions: `v` then SemVer, or `v1`/`v1.2` shorthands (without prerelease or build).
 * Pseudo-versions (v0.0.0-20220906165146-f3363e06e74c) and `+incompatible` are plain SemVer.
 */
export function parseGoVersion(text: string): SemVer | undefined {
  if (!text.startsWith('v')) return undefined;
  const full = parseSemVer(text.slice(1));
  if (full) return full;
  const m = GO_SHORT.exec(text);
  if (!m) return undefined;
  return { major: BigInt(m[1]!), minor: BigInt(m[2] ?? '0'), patch: 0n, prerelease: [], build: [] };
}

function compareIdentifiers(a: string, b: string): number {
  const an = /^[0-9]+$/.test(a);
  const bn = /^[0-9]+$/.test(b);
  if (an && bn) {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (an) return -1; // numeric identifiers have lower precedence than alphanumeric ones
  if (bn) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** SemVer precedence; build metadata is ignored. */
export function compareSemVer(a: SemVer, b: SemVer): number {
  for (const k of ['major', 'minor', 'patch'] as const) {
    if (a[k] !== b[k]) return a[k] < b[k] ? -1 : 1;
  }
  // A version without prerelease outranks any prerelease of the same core (1.0.0-rc.1 < 1.0.0).
  if (a.prerelease.length === 0 || b.prerelease.length === 0) {
    if (a.prerelease.length === b.prerelease.length) return 0;
    return a.prerelease.length === 0 ? 1 : -1;
  }
  const n = Math.min(a.prerelease.length, b.prerelease.length);
  for (let i = 0; i < n; i++) {
    const r = compareIdentifiers(a.prerelease[i]!, b.prerelease[i]!);
    if (r !== 0) return r;
  }
  return Math.sign(a.prerelease.length - b.prerelease.length);
}

/** npm versions; throws on a version npm would refuse, since guessing could hide a finding. */
export function compareNpm(a: string, b: string): number {
  const x = parseNpmVersion(a);
  const y = parseNpmVersion(b);
  if (!x) throw new Error(`invalid npm version "${a.slice(0, 100)}"`);
  if (!y) throw new Error(`invalid npm version "${b.slice(0, 100)}"`);
  return compareSemVer(x, y);
}

/** golang.org/x/mod/semver.Compare: an invalid version is lower than every valid one and equal to other invalid ones. */
export function compareGo(a: string, b: string): number {
  const x = parseGoVersion(a);
  const y = parseGoVersion(b);
  if (!x || !y) return x ? 1 : y ? -1 : 0;
  return compareSemVer(x, y);
}

/**
 * OSV's Go ecosystem writes versions without the `v` (1.18.6, 0.0.0-2022...), and a Go
 * toolchain reports itself as go1.21rc2; both become module-style versions here.
 * go1.19 -> v1.19.0, go1.21rc2 -> v1.21.0-rc.2, go1.9beta1 -> v1.9.0-beta.1 (as govulncheck does).
 */
export function toGoModuleVersion(text: string): string {
  const t = text.trim();
  const tool = /^go([0-9]+)(?:\.([0-9]+))?(?:\.([0-9]+))?(?:(beta|rc)([0-9]+))?/.exec(t);
  if (tool) {
    const [, maj, min = '0', pat = '0', pre, preN] = tool;
    return `v${maj}.${min}.${pat}${pre ? `-${pre}.${preN}` : ''}`;
  }
  return t.startsWith('v') ? t : `v${t}`;
}
