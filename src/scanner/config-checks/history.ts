import type { ConfigCheck } from './types.js';

/** The Dockerfile instruction a history entry records: its keyword, its flags and its arguments. */
export interface HistoryInstruction {
  keyword: string;
  /** `--platform=linux/amd64`, `--chown=1:1`, `--checksum=sha256:…` as written. */
  flags: string[];
  args: string[];
}

/** The classic builder (and buildah) prefix every non-RUN instruction with a no-op shell: `/bin/sh -c #(nop) CMD […]`. */
const NO_OP_SHELL = /^(?:\/bin\/(?:ba)?sh|sh|cmd(?:\.exe)?)\s+(?:-c|\/S\s+\/C)\s+#\(nop\)\s*/i;
/** BuildKit appends this to the instructions it records. */
const BUILDKIT_MARK = /\s+#\s*buildkit\s*$/;
const KEYWORD = /^([A-Z]+)(?:\s+|$)/;
const FLAG = /^--[a-z-]+(?:=\S*)?(?:\s+|$)/;
const INSTRUCTIONS = new Set(['ADD', 'ARG', 'CMD', 'COPY', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'FROM', 'HEALTHCHECK', 'LABEL', 'MAINTAINER', 'ONBUILD', 'RUN', 'SHELL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR']);

function words(text: string): string[] {
  if (text.startsWith('[')) {
    // The exec form: a JSON array (the classic builder prints it without commas).
    try {
      const parsed: unknown = JSON.parse(text);
      if (Array.isArray(parsed) && parsed.every((w) => typeof w === 'string')) return parsed as string[];
    } catch {
      return text.slice(1, text.endsWith(']') ? -1 : undefined).split(/[\s,]+/).map((w) => w.replace(/^"|"$/g, '')).filter(Boolean);
    }
  }
  return text.split(/\s+/).filter(Boolean);
}

/**
 * The instruction of one history text (`created_by`, or buildah's `comment: "FROM …"`); undefined
 * for a shell command (the classic builder's RUN) or free text. Only a text that starts with the
 * instruction is one: a word inside a command or a quoted argument (`CMD ["echo","hello from x"]`)
 * is not.
 */
export function historyInstruction(text: string): HistoryInstruction | undefined {
  let rest = text.trim();
  const noOp = NO_OP_SHELL.exec(rest);
  if (noOp) rest = rest.slice(noOp[0].length);
  rest = rest.replace(BUILDKIT_MARK, '');
  const keyword = KEYWORD.exec(rest);
  if (!keyword || !INSTRUCTIONS.has(keyword[1]!)) return undefined;
  rest = rest.slice(keyword[0].length).trim();
  const flags: string[] = [];
  for (let flag = FLAG.exec(rest); flag; flag = FLAG.exec(rest)) {
    flags.push(flag[0].trim());
    rest = rest.slice(flag[0].length);
  }
  return { keyword: keyword[1]!, flags, args: words(rest.trim()) };
}

function instructions(history: ReadonlyArray<{ createdBy: string; comment: string }>): HistoryInstruction[] {
  return history.flatMap((h) => [h.createdBy, h.comment]).map(historyInstruction).filter((i): i is HistoryInstruction => i !== undefined);
}

export const addFromUrl: ConfigCheck = {
  id: 'build.add-from-url',
  title: 'ADD downloads from a URL',
  description:
    'A layer was built with `ADD <url>`: the build trusts whatever the URL served at the time, with no checksum, and the download cannot be reproduced or reviewed.',
  remediation: 'Download in a RUN step that verifies a checksum or signature (`curl -fsSLO <url> && echo "<sha256>  <file>" | sha256sum -c`), or use `ADD --checksum=sha256:<digest> <url>`.',
  severity: 'LOW',
  run({ config }) {
    const out: string[] = [];
    for (const i of instructions(config.history)) {
      if (i.keyword !== 'ADD' || i.flags.some((f) => f.startsWith('--checksum='))) continue;
      // Every argument but the destination is a source (the classic builder writes `… in <dest>`).
      for (const source of i.args.slice(0, -1)) if (/^https?:\/\//i.test(source)) out.push(`ADD ${source}`);
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

export const latestBase: ConfigCheck = {
  id: 'build.latest-base',
  title: 'Built from a `latest` base image',
  description:
    'The image history shows a base image referenced as `latest` (or with no tag): the base changes under the build, so two builds of the same Dockerfile differ and a rebuild can silently pick up a different OS release.',
  remediation: 'Pin the base image in FROM to a version tag and, better, a digest: `FROM debian:12.5@sha256:<digest>`.',
  severity: 'LOW',
  run({ config }) {
    const refs = new Set<string>();
    for (const i of instructions(config.history)) {
      const ref = i.keyword === 'FROM' ? i.args[0] : undefined;
      if (ref === undefined) continue;
      const tag = referenceTag(ref);
      if (tag === undefined || tag === 'latest') refs.add(ref);
    }
    const base = config.labels['org.opencontainers.image.base.name'];
    if (base) {
      const tag = referenceTag(base);
      if (tag === undefined || tag === 'latest') refs.add(base);
    }
    return [...refs].map((r) => `FROM ${r}`);
  },
};
