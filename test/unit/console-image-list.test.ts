import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { groupImages, issuesOf, matches, signedStatus, sortImages } from '../../web/src/image-list.js';
import type { ImageRow } from '../../web/src/types.js';

const row = (name: string, digest: string, tag: string | null, extra: Partial<ImageRow> = {}): ImageRow => ({
  repository: `registry.example/${name}`, name, namespace: name.split('/')[0]!, tag, digest, size: 100, created: '2026-11-01T00:00:00.000Z',
  securityStatus: 'No Issues', pullCount: 0, lastPulled: null, ...extra,
});

describe('the console\'s image list', () => {
  it('shows one digest with two tags as one image with both tags, and the same digest in two repositories as two images', () => {
    const images = groupImages([
      row('team/app', 'sha256:a', 'v1'), row('team/app', 'sha256:a', 'latest'), row('team/app', 'sha256:b', null),
      row('team/copy', 'sha256:a', 'v1'),
    ]);
    assert.deepEqual(images.map((i) => [i.name, i.digest, i.tags]), [
      ['team/app', 'sha256:a', ['latest', 'v1']], ['team/app', 'sha256:b', []], ['team/copy', 'sha256:a', ['v1']],
    ]);
  });

  it('sorts by security status with the most issues last ascending, unknown statuses first', () => {
    const images = groupImages([
      row('t/a', 'sha256:1', 'x', { securityStatus: '12 Issues' }), row('t/b', 'sha256:2', 'x', { securityStatus: '1 Issue' }),
      row('t/c', 'sha256:3', 'x', { securityStatus: 'No Issues' }), row('t/d', 'sha256:4', 'x', { securityStatus: 'Scanning' }),
    ]);
    assert.deepEqual(sortImages(images, 'securityStatus', true).map((i) => i.name), ['t/d', 't/c', 't/b', 't/a']);
    assert.deepEqual(sortImages(images, 'securityStatus', false).map((i) => i.name), ['t/a', 't/b', 't/c', 't/d']);
    assert.equal(issuesOf('2 Issues'), 2);
    assert.equal(issuesOf('Scan failed'), -1);
  });

  it('sorts by size, creation and last pull, never pulled first', () => {
    const images = groupImages([
      row('t/a', 'sha256:1', 'x', { size: 30, created: '2026-11-03T00:00:00Z', lastPulled: '2026-11-05T00:00:00Z' }),
      row('t/b', 'sha256:2', 'x', { size: 10, created: '2026-11-01T00:00:00Z', lastPulled: null }),
      row('t/c', 'sha256:3', 'x', { size: 20, created: '2026-11-02T00:00:00Z', lastPulled: '2026-11-04T00:00:00Z' }),
    ]);
    assert.deepEqual(sortImages(images, 'size', true).map((i) => i.name), ['t/b', 't/c', 't/a']);
    assert.deepEqual(sortImages(images, 'created', false).map((i) => i.name), ['t/a', 't/c', 't/b']);
    assert.deepEqual(sortImages(images, 'lastPulled', true).map((i) => i.name), ['t/b', 't/c', 't/a']);
  });

  it('finds images by repository, tag or digest, case-insensitively', () => {
    const [image] = groupImages([row('team/App', 'sha256:abc123', 'Release-1')]);
    for (const term of ['app', 'release', 'abc12', '']) assert.ok(matches(image!, term), term);
    assert.ok(!matches(image!, 'nothing'));
  });
});

describe('the console\'s Signed column', () => {
  it('says verified by which keys, unverified with the count, or none, and sorts verified last ascending', () => {
    const images = groupImages([
      row('t/none', 'sha256:1', 'x'),
      row('t/unverified', 'sha256:2', 'x', { signatures: 2, verifiedBy: [] }),
      row('t/verified', 'sha256:3', 'x', { signatures: 1, verifiedBy: ['ci-key', 'release'] }),
    ]);
    assert.deepEqual(images.map((i) => signedStatus(i)), [
      { tone: 'pending', label: 'None', rank: 0 },
      { tone: 'warn', label: 'Unverified (2)', rank: 1 },
      { tone: 'good', label: 'Verified: ci-key, release', rank: 2 },
    ]);
    assert.deepEqual(sortImages(images, 'signed', false).map((i) => i.name), ['t/verified', 't/unverified', 't/none']);
  });
});
