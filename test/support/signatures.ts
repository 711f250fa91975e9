import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, generateKeyPairSync, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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

export interface NotationTestChain {
  /** PEM of the root CA certificate (the trust anchor). */
  rootPem: string;
  /** base64 DER certificates, leaf first, as the JWS x5c header carries them. */
  x5c: string[];
  leafKey: KeyObject;
}

/** A root CA and a leaf certificate signed by it (ECDSA P-256), made with openssl in a throwaway directory. */
export function notationTestChain(name: string): NotationTestChain {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wharf-notation-'));
  try {
    const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${name} root CA`, '-days', '2',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign', '-keyout', 'root.key', '-out', 'root.pem');
    run('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${name} signer/O=Wharf tests`, '-keyout', 'leaf.key', '-out', 'leaf.csr');
    writeFileSync(path.join(dir, 'ext.cnf'), 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n');
    run('x509', '-req', '-in', 'leaf.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-CAcreateserial', '-days', '1', '-extfile', 'ext.cnf', '-out', 'leaf.pem');
    const der = (file: string) => new X509Certificate(readFileSync(path.join(dir, file))).raw.toString('base64');
    return { rootPem: readFileSync(path.join(dir, 'root.pem'), 'utf8'), x5c: [der('leaf.pem'), der('root.pem')], leafKey: createPrivateKey(readFileSync(path.join(dir, 'leaf.key'))) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A notation JWS envelope (notary.x509, ES256) over the payload naming `digest`, as notation sign writes it. */
export function notationJws(chain: NotationTestChain, digest: string, options: { expiry?: string; header?: Record<string, unknown> } = {}): Buffer {
  const protectedHeader = {
    alg: 'ES256', cty: 'application/vnd.cncf.notary.payload.v1+json', 'io.cncf.notary.signingScheme': 'notary.x509',
    'io.cncf.notary.signingTime': new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    ...(options.expiry ? { 'io.cncf.notary.expiry': options.expiry } : {}),
    crit: ['io.cncf.notary.signingScheme', ...(options.expiry ? ['io.cncf.notary.expiry'] : [])],
    ...options.header,
  };
  const payload = { targetArtifact: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size: 1234 } };
  const protectedText = Buffer.from(JSON.stringify(protectedHeader)).toString('base64url');
  const payloadText = Buffer.from(JSON.stringify(payload)).toString('base64url');
  const signature = sign('sha256', Buffer.from(`${protectedText}.${payloadText}`), { key: chain.leafKey, dsaEncoding: 'ieee-p1363' }).toString('base64url');
  return Buffer.from(JSON.stringify({ payload: payloadText, protected: protectedText, header: { x5c: chain.x5c, 'io.cncf.notary.signingAgent': 'wharf-tests' }, signature }));
}
