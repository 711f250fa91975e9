import { constants, verify, X509Certificate, type KeyObject } from 'node:crypto';
import type { TrustedKey } from './keys.js';
import { otherDigest, type SignatureVerdict } from './verdict.js';

/** Notary Project signatures (notaryproject/specifications: signature-specification.md, signature-envelope-jws.md). */
export const NOTATION = {
  artifactType: 'application/vnd.cncf.notary.signature',
  jwsEnvelope: 'application/jose+json',
  coseEnvelope: 'application/cose',
  payloadType: 'application/vnd.cncf.notary.payload.v1+json',
} as const;

/** The JWS `alg` values the Notary Project allows, and how node:crypto checks each. */
const ALGORITHMS: Record<string, { hash: string; kind: 'rsa-pss' | 'ecdsa' }> = {
  PS256: { hash: 'sha256', kind: 'rsa-pss' }, PS384: { hash: 'sha384', kind: 'rsa-pss' }, PS512: { hash: 'sha512', kind: 'rsa-pss' },
  ES256: { hash: 'sha256', kind: 'ecdsa' }, ES384: { hash: 'sha384', kind: 'ecdsa' }, ES512: { hash: 'sha512', kind: 'ecdsa' },
};

/** Critical protected headers a verifier understands (signing scheme, times); any other makes the signature unverifiable. */
const UNDERSTOOD_CRITICAL = new Set(['io.cncf.notary.signingScheme', 'io.cncf.notary.expiry', 'io.cncf.notary.authenticSigningTime']);

interface JwsEnvelope { payload?: unknown; protected?: unknown; header?: { x5c?: unknown }; signature?: unknown }
interface ProtectedHeader { alg?: unknown; cty?: unknown; crit?: unknown; 'io.cncf.notary.signingScheme'?: unknown; 'io.cncf.notary.expiry'?: unknown }

function fromBase64Url(text: string): Buffer {
  return Buffer.from(text, 'base64url');
}

function verifyJws(alg: string, data: Buffer, key: KeyObject, signature: Buffer): boolean {
  const algorithm = ALGORITHMS[alg]!;
  try {
    return algorithm.kind === 'rsa-pss'
      ? verify(algorithm.hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, signature)
      : verify(algorithm.hash, data, { key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}

/** The trusted x509 certificate the chain ends in or contains, if any. */
function trustAnchor(chain: X509Certificate[], keys: TrustedKey[]): TrustedKey | undefined {
  const root = chain[chain.length - 1]!;
  return keys.find((k) => k.parsed.kind === 'x509' && (
    chain.some((c) => c.fingerprint256 === (k.parsed as { certificate: X509Certificate }).certificate.fingerprint256)
    || (root.checkIssued(k.parsed.certificate) && root.verify(k.parsed.certificate.publicKey))));
}

/**
 * A notation signature in a JWS envelope, under the notary.x509 scheme: the leaf certificate of x5c
 * signs `protected.payload` with the `alg` of its key, each certificate is signed by the next, the
 * chain ends at (or contains) a certificate the account trusts, every certificate is valid now, the
 * signature has not expired, and the payload's targetArtifact is this image. Timestamp countersignatures
 * and COSE envelopes are not verified.
 */
export function verifyNotationSignature(envelopeMediaType: string, envelope: Uint8Array | undefined, digest: string, keys: TrustedKey[], now = Date.now()): SignatureVerdict {
  const verdict: SignatureVerdict = { format: 'notation', kind: 'signature', key: null, verified: false };
  if (envelopeMediaType !== NOTATION.jwsEnvelope) {
    return { ...verdict, reason: 'notation signatures in COSE envelopes are listed but not verified by Wharf (verify with notation verify)' };
  }
  if (!envelope) return { ...verdict, reason: 'the signature envelope is missing from the repository, or too large' };
  let jws: JwsEnvelope;
  let header: ProtectedHeader;
  let chain: X509Certificate[];
  try {
    jws = JSON.parse(Buffer.from(envelope).toString('utf8')) as JwsEnvelope;
    if (typeof jws.protected !== 'string' || typeof jws.payload !== 'string' || typeof jws.signature !== 'string') throw new Error('protected, payload or signature is missing');
    header = JSON.parse(fromBase64Url(jws.protected).toString('utf8')) as ProtectedHeader;
    const x5c = jws.header?.x5c;
    if (!Array.isArray(x5c) || x5c.length === 0) throw new Error('the unprotected header has no x5c certificate chain');
    chain = x5c.map((c) => new X509Certificate(Buffer.from(String(c), 'base64')));
  } catch (err) {
    return { ...verdict, reason: `tampered: the envelope is not a notation JWS (${(err as Error).message})` };
  }
  const signer = chain[0]!.subject.replace(/\n/g, ', ');
  const base = { ...verdict, signer };
  const alg = typeof header.alg === 'string' ? header.alg : '';
  if (!ALGORITHMS[alg]) return { ...base, reason: `the signature algorithm ${JSON.stringify(header.alg ?? null)} is not one notation allows` };
  if (header.cty !== NOTATION.payloadType) return { ...base, reason: `the payload type is ${JSON.stringify(header.cty ?? null)}, not ${NOTATION.payloadType}` };
  if (header['io.cncf.notary.signingScheme'] !== 'notary.x509') return { ...base, reason: `signing scheme ${JSON.stringify(header['io.cncf.notary.signingScheme'] ?? null)} is not verified by Wharf (notary.x509 is)` };
  const critical = Array.isArray(header.crit) ? header.crit : [];
  const unknown = critical.filter((c) => !UNDERSTOOD_CRITICAL.has(String(c)));
  if (!critical.includes('io.cncf.notary.signingScheme') || unknown.length > 0) {
    return { ...base, reason: `the critical headers ${JSON.stringify(unknown.length > 0 ? unknown : critical)} cannot be processed (verify with notation verify)` };
  }
  if (!verifyJws(alg, Buffer.from(`${jws.protected as string}.${jws.payload as string}`, 'ascii'), chain[0]!.publicKey, fromBase64Url(jws.signature as string))) {
    return { ...base, reason: 'tampered: the signature does not verify with the signing certificate' };
  }
  for (let i = 0; i + 1 < chain.length; i++) {
    if (!chain[i]!.verify(chain[i + 1]!.publicKey)) return { ...base, reason: `tampered: certificate ${i + 1} of the chain is not signed by the next one` };
  }
  const stale = chain.find((c) => Date.parse(c.validFrom) > now || Date.parse(c.validTo) < now);
  if (stale) return { ...base, reason: `the certificate ${stale.subject.replace(/\n/g, ', ')} is not valid now (valid ${stale.validFrom} to ${stale.validTo})` };
  const anchor = trustAnchor(chain, keys);
  if (!anchor) {
    return { ...base, reason: `signed by an unknown certificate chain (root ${chain[chain.length - 1]!.subject.replace(/\n/g, ', ')}): add its CA certificate with wharf trust key add --kind x509` };
  }
  const expiry = header['io.cncf.notary.expiry'];
  if (typeof expiry === 'string' && Date.parse(expiry) < now) return { ...base, reason: `the signature expired at ${expiry}: sign the image again` };
  let target: { digest?: unknown } | undefined;
  try {
    target = (JSON.parse(fromBase64Url(jws.payload as string).toString('utf8')) as { targetArtifact?: { digest?: unknown } }).targetArtifact;
  } catch {
    return { ...base, reason: 'not an image signature: the payload is not JSON' };
  }
  if (typeof target?.digest !== 'string') return { ...base, reason: 'not an image signature: the payload names no targetArtifact digest' };
  if (target.digest !== digest) return { ...base, reason: otherDigest(target.digest, digest) };
  return { ...base, key: anchor.name, verified: true };
}
