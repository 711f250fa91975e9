import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseTrustKey, type TrustedKey } from '../../src/trust/keys.js';
import { verifySimpleSigning } from '../../src/trust/simple-signing.js';
import { verifyCosignSignature } from '../../src/trust/cosign.js';
import { verifyNotationSignature } from '../../src/trust/notation.js';

/** Real signatures published by containers/image (test/fixtures/signatures/containers-image/SOURCE.md). */
const dir = new URL('../fixtures/signatures/containers-image/', import.meta.url);
const read = (name: string) => readFileSync(new URL(name, dir));
const digestOf = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** containers/image stores a sigstore signature as `\0sigstore-json\n` + {mimeType, payload (base64), annotations}. */
function readSigstoreFile(name: string): { payload: Buffer; signature: string } {
  const bytes = read(name);
  const json = JSON.parse(bytes.subarray(bytes.indexOf('{')).toString('utf8')) as { payload: string; annotations: Record<string, string> };
  return { payload: Buffer.from(json.payload, 'base64'), signature: json.annotations['dev.cosignproject.cosign/signature']! };
}

describe('published signatures (containers/image fixtures)', () => {
  let gpg: TrustedKey[];
  let cosign: TrustedKey[];
  before(async () => {
    gpg = [{ name: 'c-image-test', namespace: null, parsed: await parseTrustKey('gpg', read('public-key.gpg').toString('utf8')) }];
    cosign = [{ name: 'c-image-cosign', namespace: null, parsed: await parseTrustKey('sigstore', read('cosign.pub').toString('utf8')) }];
  });

  it('a gpg simple signature made by gpg verifies with its key, for the manifest it names', async () => {
    const digest = digestOf(read('image.manifest.json'));
    assert.equal(digest, 'sha256:20bf21ed457b390829cdbeec8795a7bea1626991fda603e0d01b4e7f60427e55');
    const verdict = await verifySimpleSigning(read('image.signature'), digest, gpg);
    assert.equal(verdict.verified, true, verdict.reason);
    assert.equal(verdict.key, 'c-image-test');
    assert.equal(verdict.identity, 'testing/manifest');
    const other = await verifySimpleSigning(read('image.signature'), `sha256:${'1'.repeat(64)}`, gpg);
    assert.match(other.reason ?? '', /^signature is for sha256:20bf21ed/);
  });

  it('an unknown key and a corrupt signature are told apart', async () => {
    const digest = digestOf(read('image.manifest.json'));
    const unknown = await verifySimpleSigning(read('unknown-key.signature'), digest, gpg);
    assert.equal(unknown.verified, false);
    assert.match(unknown.reason ?? '', /^signed by an unknown key 0x[0-9A-F]{16}:/);
    const corrupt = await verifySimpleSigning(read('corrupt.signature'), digest, gpg);
    assert.equal(corrupt.verified, false);
    assert.match(corrupt.reason ?? '', /^tampered:/);
  });

  it('a cosign signature made by cosign verifies with cosign.pub; another key\'s and another manifest\'s do not', () => {
    const digest = digestOf(read('dir-img-cosign-valid/manifest.json'));
    const valid = readSigstoreFile('dir-img-cosign-valid/signature-1');
    const verdict = verifyCosignSignature(valid.payload, valid.signature, digest, cosign);
    assert.deepEqual([verdict.verified, verdict.key, verdict.identity], [true, 'c-image-cosign', '192.168.64.2:5000/cosign-signed-single-sample'], verdict.reason);
    const unknown = readSigstoreFile('unknown-cosign-key.signature');
    assert.match(verifyCosignSignature(unknown.payload, unknown.signature, digest, cosign).reason ?? '', /signed by an unknown key/);
    // The genuine signature, found beside another manifest (containers/image's dir-img-cosign-manifest-digest-error case).
    const wrong = verifyCosignSignature(valid.payload, valid.signature, digestOf(read('image.manifest.json')), cosign);
    assert.equal(wrong.verified, false);
    assert.match(wrong.reason ?? '', /^signature is for sha256:.* not this image/);
  });
});

describe('published notation signature (notation-go fixture)', () => {
  const notation = new URL('../fixtures/signatures/notation-go/', import.meta.url);
  const readN = (name: string) => readFileSync(new URL(name, notation));
  const SUBJECT = 'sha256:c0669ef34cdc14332c0f1ab0c2c01acb91d96014b172f1a76f3a39e63d1f0bda';

  it('a JWS made by notation (PS256) verifies with the certificate notation-go trusts, and not with another CA', async () => {
    const trusted: TrustedKey[] = [{ name: 'notation-test', namespace: null, parsed: await parseTrustKey('x509', readN('TestTimestamp.crt').toString('utf8')) }];
    const verdict = verifyNotationSignature('application/jose+json', readN('withoutTimestamp.sig'), SUBJECT, trusted);
    assert.deepEqual([verdict.verified, verdict.key], [true, 'notation-test'], verdict.reason);
    assert.match(verdict.signer ?? '', /CN=alpine/);
    const other: TrustedKey[] = [{ name: 'other-root', namespace: null, parsed: await parseTrustKey('x509', readN('NotationTestRoot.pem').toString('utf8')) }];
    assert.match(verifyNotationSignature('application/jose+json', readN('withoutTimestamp.sig'), SUBJECT, other).reason ?? '', /^signed by an unknown certificate chain/);
    assert.match(verifyNotationSignature('application/jose+json', readN('withoutTimestamp.sig'), `sha256:${'2'.repeat(64)}`, trusted).reason ?? '', /^signature is for sha256:c0669ef3/);
    const jws = JSON.parse(readN('withoutTimestamp.sig').toString('utf8')) as { signature: string };
    jws.signature = `${jws.signature.slice(0, 10)}${jws.signature[10] === 'A' ? 'B' : 'A'}${jws.signature.slice(11)}`;
    assert.match(verifyNotationSignature('application/jose+json', Buffer.from(JSON.stringify(jws)), SUBJECT, trusted).reason ?? '', /^tampered: the signature does not verify/);
  });
});
