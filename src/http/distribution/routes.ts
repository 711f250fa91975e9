/**
 * The /v2/ URL space (and the signature API under /extensions/v2/). Repository names contain slashes, so routes are matched here on the raw,
 * undecoded path: percent-encoded tricks never decode into a name and fail the name grammar instead.
 */
export type DistributionRoute =
  | { family: 'base' }
  | { family: 'catalog' }
  | { family: 'tags'; name: string }
  | { family: 'manifests'; name: string; reference: string }
  | { family: 'blobs'; name: string; digest: string }
  | { family: 'uploads'; name: string; uploadId?: string }
  | { family: 'referrers'; name: string; digest: string }
  | { family: 'signatures'; name: string; digest: string };

const PATTERNS: Array<[RegExp, (m: RegExpExecArray) => DistributionRoute]> = [
  [/^\/v2\/?$/, () => ({ family: 'base' })],
  [/^\/v2\/_catalog$/, () => ({ family: 'catalog' })],
  [/^\/v2\/(.+)\/tags\/list$/, (m) => ({ family: 'tags', name: m[1]! })],
  [/^\/v2\/(.+)\/manifests\/([^/]+)$/, (m) => ({ family: 'manifests', name: m[1]!, reference: m[2]! })],
  [/^\/v2\/(.+)\/blobs\/uploads\/?$/, (m) => ({ family: 'uploads', name: m[1]! })],
  [/^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/, (m) => ({ family: 'uploads', name: m[1]!, uploadId: m[2]! })],
  [/^\/v2\/(.+)\/blobs\/([^/]+)$/, (m) => ({ family: 'blobs', name: m[1]!, digest: m[2]! })],
  [/^\/v2\/(.+)\/referrers\/([^/]+)$/, (m) => ({ family: 'referrers', name: m[1]!, digest: m[2]! })],
  // The registry signature API lives beside /v2/, as in OpenShift's registry (containers/image's extensionsSignaturePath).
  [/^\/extensions\/v2\/(.+)\/signatures\/([^/]+)$/, (m) => ({ family: 'signatures', name: m[1]!, digest: m[2]! })],
];

export function matchRoute(pathname: string): DistributionRoute | undefined {
  for (const [pattern, build] of PATTERNS) {
    const match = pattern.exec(pathname);
    if (match) return build(match);
  }
  return undefined;
}

/** Path and query of a raw request URL, without decoding the path. */
export function splitUrl(rawUrl: string): { pathname: string; query: URLSearchParams } {
  const q = rawUrl.indexOf('?');
  return q === -1
    ? { pathname: rawUrl, query: new URLSearchParams() }
    : { pathname: rawUrl.slice(0, q), query: new URLSearchParams(rawUrl.slice(q + 1)) };
}
