import { createHash, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
// Types only: the OpenPGP library (a large module) loads when a gpg key is first parsed, not at start.
import type * as openpgp from 'openpgp';
import type { TrustKeyKind } from '../metadata/schema.js';

/** A trusted key as read from what a Manager registered: its kind, the parsed key and its fingerprint. */
export type ParsedTrustKey =
  | { kind: 'gpg'; fingerprint: string; key: openpgp.PublicKey; userIds: string[] }
  | { kind: 'sigstore'; fingerprint: string; key: KeyObject; algorithm: 'ecdsa-p256' | 'ed25519' }
  | { kind: 'x509'; fingerprint: string; certificate: X509Certificate };

export class TrustKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrustKeyError';
  }
}

/** Largest key text taken (an armored RSA-4096 key with a few user ids is ~3 KiB). */
export const MAX_KEY_BYTES = 64 * 1024;

/**
 * Reads a public key for its kind: an armored OpenPGP public key for `gpg`, a PEM public key (ECDSA
 * P-256 or Ed25519, what `cosign generate-key-pair` writes as cosign.pub) for `sigstore`, a PEM CA
 * certificate for `x509` (the root of notation signatures' chains). Private keys are refused.
 */
export async function parseTrustKey(kind: TrustKeyKind, text: string): Promise<ParsedTrustKey> {
  if (text.length > MAX_KEY_BYTES) throw new TrustKeyError(`the key is ${text.length} bytes; a public key is at most ${MAX_KEY_BYTES}`);
  if (/PRIVATE KEY/.test(text)) throw new TrustKeyError('this is a private key: register the public key only (gpg --armor --export <id>, or cosign.pub)');
  if (kind === 'x509') {
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(text);
    } catch (err) {
      throw new TrustKeyError(`not a PEM X.509 certificate (${(err as Error).message}): give the CA certificate notation signatures chain to`);
    }
    return { kind: 'x509', fingerprint: `sha256:${certificate.fingerprint256.replace(/:/g, '').toLowerCase()}`, certificate };
  }
  if (kind === 'gpg') {
    let key: openpgp.Key;
    try {
      const { readKey } = await import('openpgp');
      key = await readKey({ armoredKey: text });
    } catch (err) {
      throw new TrustKeyError(`not an armored OpenPGP public key (${(err as Error).message}): export it with gpg --armor --export <key id>`);
    }
    if (key.isPrivate()) throw new TrustKeyError('this is a private key: register the public key only (gpg --armor --export <id>)');
    return { kind: 'gpg', fingerprint: key.getFingerprint().toUpperCase(), key: key as openpgp.PublicKey, userIds: key.getUserIDs() };
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: text, format: 'pem' });
  } catch (err) {
    throw new TrustKeyError(`not a PEM public key (${(err as Error).message}): give cosign.pub or "openssl pkey -pubout" output`);
  }
  const algorithm = sigstoreAlgorithm(key);
  if (!algorithm) {
    throw new TrustKeyError(`a ${key.asymmetricKeyType}${key.asymmetricKeyDetails?.namedCurve ? ` ${key.asymmetricKeyDetails.namedCurve}` : ''} key is not taken: sigstore keys are ECDSA P-256 or Ed25519`);
  }
  const der = key.export({ type: 'spki', format: 'der' });
  return { kind: 'sigstore', fingerprint: `sha256:${createHash('sha256').update(der).digest('hex')}`, key, algorithm };
}

function sigstoreAlgorithm(key: KeyObject): 'ecdsa-p256' | 'ed25519' | undefined {
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ecdsa-p256';
  return undefined;
}

/** The name policies and commands use for a key: letters, digits, '.', '_', '-', up to 64. */
export const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A trusted key ready to verify with: its registered name and parsed form. */
export interface TrustedKey {
  name: string;
  /** Null: trusted in every namespace of the account. */
  namespace: string | null;
  parsed: ParsedTrustKey;
}

/** 16 hex digits of an OpenPGP key id, as gpg prints them. */
export function keyIdHex(id: openpgp.KeyID): string {
  return id.toHex().toUpperCase();
}

/** Whether the OpenPGP key (or one of its subkeys) has this key id. */
export function gpgKeyHasId(key: openpgp.PublicKey, id: openpgp.KeyID): boolean {
  return key.getKeyIDs().some((k) => k.equals(id));
}
