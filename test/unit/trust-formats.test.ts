import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { parseTrustKey, TrustKeyError, type TrustedKey } from '../../src/trust/keys.js';
import { verifySimpleSigning } from '../../src/trust/simple-signing.js';
import { verifyCosignAttestation, verifyCosignSignature } from '../../src/trust/cosign.js';
import { parseExtensionSignature } from '../../src/trust/simple-signatures.js';
import { verifyNotationSignature } from '../../src/trust/notation.js';
import { cosignPayload, cosignSign, dsseEnvelope, gpgSign, gpgTestKey, notationJws, notationTestChain, sha256, sigstoreTestKey, simpleSigningPayload, type GpgTestKey } from '../support/signatures.js';

const DIGEST = sha256('an image manifest');
const OTHER = sha256('another image manifest');
const REF = 'registry.example/teama/app:v1';

async function trusted(name: string, kind: 'gpg' | 'sigstore' | 'x509', text: string): Promise<TrustedKey> {
  return { name, namespace: null, parsed: await parseTrustKey(kind, text) };
}

describe('trusted keys', () => {
  it('reads armored OpenPGP and PEM P-256/Ed25519 public keys with their fingerprints; refuses private keys, RSA and garbage with advice', async () => {
    const gpg = await gpgTestKey('ci');
    const parsed = await parseTrustKey('gpg', gpg.publicKey);
    assert.equal(parsed.fingerprint, gpg.fingerprint);
    const p256 = await parseTrustKey('sigstore', sigstoreTestKey('ecdsa-p256').publicPem);
    assert.ok(p256.kind === 'sigstore' && p256.algorithm === 'ecdsa-p256');
    assert.match(p256.fingerprint, /^sha256:[0-9a-f]{64}$/);
    const ed = await parseTrustKey('sigstore', sigstoreTestKey('ed25519').publicPem);
    assert.ok(ed.kind === 'sigstore' && ed.algorithm === 'ed25519');
    const { generateKeyPairSync } = await import('node:crypto');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    await assert.rejects(parseTrustKey('sigstore', rsa), (err: Error) => err instanceof TrustKeyError && /ECDSA P-256 or Ed25519/.test(err.message));
    await assert.rejects(parseTrustKey('gpg', 'not a key'), /gpg --armor --export/);
    await assert.rejects(parseTrustKey('sigstore', '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----'), /private key/);
    await assert.rejects(parseTrustKey('sigstore', gpg.publicKey), /PEM public key/);
  });
});

describe('simple signing (GPG)', () => {
  let ci: GpgTestKey;
  let stranger: GpgTestKey;
  let keys: TrustedKey[];
  before(async () => {
    ci = await gpgTestKey('ci');
    stranger = await gpgTestKey('stranger');
    keys = [await trusted('ci-key', 'gpg', ci.publicKey)];
  });

  it('verifies with the trusted key that made it, naming the key and the signer', async () => {
    const verdict = await verifySimpleSigning(await gpgSign(ci, simpleSigningPayload(DIGEST, REF)), DIGEST, keys);
    assert.equal(verdict.verified, true, verdict.reason);
    assert.equal(verdict.key, 'ci-key');
    assert.equal(verdict.format, 'simple-signing');
    assert.equal(verdict.identity, REF);
    assert.match(verdict.signer ?? '', /ci <ci@example.com>/);
  });

  it('reports an unknown key by its key id', async () => {
    const verdict = await verifySimpleSigning(await gpgSign(stranger, simpleSigningPayload(DIGEST, REF)), DIGEST, keys);
    assert.equal(verdict.verified, false);
    assert.equal(verdict.key, null);
    assert.equal(verdict.reason, `signed by an unknown key 0x${stranger.keyId}: no trusted gpg key of this account or namespace has it (add its public key with wharf trust key add)`);
  });

  it('reports a signature for another digest', async () => {
    const verdict = await verifySimpleSigning(await gpgSign(ci, simpleSigningPayload(OTHER, REF)), DIGEST, keys);
    assert.equal(verdict.verified, false);
    assert.match(verdict.reason ?? '', new RegExp(`^signature is for ${OTHER} not this image \\(${DIGEST}\\)`));
  });

  it('reports tampering: a changed payload byte, a truncated message, bytes that are no OpenPGP at all', async () => {
    const signed = await gpgSign(ci, simpleSigningPayload(DIGEST, REF));
    // The payload sits in a literal data packet in clear: change one character of the digest in it.
    const hexAt = signed.indexOf(Buffer.from(DIGEST.slice(7, 30)));
    assert.ok(hexAt > 0, 'the payload is in the message');
    const tampered = Buffer.from(signed);
    tampered[hexAt] = tampered[hexAt] === 0x61 ? 0x62 : 0x61;
    const changed = await verifySimpleSigning(tampered, DIGEST, keys);
    assert.equal(changed.verified, false);
    assert.match(changed.reason ?? '', /^tampered: the signature does not verify with key ci-key/);
    const cut = await verifySimpleSigning(signed.subarray(0, signed.length - 20), DIGEST, keys);
    assert.equal(cut.verified, false);
    assert.match(cut.reason ?? '', /^tampered:/);
    const garbage = await verifySimpleSigning(Buffer.from('not a signature'), DIGEST, keys);
    assert.match(garbage.reason ?? '', /^tampered: not an OpenPGP signed message/);
  });
});

describe('cosign', () => {
  const key = sigstoreTestKey('ecdsa-p256');
  const edKey = sigstoreTestKey('ed25519');
  const stranger = sigstoreTestKey('ecdsa-p256');
  let keys: TrustedKey[];
  before(async () => {
    keys = [await trusted('cosign-p256', 'sigstore', key.publicPem), await trusted('cosign-ed', 'sigstore', edKey.publicPem)];
  });

  it('verifies ECDSA P-256 and Ed25519 signatures of the simplesigning payload with the key that made them', () => {
    const payload = cosignPayload(DIGEST, REF);
    const p256 = verifyCosignSignature(payload, cosignSign(key, payload), DIGEST, keys);
    assert.deepEqual([p256.verified, p256.key, p256.identity], [true, 'cosign-p256', REF]);
    const ed = verifyCosignSignature(payload, cosignSign(edKey, payload), DIGEST, keys);
    assert.deepEqual([ed.verified, ed.key], [true, 'cosign-ed']);
  });

  it('reports an unknown key, a tampered payload, another digest and a broken annotation', () => {
    const payload = cosignPayload(DIGEST, REF);
    const unknown = verifyCosignSignature(payload, cosignSign(stranger, payload), DIGEST, keys);
    assert.equal(unknown.verified, false);
    assert.match(unknown.reason ?? '', /signed by an unknown key, or tampered: none of the trusted sigstore keys \(cosign-p256, cosign-ed\) verifies it/);
    const tampered = verifyCosignSignature(cosignPayload(OTHER, REF), cosignSign(key, payload), DIGEST, keys);
    assert.equal(tampered.verified, false);
    assert.match(tampered.reason ?? '', /unknown key, or tampered/);
    const other = cosignPayload(OTHER, REF);
    const forOther = verifyCosignSignature(other, cosignSign(key, other), DIGEST, keys);
    assert.equal(forOther.verified, false);
    assert.match(forOther.reason ?? '', new RegExp(`^signature is for ${OTHER} not this image`));
    assert.match(verifyCosignSignature(payload, 'not base64!', DIGEST, keys).reason ?? '', /^tampered: .* annotation/);
    assert.match(verifyCosignSignature(payload, cosignSign(key, payload), DIGEST, []).reason ?? '', /no sigstore key is trusted/);
  });

  it('verifies a DSSE attestation over the PAE and checks its subject', () => {
    const att = verifyCosignAttestation(dsseEnvelope(key, DIGEST, REF), DIGEST, keys);
    assert.deepEqual([att.verified, att.key, att.kind, att.predicateType], [true, 'cosign-p256', 'attestation', 'https://slsa.dev/provenance/v0.2']);
    const other = verifyCosignAttestation(dsseEnvelope(key, OTHER, REF), DIGEST, keys);
    assert.match(other.reason ?? '', /^signature is for sha256:/);
    const envelope = JSON.parse(dsseEnvelope(key, DIGEST, REF).toString()) as { payload: string };
    envelope.payload = Buffer.from(Buffer.from(envelope.payload, 'base64').toString().replace('wharf-tests', 'someone-else')).toString('base64');
    assert.equal(verifyCosignAttestation(Buffer.from(JSON.stringify(envelope)), DIGEST, keys).verified, false);
  });
});

describe('signature API body', () => {
  it('takes containers/image\'s extensionSignature JSON and refuses other shapes with the expected form', () => {
    const content = Buffer.from('signature bytes');
    const name = `${DIGEST}@${'0123456789abcdef'.repeat(2)}`;
    const parsed = parseExtensionSignature(Buffer.from(JSON.stringify({ schemaVersion: 2, name, type: 'atomic', content: content.toString('base64') })), DIGEST);
    assert.deepEqual(parsed, { name, content });
    const bad = (body: unknown) => () => parseExtensionSignature(Buffer.from(JSON.stringify(body)), DIGEST);
    assert.throws(bad({ version: 2, name, type: 'atomic', content: 'AA==' }), /schemaVersion must be 2/);
    assert.throws(bad({ schemaVersion: 2, name: `${OTHER}@abc`, type: 'atomic', content: 'AA==' }), /the image's digest first/);
    assert.throws(bad({ schemaVersion: 2, name, type: 'cosign', content: 'AA==' }), /type must be "atomic"/);
    assert.throws(bad({ schemaVersion: 2, name, type: 'atomic', content: '' }), /base64/);
    assert.throws(() => parseExtensionSignature(Buffer.from('{'), DIGEST), /must be JSON/);
  });
});

describe('notation (JWS, notary.x509)', () => {
  const chain = notationTestChain('ci');
  const other = notationTestChain('stranger');
  let keys: TrustedKey[];
  before(async () => {
    keys = [await trusted('ci-ca', 'x509', chain.rootPem)];
  });

  it('verifies a signature whose chain ends at a trusted CA, naming the CA and the signing certificate', () => {
    const verdict = verifyNotationSignature('application/jose+json', notationJws(chain, DIGEST), DIGEST, keys);
    assert.equal(verdict.verified, true, verdict.reason);
    assert.equal(verdict.key, 'ci-ca');
    assert.match(verdict.signer ?? '', /CN=ci signer/);
  });

  it('reports an unknown chain, another digest, tampering, expiry and unknown critical headers', () => {
    assert.match(verifyNotationSignature('application/jose+json', notationJws(other, DIGEST), DIGEST, keys).reason ?? '', /^signed by an unknown certificate chain \(root CN=stranger root CA\)/);
    assert.match(verifyNotationSignature('application/jose+json', notationJws(chain, OTHER), DIGEST, keys).reason ?? '', new RegExp(`^signature is for ${OTHER} not this image`));
    const envelope = JSON.parse(notationJws(chain, DIGEST).toString()) as { payload: string };
    envelope.payload = Buffer.from(JSON.stringify({ targetArtifact: { digest: OTHER } })).toString('base64url');
    assert.match(verifyNotationSignature('application/jose+json', Buffer.from(JSON.stringify(envelope)), DIGEST, keys).reason ?? '', /^tampered: the signature does not verify/);
    assert.match(verifyNotationSignature('application/jose+json', notationJws(chain, DIGEST, { expiry: '2020-01-01T00:00:00Z' }), DIGEST, keys).reason ?? '', /expired at 2020-01-01/);
    assert.match(verifyNotationSignature('application/jose+json', notationJws(chain, DIGEST, { header: { crit: ['io.cncf.notary.signingScheme', 'io.example.unknown'] } }), DIGEST, keys).reason ?? '', /critical headers \["io.example.unknown"\]/);
    assert.match(verifyNotationSignature('application/jose+json', Buffer.from('{}'), DIGEST, keys).reason ?? '', /^tampered: the envelope is not a notation JWS/);
    assert.match(verifyNotationSignature('application/cose', Buffer.from('x'), DIGEST, keys).reason ?? '', /COSE envelopes are listed but not verified/);
  });
});
