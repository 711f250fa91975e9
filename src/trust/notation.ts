import { X509Certificate } from 'node:crypto';
import type { SignatureVerdict } from './verdict.js';

/** Notary Project signatures (notaryproject/specifications, signature-specification.md). */
export const NOTATION = {
  artifactType: 'application/vnd.cncf.notary.signature',
  jwsEnvelope: 'application/jose+json',
  coseEnvelope: 'application/cose',
} as const;

/**
 * A notation signature is listed with the identity of its signing certificate; verifying it needs
 * the X.509 trust store and trust policy notation defines, which Wharf does not hold yet, so it is
 * never reported as verified.
 */
export function describeNotationSignature(envelopeMediaType: string, envelope: Uint8Array | undefined): SignatureVerdict {
  const verdict: SignatureVerdict = {
    format: 'notation', kind: 'signature', key: null, verified: false,
    reason: 'notation signatures are listed but not verified: Wharf has no X.509 trust store for them yet (verify with notation verify)',
  };
  if (envelopeMediaType !== NOTATION.jwsEnvelope || !envelope) return verdict;
  try {
    const jws = JSON.parse(Buffer.from(envelope).toString('utf8')) as { header?: { x5c?: unknown } };
    const chain = jws.header?.x5c;
    if (Array.isArray(chain) && typeof chain[0] === 'string') {
      const leaf = new X509Certificate(Buffer.from(chain[0], 'base64'));
      return { ...verdict, signer: leaf.subject.replace(/\n/g, ', ') };
    }
  } catch {
    return { ...verdict, reason: 'tampered: the notation envelope is not a JWS JSON serialization' };
  }
  return verdict;
}
