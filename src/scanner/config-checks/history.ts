import type { ConfigCheck } from './types.js';

/** `ADD [--flags] <url> …` in a history entry, as BuildKit (`ADD https://… /x # buildkit`) and the classic builder (`#(nop) ADD …`) record it. */
const ADD_URL = /(?:^|[\s)])ADD\s+(?:--[a-z-]+(?:=\S+)?\s+)*\[?"?(https?:\/\/[^\s"\]]+)/i;

export const addFromUrl: ConfigCheck = {
  id: 'build.add-from-url',
  title: 'ADD downloads from a URL',
  description:
    'A layer was built with `ADD <url>`: the build trusts whatever the URL served at the time, with no checksum, and the download cannot be reproduced or reviewed.',
  remediation: 'Download in a RUN step that verifies a checksum or signature (`curl -fsSLO <url> && echo "<sha256>  <file>" | sha256sum -c`), or use `ADD --checksum=sha256:<digest> <url>`.',
  severity: 'LOW',
  run({ config }) {
    const out: string[] = [];
    for (const h of config.history) {
      const m = ADD_URL.exec(h.createdBy);
      if (m && !/--checksum=/.test(h.createdBy)) out.push(`ADD ${m[1]}`);
    }
    return out;
  },
};

/**
 * The tag of an image reference, undefined when it has none (which means `latest`), null when it
 * is pinned by digest or not a literal reference (`scratch`, `$BASE`).
 */
export function referenceTag(ref: string): string | undefined | null {
  if (ref === 'scratch' || ref.includes('$') || ref.includes('@')) return null;
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? ref.slice(colon + 1) : undefined;
}

const FROM = /(?:^|[\s)])FROM\s+(?:--[a-z-]+=\S+\s+)*([^\s]+)/gi;

export const latestBase: ConfigCheck = {
  id: 'build.latest-base',
  title: 'Built from a `latest` base image',
  description:
    'The image history shows a base image referenced as `latest` (or with no tag): the base changes under the build, so two builds of the same Dockerfile differ and a rebuild can silently pick up a different OS release.',
  remediation: 'Pin the base image in FROM to a version tag and, better, a digest: `FROM debian:12.5@sha256:<digest>`.',
  severity: 'LOW',
  run({ config }) {
    const refs = new Set<string>();
    for (const h of config.history) {
      for (const text of [h.createdBy, h.comment]) {
        for (const m of text.matchAll(FROM)) {
          const tag = referenceTag(m[1]!);
          if (tag === undefined || tag === 'latest') refs.add(m[1]!);
        }
      }
    }
    const base = config.labels['org.opencontainers.image.base.name'];
    if (base) {
      const tag = referenceTag(base);
      if (tag === undefined || tag === 'latest') refs.add(base);
    }
    return [...refs].map((r) => `FROM ${r}`);
  },
};
