import { RegistryError } from './errors.js';
import { tryParseDigest } from './digest.js';
import { isValidRepositoryName, isValidTag } from './names.js';

export interface ImageReference {
  name: string;
  tag?: string;
  digest?: string;
}

/**
 * Parses `[host[:port]/]name[:tag][@digest]` as users write image references. A first component with
 * "." or ":" (or "localhost") is a registry host and is dropped. Without tag or digest, the tag is "latest".
 */
export function parseImageReference(text: string): ImageReference {
  let rest = text.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!tryParseDigest(digest)) throw new RegistryError('DIGEST_INVALID', `"${digest.slice(0, 80)}" in ${text.slice(0, 200)} is not a digest`, null);
  }
  const slash = rest.indexOf('/');
  if (slash !== -1) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') rest = rest.slice(slash + 1);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon !== -1 && !rest.slice(colon).includes('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!isValidTag(tag)) throw new RegistryError('TAG_INVALID', `"${tag.slice(0, 130)}" is not a valid tag`, null);
  }
  if (!isValidRepositoryName(rest)) throw new RegistryError('NAME_INVALID', `"${rest.slice(0, 200)}" is not a valid repository name (use <namespace>/<repository>)`, null);
  if (!tag && !digest) tag = 'latest';
  return { name: rest, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

export function formatImageReference(ref: ImageReference): string {
  return `${ref.name}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}
