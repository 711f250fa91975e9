import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { API_BODY_LIMIT, oversizedBody, TOKEN_FORM_LIMIT } from '../../src/http/plugins/unread-body.js';
import { MAX_MANIFEST_BYTES } from '../../src/oci/manifest.js';

describe('oversizedBody (refusals decided from the headers alone)', () => {
  it('refuses a manifest PUT over the manifest limit with 413 MANIFEST_INVALID, and nothing at the limit', () => {
    const refusal = oversizedBody('PUT', '/v2/team/app/manifests/v1', MAX_MANIFEST_BYTES + 1);
    assert.equal(refusal?.status, 413);
    assert.equal((JSON.parse(refusal!.body) as { errors: Array<{ code: string }> }).errors[0]!.code, 'MANIFEST_INVALID');
    assert.equal(oversizedBody('PUT', '/v2/team/app/manifests/v1', MAX_MANIFEST_BYTES), undefined);
  });

  it('never limits blob uploads, whatever their size', () => {
    assert.equal(oversizedBody('PATCH', '/v2/team/app/blobs/uploads/0c9b3f5e-6a1d-4c1e-9e1a-2b3c4d5e6f70', 10 * 2 ** 30), undefined);
    assert.equal(oversizedBody('PUT', '/v2/team/app/blobs/uploads/0c9b3f5e-6a1d-4c1e-9e1a-2b3c4d5e6f70?digest=sha256:00', 10 * 2 ** 30), undefined);
    assert.equal(oversizedBody('POST', '/v2/team/app/blobs/uploads/?digest=sha256:00', 10 * 2 ** 30), undefined);
  });

  it('refuses API bodies over the API limit as problem+json, and token forms over theirs', () => {
    const api = oversizedBody('POST', '/api/v1/namespaces?x=1', API_BODY_LIMIT + 1);
    assert.equal(api?.status, 413);
    assert.equal(api?.contentType, 'application/problem+json');
    assert.equal((JSON.parse(api!.body) as { type: string; instance: string }).instance, '/api/v1/namespaces');
    assert.equal(oversizedBody('POST', '/api/v1/namespaces', API_BODY_LIMIT), undefined);
    assert.equal(oversizedBody('POST', '/auth/token', TOKEN_FORM_LIMIT + 1)?.status, 413);
    assert.equal(oversizedBody('POST', '/auth/token', TOKEN_FORM_LIMIT), undefined);
  });
});
