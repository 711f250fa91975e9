/**
 * Namespace name rules (as IBM Cloud Container Registry has them), each with its own message so a
 * bad name says which rule it broke. The last rule keeps every namespace a valid repository path component.
 */
const RULES: Array<[(name: string) => boolean, string]> = [
  [(n) => n.length >= 4, 'must be at least 4 characters long'],
  [(n) => n.length <= 30, 'must be at most 30 characters long'],
  [(n) => /^[a-z0-9_-]*$/.test(n), 'may contain only lowercase letters, digits, "-" and "_"'],
  [(n) => /^[a-z0-9]/.test(n), 'must start with a letter or digit'],
  [(n) => /[a-z0-9]$/.test(n), 'must end with a letter or digit'],
  [(n) => /^[a-z0-9]+(?:(?:_|__|-+)[a-z0-9]+)*$/.test(n), 'may not have "_" next to "-" or three "_" in a row'],
];

/** The first rule the name breaks, or undefined when it is a valid namespace name. */
export function namespaceNameProblem(name: string): string | undefined {
  for (const [ok, rule] of RULES) if (!ok(name)) return `namespace name "${name.slice(0, 60)}" ${rule}`;
  return undefined;
}

/** The namespace of a repository name: its first path component. */
export function namespaceOf(repository: string): { namespace: string; path: string } {
  const slash = repository.indexOf('/');
  return slash === -1 ? { namespace: repository, path: '' } : { namespace: repository.slice(0, slash), path: repository.slice(slash + 1) };
}
