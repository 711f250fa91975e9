import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { digestOf, parseDigest, tryParseDigest } from '../../src/oci/digest.js';
import { RegistryError } from '../../src/oci/errors.js';

const SHA256_EMPTY = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

describe('digest grammar', () => {
  it('accepts sha256 and sha512 with lowercase hex of the right length', () => {
    assert.equal(tryParseDigest(SHA256_EMPTY)?.algorithm, 'sha256');
    const sha512 = digestOf('', 'sha512');
    assert.equal(tryParseDigest(sha512)?.algorithm, 'sha512');
    assert.equal(tryParseDigest(sha512)?.hex.length, 128);
  });

  for (const bad of [
    'sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855',
    'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85',
    'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555',
    'md5:d41d8cd98f00b204e9800998ecf8427e',
    'sha256',
    ':abc',
    'sha256:../../etc/passwd',
    'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85/',
    '',
  ]) {
    it(`refuses ${JSON.stringify(bad.slice(0, 40))}`, () => {
      assert.equal(tryParseDigest(bad), undefined);
      assert.throws(() => parseDigest(bad), (err: unknown) => err instanceof RegistryError && err.code === 'DIGEST_INVALID');
    });
  }

  it('computes the digest of content', () => {
    assert.equal(digestOf(''), SHA256_EMPTY);
    assert.equal(digestOf('{}'), 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
  });
});
