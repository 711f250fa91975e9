import { verify } from 'node:crypto';
import type { TrustedKey } from './keys.js';
import { otherDigest, readPayloadClaims, type SignatureVerdict } from './verdict.js';

/** Media types and annotations of sigstore's cosign (cosign/pkg/oci/static, pkg/types). */
export const COSIGN = {
  simpleSigningLayer: 'application/vnd.dev.cosign.simplesigning.v1+json',
  signatureAnnotation: 'dev.cosignproject.cosign/signature',
  certificateAnnotation: 'dev.sigstore.cosign/certificate',
  dsseLayer: 'application/vnd.dsse.envelope.v1+json',
  /** artifactType of cosign's signatures stored as OCI 1.1 referrers. */
  signatureArtifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
  payloadType: 'cosign container image signature',
  inTotoPayloadType: 'application/vnd.in-toto+json',
} as const;

function keysOf(keys: TrustedKey[]): Array<TrustedKey & { parsed: { kind: 'sigstore' } }> {
  return keys.filter((k): k is TrustedKey & { parsed: { kind: 'sigstore' } } => k.parsed.kind === 'sigstore');
}

/** Which trusted sigstore key the raw signature over `data` verifies with (ECDSA P-256 over SHA-256, or Ed25519). */
function verifyingKey(data: Uint8Array, signature: Buffer, keys: TrustedKey[]): TrustedKey | undefined {
  return keysOf(keys).find((k) => {
    try {
      return k.parsed.kind === 'sigstore' && verify(k.parsed.algorithm === 'ed25519' ? null : 'sha256', data, k.parsed.key, signature);
    } catch {
      return false;
    }
  });
}

function unknownKey(keys: TrustedKey[]): string {
  const names = keysOf(keys).map((k) => k.name);
  return names.length === 0
    ? 'signed by an unknown key: no sigstore key is trusted for this account or namespace (add cosign.pub with wharf trust key add --kind sigstore)'
    : `signed by an unknown key, or tampered: none of the trusted sigstore keys (${names.join(', ')}) verifies it`;
}

function decodeSignature(text: string | undefined): Buffer | undefined {
  if (!text || !/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}

/**
 * A cosign signature layer: the payload (the layer's bytes) signed as is, the signature base64 in the
 * layer's annotation; the payload must name this image's digest.
 */
export function verifyCosignSignature(payload: Uint8Array, signatureText: string | undefined, digest: string, keys: TrustedKey[]): SignatureVerdict {
  const verdict: SignatureVerdict = { format: 'cosign', kind: 'signature', key: null, verified: false };
  const signature = decodeSignature(signatureText);
  if (!signature) return { ...verdict, reason: `tampered: the layer's ${COSIGN.signatureAnnotation} annotation is not a base64 signature` };
  const claims = readPayloadClaims(payload, COSIGN.payloadType);
  const identity = typeof claims === 'string' ? {} : claims.identity ? { identity: claims.identity } : {};
  const key = verifyingKey(payload, signature, keys);
  if (!key) return { ...verdict, ...identity, reason: unknownKey(keys) };
  if (typeof claims === 'string') return { ...verdict, reason: `not an image signature: ${claims}` };
  if (claims.digest !== digest) return { ...verdict, ...identity, reason: otherDigest(claims.digest, digest) };
  return { ...verdict, ...identity, key: key.name, verified: true };
}

/** DSSE's pre-authentication encoding: what the envelope's signatures sign. */
export function dssePae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

/**
 * A cosign attestation: a DSSE envelope around an in-toto statement; one of its signatures must
 * verify with a trusted key over the PAE, and the statement's subject must include this image's digest.
 */
export function verifyCosignAttestation(envelopeBytes: Uint8Array, digest: string, keys: TrustedKey[]): SignatureVerdict {
  const verdict: SignatureVerdict = { format: 'cosign', kind: 'attestation', key: null, verified: false };
  let envelope: { payloadType?: unknown; payload?: unknown; signatures?: Array<{ sig?: unknown; keyid?: unknown }> };
  try {
    envelope = JSON.parse(Buffer.from(envelopeBytes).toString('utf8')) as typeof envelope;
  } catch {
    return { ...verdict, reason: 'tampered: the attestation is not a JSON DSSE envelope' };
  }
  if (typeof envelope.payloadType !== 'string' || typeof envelope.payload !== 'string' || !Array.isArray(envelope.signatures)) {
    return { ...verdict, reason: 'tampered: the DSSE envelope lacks payloadType, payload or signatures' };
  }
  const payload = Buffer.from(envelope.payload, 'base64');
  const pae = dssePae(envelope.payloadType, payload);
  let key: TrustedKey | undefined;
  for (const sig of envelope.signatures) {
    const signature = typeof sig?.sig === 'string' ? decodeSignature(sig.sig) : undefined;
    key = signature && verifyingKey(pae, signature, keys);
    if (key) break;
  }
  if (!key) return { ...verdict, reason: unknownKey(keys) };
  let subjects: Array<{ digest?: Record<string, unknown> }> = [];
  let predicateType: unknown;
  try {
    const statement = JSON.parse(payload.toString('utf8')) as { subject?: typeof subjects; predicateType?: unknown };
    subjects = Array.isArray(statement.subject) ? statement.subject : [];
    predicateType = statement.predicateType;
  } catch {
    return { ...verdict, reason: 'not an attestation: the signed payload is not an in-toto statement' };
  }
  const [algorithm, hex] = digest.split(':');
  if (!subjects.some((s) => s?.digest?.[algorithm!] === hex)) {
    const claimed = subjects.map((s) => Object.entries(s?.digest ?? {}).map(([a, h]) => `${a}:${String(h)}`)).flat();
    return { ...verdict, reason: otherDigest(claimed[0] ?? 'no digest', digest) };
  }
  return { ...verdict, key: key.name, verified: true, ...(typeof predicateType === 'string' ? { predicateType } : {}) };
}
