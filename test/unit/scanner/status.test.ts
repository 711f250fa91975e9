import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { parseManifest } from '../../../src/oci/manifest.js';
import { securityStatus, worstStatus, type SecurityStatus } from '../../../src/scanner/report.js';
import { isScannableImage } from '../../../src/scanner/scannable.js';

const sha = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;
const desc = (mediaType: string, content = mediaType, extra: Record<string, unknown> = {}) => ({ mediaType, digest: sha(content), size: content.length, ...extra });
const manifest = (body: Record<string, unknown>, mediaType = 'application/vnd.oci.image.manifest.v1+json') =>
  parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType, ...body })), mediaType);

describe('what the Vulnerability Advisor scans', () => {
  it('OCI and Docker images with filesystem layers (gzip, zstd, plain, non-distributable) and a config-only image', () => {
    assert.equal(isScannableImage(manifest({ config: desc('application/vnd.oci.image.config.v1+json'), layers: [desc('application/vnd.oci.image.layer.v1.tar+gzip'), desc('application/vnd.oci.image.layer.v1.tar+zstd'), desc('application/vnd.oci.image.layer.v1.tar')] })), true);
    assert.equal(isScannableImage(manifest({ config: desc('application/vnd.docker.container.image.v1+json'), layers: [desc('application/vnd.docker.image.rootfs.diff.tar.gzip'), desc('application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', 'f', { urls: ['https://e.test/l'] })] }, 'application/vnd.docker.distribution.manifest.v2+json')), true);
    assert.equal(isScannableImage(manifest({ config: desc('application/vnd.oci.image.config.v1+json'), layers: [desc('application/vnd.oci.image.layer.nondistributable.v1.tar+gzip')] })), true);
    assert.equal(isScannableImage(manifest({ config: desc('application/vnd.docker.container.image.v1+json'), layers: [desc('application/vnd.docker.image.rootfs.diff.tar'), desc('application/vnd.docker.image.rootfs.diff.tar.zstd')] }, 'application/vnd.docker.distribution.manifest.v2+json')), true, 'containerd\'s Docker layer types');
    assert.equal(isScannableImage(manifest({ config: desc('application/vnd.oci.image.config.v1+json'), layers: [] })), true);
  });
  it('not a cosign signature or attestation, a Helm chart, an ORAS file, an SBOM referrer or a buildx attestation', () => {
    const artifacts = {
      'cosign .sig': { config: desc('application/vnd.oci.image.config.v1+json'), layers: [desc('application/vnd.dev.cosign.simplesigning.v1+json')] },
      'cosign .att': { config: desc('application/vnd.oci.image.config.v1+json'), layers: [desc('application/vnd.dsse.envelope.v1+json')] },
      'helm chart': { config: desc('application/vnd.cncf.helm.config.v1+json'), layers: [desc('application/vnd.cncf.helm.chart.content.v1.tar+gzip')] },
      'oras file': { artifactType: 'application/vnd.unknown.artifact.v1', config: desc('application/vnd.oci.empty.v1+json', '{}'), layers: [desc('application/vnd.oci.image.layer.v1.tar')] },
      'sbom referrer': { artifactType: 'application/spdx+json', config: desc('application/vnd.oci.empty.v1+json', '{}'), layers: [desc('application/spdx+json')], subject: desc('application/vnd.oci.image.manifest.v1+json') },
      'buildx attestation': { config: desc('application/vnd.oci.image.config.v1+json'), layers: [desc('application/vnd.in-toto+json')] },
      'artifactType on an image config': { artifactType: 'application/vnd.example.thing', config: desc('application/vnd.oci.image.config.v1+json'), layers: [desc('application/vnd.oci.image.layer.v1.tar+gzip')] },
    };
    for (const [what, body] of Object.entries(artifacts)) assert.equal(isScannableImage(manifest(body)), false, what);
    assert.equal(isScannableImage(manifest({ manifests: [] }, 'application/vnd.oci.image.index.v1+json')), false, 'an index is judged by its platforms');
  });
});

describe('security status', () => {
  it('open issues count whatever the OS; Unsupported OS only when nothing else is wrong', () => {
    assert.equal(securityStatus({ state: 'unsupported', hasReport: true }, 1), '1 Issue');
    assert.equal(securityStatus({ state: 'unsupported', hasReport: true }, 0), 'Unsupported OS');
    assert.equal(securityStatus({ state: 'done', hasReport: true }, 0), 'No Issues');
    assert.equal(securityStatus({ state: 'done', hasReport: true }, 3), '3 Issues');
    assert.equal(securityStatus({ state: 'failed', hasReport: false }, 0), 'Scan failed');
    assert.equal(securityStatus({ state: 'scanning', hasReport: false }, 0), 'Scanning');
    assert.equal(securityStatus({ state: 'artifact', hasReport: false }, 0), 'Not scannable');
    assert.equal(securityStatus(undefined, 0), 'Not scanned');
  });
  it('an index is the worst of its platforms: most issues, then a failed or pending scan; artifacts rank last', () => {
    const cases: Array<[SecurityStatus[], SecurityStatus]> = [
      [['No Issues', '1 Issue'], '1 Issue'],
      [['1 Issue', '12 Issues', '3 Issues'], '12 Issues'],
      [['Unsupported OS', '1 Issue'], '1 Issue'],
      [['No Issues', 'Scan failed', '2 Issues'], '2 Issues'],
      [['No Issues', 'Scanning'], 'Scanning'],
      [['Scanning', 'Scan failed'], 'Scan failed'],
      [['No Issues', 'Unsupported OS'], 'Unsupported OS'],
      [['No Issues', 'Not scannable'], 'No Issues'],
      [['Not scannable'], 'Not scannable'],
      [[], 'Not scannable'],
    ];
    for (const [platforms, expected] of cases) assert.equal(worstStatus(platforms), expected, platforms.join(', '));
  });
});
