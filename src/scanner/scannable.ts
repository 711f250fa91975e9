import type { ParsedManifest } from '../oci/manifest.js';
import { MediaType } from '../oci/media-types.js';

/** Config media types of a container image (OCI image-spec config.md, Docker image spec v1). */
const IMAGE_CONFIGS: ReadonlySet<string> = new Set([MediaType.OciConfig, MediaType.DockerConfig]);

/** Layer media types of a container image: filesystem changesets as tar archives. */
const FILESYSTEM_LAYERS: ReadonlySet<string> = new Set([
  'application/vnd.oci.image.layer.v1.tar',
  'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd',
  ...MediaType.OciNondistributableLayers,
  'application/vnd.docker.image.rootfs.diff.tar.gzip',
  MediaType.DockerForeignLayer,
  // Not in Docker's spec, but containerd writes them (uncompressed and zstd Docker layers).
  'application/vnd.docker.image.rootfs.diff.tar',
  'application/vnd.docker.image.rootfs.diff.tar.zstd',
  'application/vnd.docker.image.rootfs.foreign.diff.tar',
]);

/**
 * Whether a (non-index) manifest is a container image the Vulnerability Advisor can scan, rather
 * than an artifact stored beside images: a cosign signature or attestation, an SBOM, a Helm chart,
 * ORAS files, a buildx attestation manifest. The config media type alone does not tell: cosign's
 * `.sig` manifests and buildx attestations carry an image config media type with JSON layers, and a
 * Helm chart's layer is a tar+gzip under its own media type. So an image is a manifest without
 * an artifactType of its own, with an image config and only filesystem layers.
 */
export function isScannableImage(manifest: ParsedManifest): boolean {
  if (manifest.isIndex || !manifest.config) return false;
  // parseManifest reports the config media type as the artifact type when none is declared.
  if (manifest.artifactType !== null && manifest.artifactType !== manifest.config.mediaType) return false;
  if (!IMAGE_CONFIGS.has(manifest.config.mediaType)) return false;
  return manifest.layers.every((layer) => FILESYSTEM_LAYERS.has(layer.mediaType));
}
