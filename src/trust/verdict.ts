/** What Wharf concluded about one signature an image carries. The contract image policies use. */
export interface SignatureVerdict {
  format: 'simple-signing' | 'cosign' | 'notation';
  /** Name of the trusted key it verified with, or null. */
  key: string | null;
  verified: boolean;
  /** Why not, in words a developer can act on ("signed by an unknown key 0x…", "signature is for sha256:… not this image", "tampered: …") */
  reason?: string;
  /** Identity in the signature (GPG user id, certificate subject, ...). */
  signer?: string;
  /** A signature, or an attestation (a signed in-toto statement about the image). */
  kind?: 'signature' | 'attestation';
  /** Where it is stored: the signature API, a cosign tag (sha256-….sig/.att), or an OCI referrer. */
  source?: 'signature-api' | 'tag' | 'referrer';
  /** Digest of the manifest that carries it (tags and referrers). */
  manifest?: string;
  /** The docker reference the signature claims (simple signing and cosign payloads). */
  identity?: string;
  /** Fingerprint or key id of the signing key, when the signature names it. */
  keyId?: string;
  /** What an attestation states (its in-toto predicateType: SLSA provenance, an SBOM, ...). */
  predicateType?: string;
}

/** Signature payloads are small JSON; anything bigger is refused unread. */
export const MAX_PAYLOAD_BYTES = 256 * 1024;

/** The image digest a simple-signing or cosign payload claims, and its docker reference. */
export function readPayloadClaims(payload: Uint8Array, expectedType: string): { digest: string; identity?: string } | string {
  let parsed: { critical?: { type?: unknown; image?: { 'docker-manifest-digest'?: unknown }; identity?: { 'docker-reference'?: unknown } } };
  try {
    parsed = JSON.parse(Buffer.from(payload).toString('utf8')) as typeof parsed;
  } catch {
    return 'the signed payload is not JSON';
  }
  const critical = parsed?.critical;
  if (!critical || critical.type !== expectedType) return `the signed payload is not a "${expectedType}" (critical.type is ${JSON.stringify(critical?.type ?? null)})`;
  const digest = critical.image?.['docker-manifest-digest'];
  if (typeof digest !== 'string') return 'the signed payload names no image digest (critical.image.docker-manifest-digest)';
  const identity = critical.identity?.['docker-reference'];
  return { digest, ...(typeof identity === 'string' ? { identity } : {}) };
}

export function otherDigest(claimed: string, digest: string): string {
  return `signature is for ${claimed} not this image (${digest}): it was made for another image and copied here`;
}
