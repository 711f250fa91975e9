import { createHash, type Hash } from 'node:crypto';
import { RegistryError } from './errors.js';

/** Algorithms this registry can verify, with the length of their hex encoding. */
const ALGORITHMS = { sha256: 64, sha512: 128 } as const;
export type DigestAlgorithm = keyof typeof ALGORITHMS;

export interface Digest {
  readonly algorithm: DigestAlgorithm;
  readonly hex: string;
  /** `algorithm:hex`, the canonical string form. */
  readonly value: string;
}

// Grammar from the OCI image spec: algorithm ":" encoded, where registered
// algorithms have fixed lowercase-hex encodings.
const DIGEST_GRAMMAR = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** Parses a digest string, or returns undefined when it is not one this registry accepts. */
export function tryParseDigest(input: string): Digest | undefined {
  if (input.length > 256 || !DIGEST_GRAMMAR.test(input)) return undefined;
  const colon = input.indexOf(':');
  const algorithm = input.slice(0, colon);
  const hex = input.slice(colon + 1);
  if (!(algorithm in ALGORITHMS)) return undefined;
  const alg = algorithm as DigestAlgorithm;
  if (hex.length !== ALGORITHMS[alg] || !/^[a-f0-9]+$/.test(hex)) return undefined;
  return { algorithm: alg, hex, value: input };
}

export function parseDigest(input: string): Digest {
  const digest = tryParseDigest(input);
  if (!digest) {
    throw new RegistryError('DIGEST_INVALID', `invalid digest "${truncate(input)}": expected sha256:<64 hex> or sha512:<128 hex>`, { digest: truncate(input) });
  }
  return digest;
}

export function isDigest(input: string): boolean {
  return tryParseDigest(input) !== undefined;
}

export function createDigester(algorithm: DigestAlgorithm = 'sha256'): Hash {
  return createHash(algorithm);
}

export function digestOf(data: Uint8Array | string, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}

function truncate(s: string): string {
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}
