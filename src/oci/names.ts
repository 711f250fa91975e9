import { RegistryError } from './errors.js';

/**
 * Repository name grammar from the OCI Distribution Spec:
 *   [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*
 * Because every component must start and end with [a-z0-9], "." and ".." can never be
 * components, so a valid name cannot traverse paths.
 */
const NAME_COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const NAME_GRAMMAR = new RegExp(`^${NAME_COMPONENT}(?:/${NAME_COMPONENT})*$`);
const TAG_GRAMMAR = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

/** Distribution's limit, which clients also assume (hostname + name under 255). */
export const MAX_NAME_LENGTH = 255;

export function isValidRepositoryName(name: string): boolean {
  return name.length > 0 && name.length <= MAX_NAME_LENGTH && NAME_GRAMMAR.test(name);
}

export function assertRepositoryName(name: string): string {
  if (!isValidRepositoryName(name)) {
    throw new RegistryError(
      'NAME_INVALID',
      `invalid repository name "${name.slice(0, 100)}": use lowercase path components of letters and digits separated by "/", with ".", "_", "__" or "-" inside a component`,
      { name: name.slice(0, 300) },
    );
  }
  return name;
}

export function isValidTag(tag: string): boolean {
  return TAG_GRAMMAR.test(tag);
}

export function assertTag(tag: string): string {
  if (!isValidTag(tag)) {
    throw new RegistryError(
      'TAG_INVALID',
      `invalid tag "${tag.slice(0, 140)}": a tag is 1 to 128 characters of letters, digits, "_", "." and "-", not starting with "." or "-"`,
      { tag: tag.slice(0, 140) },
    );
  }
  return tag;
}
