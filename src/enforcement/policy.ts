import { compileGlob, GlobError } from '../oci/globs.js';

/**
 * Image policies: what an image must be for a cluster to run it. One policy applies to an image, the
 * most specific one: repository, then namespace, then account, then the cluster-wide default. They are
 * not merged: a namespace policy replaces the account's for that namespace, so what applies is always
 * one document a developer can read (`wharf policy get`).
 */
export type PolicyScope = 'cluster' | 'account' | 'namespace' | 'repository';

/** From least to most alarming; UNKNOWN counts as CRITICAL (a severity nobody rated cannot be shown to be within a limit). */
export const SEVERITY_LIMITS = ['NONE', 'NEGLIGIBLE', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type SeverityLimit = (typeof SEVERITY_LIMITS)[number];

export function severityRank(severity: string): number {
  if (severity === 'UNKNOWN') return SEVERITY_LIMITS.indexOf('CRITICAL');
  const rank = SEVERITY_LIMITS.indexOf(severity as SeverityLimit);
  return rank < 0 ? SEVERITY_LIMITS.indexOf('CRITICAL') : rank;
}

export interface VulnerabilityRule {
  /** The highest severity of an open (not exempted) issue that is admitted; NONE admits no issue at all. */
  maxSeverity: SeverityLimit;
  /** The scan must be at most this many days old (a rescan after new advisory data renews it). */
  maxScanAgeDays?: number;
  /** Admit images whose OS the advisory data does not cover (their configuration issues still count). */
  allowUnsupportedOs?: boolean;
}

export interface ImagePolicy {
  /**
   * Hosts of other registries (globs such as `docker.io`, `*.example.com`) whose images are admitted.
   * Wharf can neither scan nor verify their images, so only `requireDigest` applies to them. A rule of
   * the cluster-wide default only: the cluster decides which registries it trusts.
   */
  registries?: string[];
  /** Repositories of this registry that are admitted: `team-a` (every repository of the namespace), `team-a/app*`, `team-*`. */
  namespaces?: string[];
  /** Names of trusted keys of the account: at least one signature of the image must verify with one of them. */
  signedBy?: string[];
  vulnerabilities?: VulnerabilityRule;
  /** Pod specs must name images by digest (the mutating webhook pins tags of this registry's images first). */
  requireDigest?: boolean;
}

export class PolicyError extends Error {}

const HOST_GLOB = /^[A-Za-z0-9.*:[\]-]{1,253}$/;
const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const RULES = new Set(['registries', 'namespaces', 'signedBy', 'vulnerabilities', 'requireDigest']);

/** A checked copy of `input`, or PolicyError naming what is wrong and how to write it. */
export function parsePolicy(input: unknown, scope: PolicyScope): ImagePolicy {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new PolicyError('a policy is a JSON object of rules: registries, namespaces, signedBy, vulnerabilities, requireDigest');
  const raw = input as Record<string, unknown>;
  const unknown = Object.keys(raw).filter((k) => !RULES.has(k));
  if (unknown.length > 0) throw new PolicyError(`unknown rule ${unknown.map((k) => `"${k}"`).join(', ')}: the rules are registries, namespaces, signedBy, vulnerabilities, requireDigest`);
  const policy: ImagePolicy = {};
  if (raw.registries !== undefined) {
    if (scope !== 'cluster') throw new PolicyError('registries is a rule of the cluster-wide default only (wharf policy set --cluster): the registry operator decides which other registries a cluster may pull from');
    policy.registries = stringList(raw.registries, 'registries', (host) => {
      if (!HOST_GLOB.test(host)) throw new PolicyError(`registries: "${host}" is not a registry host pattern such as docker.io, quay.io or *.example.com:5000`);
    });
  }
  if (raw.namespaces !== undefined) {
    policy.namespaces = stringList(raw.namespaces, 'namespaces', (glob) => {
      try {
        compileGlob(glob);
      } catch (err) {
        if (err instanceof GlobError) throw new PolicyError(`namespaces: ${err.message}`);
        throw err;
      }
    });
  }
  if (raw.signedBy !== undefined) {
    policy.signedBy = stringList(raw.signedBy, 'signedBy', (name) => {
      if (!KEY_NAME.test(name)) throw new PolicyError(`signedBy: "${name.slice(0, 100)}" is not a trusted key name (see wharf trust key list)`);
    });
    if (policy.signedBy.length === 0) throw new PolicyError('signedBy names no key: name at least one trusted key, or leave the rule out');
  }
  if (raw.vulnerabilities !== undefined) policy.vulnerabilities = parseVulnerabilityRule(raw.vulnerabilities);
  if (raw.requireDigest !== undefined) {
    if (typeof raw.requireDigest !== 'boolean') throw new PolicyError('requireDigest is true or false');
    policy.requireDigest = raw.requireDigest;
  }
  return policy;
}

function parseVulnerabilityRule(value: unknown): VulnerabilityRule {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new PolicyError('vulnerabilities is an object such as {"maxSeverity": "medium", "maxScanAgeDays": 7}');
  const raw = value as Record<string, unknown>;
  const extra = Object.keys(raw).filter((k) => !['maxSeverity', 'maxScanAgeDays', 'allowUnsupportedOs'].includes(k));
  if (extra.length > 0) throw new PolicyError(`vulnerabilities: unknown setting ${extra.map((k) => `"${k}"`).join(', ')}: use maxSeverity, maxScanAgeDays, allowUnsupportedOs`);
  const severity = typeof raw.maxSeverity === 'string' ? raw.maxSeverity.toUpperCase() : '';
  if (!(SEVERITY_LIMITS as readonly string[]).includes(severity)) {
    throw new PolicyError(`vulnerabilities.maxSeverity must be one of ${SEVERITY_LIMITS.map((s) => s.toLowerCase()).join(', ')} (none: no open issue at all)`);
  }
  const rule: VulnerabilityRule = { maxSeverity: severity as SeverityLimit };
  if (raw.maxScanAgeDays !== undefined) {
    if (typeof raw.maxScanAgeDays !== 'number' || !Number.isInteger(raw.maxScanAgeDays) || raw.maxScanAgeDays < 1 || raw.maxScanAgeDays > 3650) {
      throw new PolicyError('vulnerabilities.maxScanAgeDays is a whole number of days from 1 to 3650');
    }
    rule.maxScanAgeDays = raw.maxScanAgeDays;
  }
  if (raw.allowUnsupportedOs !== undefined) {
    if (typeof raw.allowUnsupportedOs !== 'boolean') throw new PolicyError('vulnerabilities.allowUnsupportedOs is true or false');
    rule.allowUnsupportedOs = raw.allowUnsupportedOs;
  }
  return rule;
}

function stringList(value: unknown, rule: string, check: (item: string) => void): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new PolicyError(`${rule} is a list of strings`);
  if (value.length > 100) throw new PolicyError(`${rule} has more than 100 entries`);
  for (const item of value as string[]) check(item);
  return [...new Set(value as string[])];
}

/** Whether a registry host matches a `registries` pattern: `*` stands for any run of characters. */
export function hostMatches(pattern: string, host: string): boolean {
  const source = pattern.toLowerCase().split('*').map((part) => part.replace(/[.[\]]/g, (c) => `\\${c}`)).join('[^/]*');
  return new RegExp(`^${source}$`).test(host.toLowerCase());
}

/**
 * Whether a repository of this registry matches a `namespaces` pattern. A pattern without "/" names
 * namespaces (every repository in them); with "/", whole repository names (the globs of immutable tags).
 */
export function repositoryMatches(pattern: string, repository: string): boolean {
  if (!pattern.includes('/')) {
    const slash = repository.indexOf('/');
    return compileGlob(pattern).test(slash < 0 ? repository : repository.slice(0, slash));
  }
  return compileGlob(pattern).test(repository);
}

/** Where a policy applies, as messages and the CLI name it. */
export function describeScope(scope: PolicyScope, target: string): string {
  switch (scope) {
    case 'cluster': return 'the cluster-wide default policy';
    case 'account': return 'the account policy';
    case 'namespace': return `the policy of namespace ${target}`;
    case 'repository': return `the policy of repository ${target}`;
  }
}
