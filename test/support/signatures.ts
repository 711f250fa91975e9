import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import * as openpgp from 'openpgp';

/**
 * Signatures built exactly as their formats specify, for tests: Red Hat simple signing (an OpenPGP
 * signed message over containers/image's payload JSON) and sigstore/cosign (a simplesigning payload
 * signed with ECDSA P-256 or Ed25519, the signature base64 in a layer annotation).
 */

export function simpleSigningPayload(digest: string, reference: string): Buffer {
  return Buffer.from(JSON.stringify({
    critical: { identity: { 'docker-reference': reference }, image: { 'docker-manifest-digest': digest }, type: 'atomic container signature' },
    optional: { creator: 'wharf tests', timestamp: Math.floor(Date.now() / 1000) },
  }));
}

export function cosignPayload(digest: string, reference: string): Buffer {
  return Buffer.from(JSON.stringify({
    critical: { identity: { 'docker-reference': reference }, image: { 'docker-manifest-digest': digest }, type: 'cosign container image signature' },
    optional: null,
  }));
}

export interface GpgTestKey {
  publicKey: string;
  privateKey: openpgp.PrivateKey;
  fingerprint: string;
  keyId: string;
}

export async function gpgTestKey(name: string): Promise<GpgTestKey> {
  const { privateKey, publicKey } = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name, email: `${name}@example.com` }], format: 'armored' });
  const key = await openpgp.readPrivateKey({ armoredKey: privateKey });
  return { publicKey, privateKey: key, fingerprint: key.getFingerprint().toUpperCase(), keyId: key.getKeyID().toHex().toUpperCase() };
}

/** An OpenPGP signed message (not detached) over the payload, as `gpg --sign` makes it. */
export async function gpgSign(key: GpgTestKey, payload: Buffer): Promise<Buffer> {
  const message = await openpgp.createMessage({ binary: payload });
  const signed = await openpgp.sign({ message, signingKeys: key.privateKey, format: 'binary' });
  return Buffer.from(signed as Uint8Array);
}

export interface SigstoreTestKey {
  privateKey: KeyObject;
  publicPem: string;
  algorithm: 'ecdsa-p256' | 'ed25519';
}

export function sigstoreTestKey(algorithm: 'ecdsa-p256' | 'ed25519' = 'ecdsa-p256'): SigstoreTestKey {
  const pair = algorithm === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { privateKey: pair.privateKey, publicPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(), algorithm };
}

/** Base64 signature as cosign puts it in the dev.cosignproject.cosign/signature annotation. */
export function cosignSign(key: SigstoreTestKey, data: Buffer): string {
  return sign(key.algorithm === 'ed25519' ? null : 'sha256', data, key.privateKey).toString('base64');
}

export function dsseEnvelope(key: SigstoreTestKey, digest: string, reference: string): Buffer {
  const statement = Buffer.from(JSON.stringify({
    _type: 'https://in-toto.io/Statement/v0.1', predicateType: 'https://slsa.dev/provenance/v0.2',
    subject: [{ name: reference, digest: { sha256: digest.split(':')[1] } }], predicate: { builder: { id: 'wharf-tests' } },
  }));
  const type = 'application/vnd.in-toto+json';
  const pae = Buffer.concat([Buffer.from(`DSSEv1 ${type.length} ${type} ${statement.length} `), statement]);
  return Buffer.from(JSON.stringify({ payloadType: type, payload: statement.toString('base64'), signatures: [{ keyid: '', sig: cosignSign(key, pae) }] }));
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}
