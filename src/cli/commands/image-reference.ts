import type { ApiClient } from '../api-client.js';
import { UsageError } from '../context.js';

/**
 * An image reference as the API takes it: `namespace/repository:tag` or `namespace/repository@digest`.
 * The registry's own host may lead (as `wharf image list -q` prints references), and is dropped.
 */
export function apiReference(api: ApiClient, text: string, need: 'any' | 'tag-or-digest' | 'digest' = 'any'): string {
  let ref = text.trim();
  const prefix = `${api.host}/`;
  if (ref.startsWith(prefix)) ref = ref.slice(prefix.length);
  const firstSlash = ref.indexOf('/');
  if (firstSlash === -1) throw new UsageError(`"${text}" names no namespace: write <namespace>/<repository>:<tag> or <namespace>/<repository>@sha256:<digest>`);
  const first = ref.slice(0, firstSlash);
  if (first.includes('.') || first.includes(':') || first === 'localhost') {
    throw new UsageError(`"${text}" is an image on ${first}, but you are logged in to ${api.host}: drop the host, or run wharf login ${first}`);
  }
  const at = ref.indexOf('@');
  const lastPart = ref.slice(ref.lastIndexOf('/') + 1);
  const hasDigest = at !== -1;
  const hasTag = !hasDigest && lastPart.includes(':');
  if (hasDigest && !/^sha256:[a-f0-9]{64}$|^sha512:[a-f0-9]{128}$/.test(ref.slice(at + 1))) {
    throw new UsageError(`"${text}" has a malformed digest: a digest is sha256: and 64 hex characters (see wharf image digests)`);
  }
  if (need === 'digest' && !hasDigest) throw new UsageError(`"${text}" names no digest: write <namespace>/<repository>@sha256:<digest> (see wharf trash list)`);
  if (need === 'tag-or-digest' && !hasDigest && !hasTag) {
    throw new UsageError(`"${text}" names neither a tag nor a digest: write ${ref}:<tag> to untag, or ${ref}@sha256:<digest> to move the image to the trash`);
  }
  return ref;
}

/** The path segment of an image reference: one URL-encoded segment, slashes included. */
export function referencePath(ref: string): string {
  return `/images/${encodeURIComponent(ref)}`;
}
