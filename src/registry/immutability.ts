import type { Kysely } from 'kysely';
import { compileGlob } from '../oci/globs.js';
import { RegistryError } from '../oci/errors.js';
import type { Database } from '../metadata/schema.js';
import { replaceRules, rulesOfNamespace, type ImmutableTagRuleRow } from '../metadata/immutability.js';

/** A rule as the API and the CLI show it: `repository` defaults to every repository of the namespace. */
export interface ImmutableTagRule {
  repository: string;
  tags: string;
}

export const MAX_RULES = 100;

/** The namespace's rules, in order. */
export async function immutabilityRules(db: Kysely<Database>, namespace: string): Promise<ImmutableTagRule[]> {
  return rulesOfNamespace(db, namespace);
}

/** Replaces the namespace's rules after checking every pattern (GlobError names a bad one). */
export async function setImmutabilityRules(db: Kysely<Database>, namespaceId: number, rules: ImmutableTagRule[]): Promise<void> {
  if (rules.length > MAX_RULES) throw new RangeError(`at most ${MAX_RULES} rules per namespace`);
  assertRules(rules);
  await replaceRules(db, namespaceId, rules);
}

/** How a refusal names the rule, so the Manager can find it in `wharf immutability get`. */
export function describeRule(rule: ImmutableTagRule): string {
  // Single quotes: clients quote the whole message in double quotes (skopeo's log escapes them).
  return rule.repository === '**' ? `tags '${rule.tags}'` : `repository '${rule.repository}', tags '${rule.tags}'`;
}

/** Validates every pattern; throws GlobError naming the bad one. */
export function assertRules(rules: ImmutableTagRule[]): void {
  for (const rule of rules) {
    compileGlob(rule.repository);
    compileGlob(rule.tags);
  }
}

/**
 * The immutability rules of one namespace, compiled once per lookup. `name` is a full repository
 * name (`ns/path`); rules match the path inside the namespace.
 */
export class ImmutableTags {
  private readonly compiled: Array<{ rule: ImmutableTagRule; repository: RegExp; tags: RegExp }>;

  constructor(rules: ImmutableTagRuleRow[]) {
    this.compiled = rules.map((rule) => ({ rule, repository: compileGlob(rule.repository), tags: compileGlob(rule.tags) }));
  }

  static async of(db: Kysely<Database>, name: string): Promise<ImmutableTags> {
    return new ImmutableTags(await rulesOfNamespace(db, namespaceOf(name)));
  }

  get empty(): boolean {
    return this.compiled.length === 0;
  }

  /** The first rule that makes `tag` of repository `name` immutable, if any. */
  ruleFor(name: string, tag: string): ImmutableTagRule | undefined {
    const path = name.slice(name.indexOf('/') + 1);
    return this.compiled.find((c) => c.repository.test(path) && c.tags.test(tag))?.rule;
  }

  /** The first immutable tag among `tags` with its rule, if any. */
  firstImmutable(name: string, tags: string[]): { tag: string; rule: ImmutableTagRule } | undefined {
    for (const tag of tags) {
      const rule = this.ruleFor(name, tag);
      if (rule) return { tag, rule };
    }
    return undefined;
  }
}

function namespaceOf(name: string): string {
  const slash = name.indexOf('/');
  return slash < 0 ? name : name.slice(0, slash);
}

export type ImmutableChange = 'move' | 'delete-tag' | 'delete-image';

/**
 * The refusal. DENIED is the spec's code for "the registry will not do this", which every client
 * prints with its message; the status is 409 Conflict, not 403, because the request is refused for
 * the tag's state and not for the caller's rights: a 403 reads as an access problem to people and
 * alerting, and Distribution has no code of its own for it (Harbor's PRECONDITION/412 is its own).
 */
export function immutableTagError(name: string, tag: string, rule: ImmutableTagRule, change: ImmutableChange, digest?: string): RegistryError {
  const what = change === 'move'
    ? `tag ${tag} of ${name} is immutable and already points at ${digest}: push the image under a new tag instead`
    : change === 'delete-tag'
      ? `tag ${tag} of ${name} is immutable and cannot be deleted`
      : `image ${name}@${digest} is held by immutable tag ${tag} and cannot be deleted`;
  const next = change === 'move' ? '' : '; a namespace Manager can change the rules (wharf immutability set)';
  return new RegistryError('DENIED', `${what} (immutability rule: ${describeRule(rule)} of namespace ${namespaceOf(name)})${next}`,
    { name, tag, rule, ...(digest ? { digest } : {}) }, { status: 409 });
}
