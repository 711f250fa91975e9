import type * as openpgp from 'openpgp';
import { gpgKeyHasId, keyIdHex, type TrustedKey } from './keys.js';
import { otherDigest, readPayloadClaims, type SignatureVerdict } from './verdict.js';

/** containers/image's signature/simple.go: the critical.type of a simple signing payload. */
export const SIMPLE_SIGNING_TYPE = 'atomic container signature';

/**
 * Verifies a Red Hat simple signature (an OpenPGP signed message whose literal data is the JSON payload)
 * as `policy.json`'s signedBy does: the signing key must be one of the trusted gpg keys, the signature
 * must verify, and the payload must name this image's digest.
 */
export async function verifySimpleSigning(content: Uint8Array, digest: string, keys: TrustedKey[]): Promise<SignatureVerdict> {
  const verdict: SignatureVerdict = { format: 'simple-signing', kind: 'signature', key: null, verified: false };
  let message: openpgp.Message<Uint8Array>;
  try {
    message = await (await import('openpgp')).readMessage({ binaryMessage: content });
  } catch (err) {
    return { ...verdict, reason: `tampered: not an OpenPGP signed message (${(err as Error).message})` };
  }
  const ids = message.getSigningKeyIDs();
  if (ids.length === 0) return { ...verdict, reason: 'tampered: the OpenPGP message carries no signature' };
  const keyId = `0x${keyIdHex(ids[0]!)}`;
  const trusted = keys.find((k) => k.parsed.kind === 'gpg' && ids.some((id) => gpgKeyHasId((k.parsed as { key: openpgp.PublicKey }).key, id)));
  if (!trusted || trusted.parsed.kind !== 'gpg') {
    return { ...verdict, keyId, reason: `signed by an unknown key ${keyId}: no trusted gpg key of this account or namespace has it (add its public key with wharf trust key add)` };
  }
  let payload: Uint8Array;
  try {
    const result = await (await import('openpgp')).verify({ message, verificationKeys: [trusted.parsed.key], format: 'binary', expectSigned: true });
    payload = result.data;
  } catch (err) {
    return { ...verdict, keyId, reason: `tampered: the signature does not verify with key ${trusted.name} (${(err as Error).message})` };
  }
  const signer = trusted.parsed.userIds[0];
  const claims = readPayloadClaims(payload, SIMPLE_SIGNING_TYPE);
  const base = { ...verdict, keyId, ...(signer ? { signer } : {}) };
  if (typeof claims === 'string') return { ...base, reason: `not an image signature: ${claims}` };
  if (claims.digest !== digest) return { ...base, ...(claims.identity ? { identity: claims.identity } : {}), reason: otherDigest(claims.digest, digest) };
  return { ...base, ...(claims.identity ? { identity: claims.identity } : {}), key: trusted.name, verified: true };
}
