import cvss from 'ae-cvss-calculator';
import { compareSeverity, type OsvAffected, type OsvRecord, type OsvSeverity, type SeverityLevel } from './schema.js';

import { idsOf } from './aliases.js';

export { compareSeverity, SEVERITY_ORDER } from './schema.js';

/**
 * An advisory's severity and where it came from, so a reader can tell a computed CVSS score
 * from a distribution's own rating or one borrowed from another record of the same vulnerability.
 */
export type SeveritySource = 'cvss-v4.0' | 'cvss-v3.1' | 'cvss-v3.0' | 'cvss-v2.0' | 'ecosystem' | `alias:${string}` | 'none';

export interface Severity {
  level: SeverityLevel;
  source: SeveritySource;
  /** The CVSS base score, when the level was computed from a vector. */
  score?: number;
  vector?: string;
}

/** CVSS qualitative rating (FIRST, CVSS v3.1 spec §5; the same bands in v4.0). A 0.0 "None" is negligible. */
export function levelOfScore(score: number): SeverityLevel {
  if (score >= 9) return 'CRITICAL';
  if (score >= 7) return 'HIGH';
  if (score >= 4) return 'MEDIUM';
  if (score > 0) return 'LOW';
  return 'NEGLIGIBLE';
}

type Scorer = { source: SeveritySource; prefix: RegExp; make: (v: string) => { calculateScores(): { base?: number } } };

/** Newest CVSS version first: when an advisory carries several vectors, the newest one rates it. */
const SCORERS: Scorer[] = [
  { source: 'cvss-v4.0', prefix: /^CVSS:4\.0\//, make: (v) => new cvss.Cvss4P0(v) },
  { source: 'cvss-v3.1', prefix: /^CVSS:3\.1\//, make: (v) => new cvss.Cvss3P1(v) },
  { source: 'cvss-v3.0', prefix: /^CVSS:3\.0\//, make: (v) => new cvss.Cvss3P0(v) },
  { source: 'cvss-v2.0', prefix: /^(\(?AV:[LAN]\/AC:[HML]\/Au:[MSN]\/)/, make: (v) => new cvss.Cvss2(v) },
];

/** Every base metric a version needs; a vector missing one has no base score, only a guess. */
const REQUIRED: Record<string, string[]> = {
  'cvss-v4.0': ['AV', 'AC', 'AT', 'PR', 'UI', 'VC', 'VI', 'VA', 'SC', 'SI', 'SA'],
  'cvss-v3.1': ['AV', 'AC', 'PR', 'UI', 'S', 'C', 'I', 'A'],
  'cvss-v3.0': ['AV', 'AC', 'PR', 'UI', 'S', 'C', 'I', 'A'],
  'cvss-v2.0': ['AV', 'AC', 'Au', 'C', 'I', 'A'],
};

/** The base score of one CVSS vector, or undefined when the vector is not one this version can score. */
export function cvssScore(vector: string): { source: SeveritySource; score: number } | undefined {
  const v = vector.trim();
  const scorer = SCORERS.find((s) => s.prefix.test(v));
  if (!scorer) return undefined;
  const metrics = new Set(v.replace(/^CVSS:[0-9.]+\//, '').split('/').map((part) => part.split(':')[0]));
  if (!REQUIRED[scorer.source]!.every((m) => metrics.has(m))) return undefined;
  try {
    const base = scorer.make(v).calculateScores().base;
    return typeof base === 'number' && Number.isFinite(base) ? { source: scorer.source, score: base } : undefined;
  } catch {
    return undefined; // a malformed vector rates nothing; the next source is asked
  }
}

function fromVectors(list: readonly OsvSeverity[] | undefined): Severity | undefined {
  const scored = (list ?? [])
    .filter((s) => /^CVSS_V[234]$/.test(s.type))
    .map((s) => ({ vector: s.score, result: cvssScore(s.score) }))
    .filter((s): s is { vector: string; result: NonNullable<ReturnType<typeof cvssScore>> } => s.result !== undefined)
    .sort((a, b) => SCORERS.findIndex((x) => x.source === a.result.source) - SCORERS.findIndex((x) => x.source === b.result.source));
  const best = scored[0];
  return best && { level: levelOfScore(best.result.score), source: best.result.source, score: best.result.score, vector: best.vector.trim() };
}

/**
 * A distribution's or database's own word: GitHub's LOW/MODERATE/HIGH/CRITICAL, Ubuntu's
 * priority (negligible…critical), Debian's urgency (unimportant, low, medium, high; "**" marks
 * a guess and is ignored). "not yet assigned" and the like are no rating at all.
 */
export function ecosystemLevel(value: unknown): SeverityLevel | undefined {
  if (typeof value !== 'string') return undefined;
  switch (value.toLowerCase().replace(/[^a-z ]/g, '').trim()) {
    case 'critical': return 'CRITICAL';
    case 'high': case 'important': return 'HIGH';
    case 'medium': case 'moderate': return 'MEDIUM';
    case 'low': return 'LOW';
    case 'negligible': case 'unimportant': return 'NEGLIGIBLE';
    default: return undefined;
  }
}

function fromEcosystem(rec: OsvRecord, affected: OsvAffected | undefined): Severity | undefined {
  const candidates: unknown[] = [];
  for (const bag of [affected?.ecosystem_specific, affected?.database_specific, rec.database_specific]) {
    if (bag) candidates.push(bag.severity, bag.ubuntu_priority, bag.urgency);
  }
  // Older Ubuntu records rate with a severity entry of type "Ubuntu".
  for (const s of [...(affected?.severity ?? []), ...rec.severity]) if (s.type === 'Ubuntu') candidates.push(s.score);
  for (const c of candidates) {
    const level = ecosystemLevel(c);
    if (level) return { level, source: 'ecosystem' };
  }
  return undefined;
}

/**
 * What the record itself says about one affected package: its CVSS vectors (the entry's own
 * before the record's), else the ecosystem's rating, else nothing (UNKNOWN, source none).
 */
export function ownSeverity(rec: OsvRecord, affected?: OsvAffected): Severity {
  return fromVectors(affected?.severity) ?? fromVectors(rec.severity) ?? fromEcosystem(rec, affected) ?? { level: 'UNKNOWN', source: 'none' };
}

/**
 * The severity a finding shows: the record's own, else the most severe among loaded records of
 * the same vulnerability (a Debian DSA without a rating takes its CVE record's). Withdrawn
 * records rate nothing.
 */
export function severityOf(rec: OsvRecord, affected: OsvAffected | undefined, aliasRecords: readonly OsvRecord[]): Severity {
  const own = ownSeverity(rec, affected);
  if (own.level !== 'UNKNOWN') return own;
  const mine = new Set(idsOf(rec));
  let best: Severity | undefined;
  for (const other of aliasRecords) {
    if (other.id === rec.id || other.withdrawn || !idsOf(other).some((id) => mine.has(id))) continue;
    const s = ownSeverity(other);
    if (s.level === 'UNKNOWN') continue;
    if (!best || compareSeverity(s.level, best.level) > 0) best = { ...s, source: `alias:${other.id}` };
  }
  return best ?? own;
}
