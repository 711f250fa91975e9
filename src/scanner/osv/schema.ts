/**
 * The OSV schema (ossf/osv-schema, schema_version 1.x), the format OSV.dev, GitHub's advisory
 * database, the Go vulnerability database and Debian's OSV export share. Only what matching and
 * reports use is typed; everything else is kept in `raw` so an import loses nothing.
 */

export type OsvEvent = { introduced: string } | { fixed: string } | { last_affected: string } | { limit: string };

export interface OsvRange {
  type: 'ECOSYSTEM' | 'SEMVER' | 'GIT' | string;
  repo?: string;
  events: OsvEvent[];
}

export interface OsvAffected {
  package?: { ecosystem: string; name: string; purl?: string };
  ranges: OsvRange[];
  versions: string[];
  /** Severity of this package's entry (OSV 1.6+), which takes the place of the record's. */
  severity?: OsvSeverity[];
  ecosystem_specific?: Record<string, unknown>;
  database_specific?: Record<string, unknown>;
}

export interface OsvSeverity {
  type: string; // CVSS_V2, CVSS_V3, CVSS_V4, Ubuntu
  score: string;
}

function severities(x: unknown): OsvSeverity[] {
  return (Array.isArray(x) ? x : [])
    .filter(isObj)
    .filter((s) => typeof s.type === 'string' && typeof s.score === 'string')
    .map((s) => ({ type: s.type as string, score: s.score as string }));
}

export interface OsvRecord {
  id: string;
  modified: string;
  published?: string;
  withdrawn?: string;
  aliases: string[];
  upstream: string[];
  related: string[];
  summary?: string;
  details?: string;
  severity: OsvSeverity[];
  affected: OsvAffected[];
  database_specific?: Record<string, unknown>;
  raw: Record<string, unknown>;
}

export class OsvFormatError extends Error {}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const strings = (x: unknown): string[] => (Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string') : []);
const optStr = (x: unknown): string | undefined => (typeof x === 'string' ? x : undefined);

function event(x: unknown, where: string): OsvEvent {
  if (isObj(x)) {
    for (const k of ['introduced', 'fixed', 'last_affected', 'limit'] as const) {
      if (typeof x[k] === 'string') return { [k]: x[k] } as OsvEvent;
    }
  }
  throw new OsvFormatError(`${where}: an event needs one of introduced, fixed, last_affected or limit`);
}

/** Validates and narrows one OSV record; throws OsvFormatError naming the record and the field. */
export function parseOsvRecord(json: unknown): OsvRecord {
  if (!isObj(json)) throw new OsvFormatError('an OSV record is a JSON object');
  const id = json.id;
  if (typeof id !== 'string' || id === '') throw new OsvFormatError('an OSV record needs a string "id"');
  const modified = json.modified;
  if (typeof modified !== 'string') throw new OsvFormatError(`${id}: "modified" is required (RFC 3339 time)`);
  const affected = (Array.isArray(json.affected) ? json.affected : []).map((a, i): OsvAffected => {
    const where = `${id} affected[${i}]`;
    if (!isObj(a)) throw new OsvFormatError(`${where} is not an object`);
    const out: OsvAffected = {
      ranges: (Array.isArray(a.ranges) ? a.ranges : []).map((r, j) => {
        if (!isObj(r) || typeof r.type !== 'string' || !Array.isArray(r.events)) {
          throw new OsvFormatError(`${where}.ranges[${j}] needs "type" and "events"`);
        }
        const range: OsvRange = { type: r.type, events: r.events.map((e) => event(e, `${where}.ranges[${j}]`)) };
        if (typeof r.repo === 'string') range.repo = r.repo;
        return range;
      }),
      versions: strings(a.versions),
    };
    if (isObj(a.package)) {
      const { ecosystem, name, purl } = a.package;
      if (typeof ecosystem !== 'string' || typeof name !== 'string') throw new OsvFormatError(`${where}.package needs "ecosystem" and "name"`);
      out.package = { ecosystem, name };
      if (typeof purl === 'string') out.package.purl = purl;
    }
    if (Array.isArray(a.severity)) out.severity = severities(a.severity);
    if (isObj(a.ecosystem_specific)) out.ecosystem_specific = a.ecosystem_specific;
    if (isObj(a.database_specific)) out.database_specific = a.database_specific;
    return out;
  });
  const rec: OsvRecord = {
    id,
    modified,
    aliases: strings(json.aliases),
    upstream: strings(json.upstream),
    related: strings(json.related),
    severity: severities(json.severity),
    affected,
    raw: json,
  };
  for (const k of ['published', 'withdrawn', 'summary', 'details'] as const) {
    const v = optStr(json[k]);
    if (v !== undefined) rec[k] = v;
  }
  if (isObj(json.database_specific)) rec.database_specific = json.database_specific;
  return rec;
}

export type SeverityLevel = 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW' | 'NEGLIGIBLE' | 'UNKNOWN';

/** From most to least severe; UNKNOWN ranks last so any known severity beats it. */
export const SEVERITY_ORDER: readonly SeverityLevel[] = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'NEGLIGIBLE', 'UNKNOWN'];

/** Positive when a is more severe than b. */
export function compareSeverity(a: SeverityLevel, b: SeverityLevel): number {
  return SEVERITY_ORDER.indexOf(b) - SEVERITY_ORDER.indexOf(a);
}
