import { tryParseDigest } from '../oci/digest.js';
import { isValidRepositoryName, isValidTag } from '../oci/names.js';

/** An image as a pod spec names it, with the host made explicit the way container runtimes do. */
export interface WorkloadImage {
  /** Lower-cased registry host with its port (`docker.io` when the reference names none). */
  host: string;
  repository: string;
  tag?: string;
  digest?: string;
}

export class ImageReferenceError extends Error {}

/**
 * Parses `[host[:port]/]path[:tag][@digest]` as the kubelet hands it to the runtime: a first
 * component with "." or ":" (or `localhost`) is a host; without one the image is on Docker Hub, and
 * a one-component name is in `library/`. No tag and no digest means the runtime pulls `latest`.
 */
export function parseWorkloadImage(text: string): WorkloadImage {
  if (text.length === 0 || text.length > 1024 || /\s/.test(text)) throw new ImageReferenceError(`"${text.slice(0, 200)}" is not an image reference`);
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!tryParseDigest(digest)) throw new ImageReferenceError(`"${text.slice(0, 200)}" has a malformed digest: write @sha256: and 64 hex characters`);
  }
  let host = 'docker.io';
  const slash = rest.indexOf('/');
  if (slash !== -1) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      host = first.toLowerCase();
      rest = rest.slice(slash + 1);
    }
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon !== -1 && !rest.slice(colon).includes('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!isValidTag(tag)) throw new ImageReferenceError(`"${text.slice(0, 200)}" has an invalid tag "${tag.slice(0, 130)}"`);
  }
  if (host === 'docker.io' && !rest.includes('/')) rest = `library/${rest}`;
  if (!isValidRepositoryName(rest)) throw new ImageReferenceError(`"${text.slice(0, 200)}" is not an image reference: "${rest.slice(0, 200)}" is not a repository name`);
  if (!tag && !digest) tag = 'latest';
  return { host, repository: rest, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** The reference pinned to `digest`, the tag kept for people reading the pod (runtimes pull by the digest). */
export function pinnedReference(image: WorkloadImage, digest: string): string {
  return `${image.host}/${image.repository}${image.tag ? `:${image.tag}` : ''}@${digest}`;
}
