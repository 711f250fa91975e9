import { comparators } from '../versions/index.js';
import { ecosystemCovers, ecosystemScheme, samePackage, type PackageQuery } from './ecosystems.js';
import type { OsvAffected, OsvRange, OsvRecord } from './schema.js';

export type MatchResult =
  | { status: 'affected'; fixed?: string; affected: OsvAffected }
  | { status: 'not-affected' }
  /** The version could not be compared with this ecosystem's rules; a report says so rather than guess. */
  | { status: 'undetermined'; reason: string };

type Cmp = (a: string, b: string) => number;

interface Outcome {
  affected: boolean;
  fixed?: string;
}

/**
 * One ECOSYSTEM or SEMVER range, evaluated as the OSV schema describes: sort the events by
 * version ("introduced: 0" first), then walk them; the version is affected from an `introduced`
 * at or below it until a `fixed` at or below it (or a `last_affected` below it). A `limit` bounds
 * the whole range. The fix offered is the first `fixed` above the version.
 */
function evaluateRange(range: OsvRange, version: string, cmp: Cmp): Outcome {
  const key = (e: OsvRange['events'][number]): string => Object.values(e)[0] as string;
  const isZero = (e: OsvRange['events'][number]): boolean => 'introduced' in e && e.introduced === '0';
  const events = [...range.events].sort((a, b) => (isZero(a) ? -1 : isZero(b) ? 1 : cmp(key(a), key(b))));
  for (const e of events) if ('limit' in e && e.limit !== '*' && cmp(version, e.limit) >= 0) return { affected: false };
  let affected = false;
  for (const e of events) {
    if ('introduced' in e) {
      if (e.introduced === '0' || cmp(version, e.introduced) >= 0) affected = true;
    } else if ('fixed' in e) {
      if (cmp(version, e.fixed) >= 0) affected = false;
    } else if ('last_affected' in e) {
      if (cmp(version, e.last_affected) > 0) affected = false;
    }
  }
  if (!affected) return { affected };
  const fix = events.find((e): e is { fixed: string } => 'fixed' in e && cmp(e.fixed, version) > 0);
  return fix ? { affected, fixed: fix.fixed } : { affected };
}

/** Decides whether one advisory affects one installed package. */
export function matchAdvisory(record: OsvRecord, query: PackageQuery): MatchResult {
  if (record.withdrawn) return { status: 'not-affected' };
  const scheme = ecosystemScheme(query.ecosystem);
  if (!scheme) return { status: 'undetermined', reason: `no version rules for ecosystem "${query.ecosystem}"` };
  const cmp = comparators[scheme];
  let best: MatchResult = { status: 'not-affected' };
  for (const a of record.affected) {
    if (!a.package || !ecosystemCovers(query.ecosystem, a.package.ecosystem) || !samePackage(query.ecosystem, a.package.name, query.name)) continue;
    try {
      // An explicit versions list is authoritative for the versions it names.
      let hit: Outcome = { affected: a.versions.some((v) => cmp(v, query.version) === 0) };
      for (const r of a.ranges) {
        if (r.type !== 'ECOSYSTEM' && r.type !== 'SEMVER') continue; // GIT ranges need commit history, not versions
        const o = evaluateRange(r, query.version, cmp);
        if (o.affected) hit = { affected: true, ...(o.fixed !== undefined ? { fixed: o.fixed } : {}), };
        if (o.affected && o.fixed !== undefined) break;
      }
      if (hit.affected) {
        const result: MatchResult = { status: 'affected', affected: a, ...(hit.fixed !== undefined ? { fixed: hit.fixed } : {}) };
        if (hit.fixed !== undefined) return result;
        best = result; // affected with no fix yet; keep looking for an entry that names a fix
      }
    } catch (err) {
      return { status: 'undetermined', reason: err instanceof Error ? err.message : String(err) };
    }
  }
  return best;
}
