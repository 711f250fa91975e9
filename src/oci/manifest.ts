import { RegistryError } from './errors.js';
import { tryParseDigest } from './digest.js';
import { MediaType, MANIFEST_MEDIA_TYPES, baseMediaType, isIndexMediaType, isSchema1MediaType } from './media-types.js';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  urls?: string[];
  platform?: Record<string, unknown>;
}

/** What the registry needs to know about a manifest, taken from its exact bytes. */
export interface ParsedManifest {
  mediaType: string;
  /** The manifest's artifact type as the referrers API reports it. */
  artifactType: string | null;
  isIndex: boolean;
  config: Descriptor | null;
  /** Blobs that must exist in the repository (config and distributable layers). */
  blobs: Descriptor[];
  /** Every layer, foreign ones included. */
  layers: Descriptor[];
  /** Child manifests of an index, which must exist in the repository. */
  manifests: Descriptor[];
  subject: Descriptor | null;
  annotations: Record<string, string> | null;
}

export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** 413 as the spec asks, with the spec's MANIFEST_INVALID code. */
export function manifestTooLarge(size: number): RegistryError {
  return new RegistryError('MANIFEST_INVALID', `manifest is ${size} bytes or more; the limit is ${MAX_MANIFEST_BYTES} bytes`, { size, limit: MAX_MANIFEST_BYTES }, { status: 413 });
}

function invalid(message: string, detail?: unknown): RegistryError {
  return new RegistryError('MANIFEST_INVALID', message, detail ?? null);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseStringMap(value: unknown, where: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    throw invalid(`${where} must be an object of string values`);
  }
  return value as Record<string, string>;
}

export function parseDescriptor(value: unknown, where: string): Descriptor {
  if (!isObject(value)) throw invalid(`${where} must be a descriptor object`);
  const { mediaType, digest, size, artifactType, urls, platform } = value;
  if (typeof mediaType !== 'string' || mediaType.length === 0) throw invalid(`${where}.mediaType must be a non-empty string`);
  if (typeof digest !== 'string' || !tryParseDigest(digest)) throw invalid(`${where}.digest is not a valid digest`, { digest });
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw invalid(`${where}.size must be a non-negative integer`);
  const descriptor: Descriptor = { mediaType, digest, size };
  if (artifactType !== undefined) {
    if (typeof artifactType !== 'string') throw invalid(`${where}.artifactType must be a string`);
    descriptor.artifactType = artifactType;
  }
  const annotations = parseStringMap(value.annotations, `${where}.annotations`);
  if (annotations) descriptor.annotations = annotations;
  if (urls !== undefined) {
    if (!Array.isArray(urls) || !urls.every((u) => typeof u === 'string')) throw invalid(`${where}.urls must be an array of strings`);
    descriptor.urls = urls as string[];
  }
  if (platform !== undefined) {
    if (!isObject(platform)) throw invalid(`${where}.platform must be an object`);
    descriptor.platform = platform;
  }
  return descriptor;
}

function isForeignLayer(layer: Descriptor): boolean {
  return (layer.mediaType === MediaType.DockerForeignLayer || (MediaType.OciNondistributableLayers as readonly string[]).includes(layer.mediaType))
    && (layer.urls?.length ?? 0) > 0;
}

/**
 * Parses and validates manifest bytes pushed with the given Content-Type.
 * The media type comes from the header, else from the body's mediaType field, else from its shape;
 * when both header and field are present they must agree.
 */
export function parseManifest(bytes: Buffer, contentType: string | undefined): ParsedManifest {
  if (bytes.length > MAX_MANIFEST_BYTES) {
    throw manifestTooLarge(bytes.length);
  }
  let body: unknown;
  try {
    body = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw invalid(`manifest is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(body)) throw invalid('manifest must be a JSON object');

  const headerType = baseMediaType(contentType);
  const fieldType = body.mediaType;
  if (fieldType !== undefined && typeof fieldType !== 'string') throw invalid('mediaType must be a string');
  if (body.schemaVersion === 1 || isSchema1MediaType(headerType) && body.schemaVersion !== 2 || (typeof fieldType === 'string' && isSchema1MediaType(fieldType))) {
    throw invalid('Docker schema 1 manifests are not supported: push with a current client, which sends schema 2 or OCI manifests', { schemaVersion: body.schemaVersion });
  }
  if (body.schemaVersion !== 2) throw invalid('schemaVersion must be 2', { schemaVersion: body.schemaVersion ?? null });

  let mediaType: string;
  const headerIsManifestType = MANIFEST_MEDIA_TYPES.includes(headerType);
  if (headerIsManifestType) {
    if (typeof fieldType === 'string' && fieldType !== headerType) {
      throw invalid(`mediaType "${fieldType}" in the manifest does not match Content-Type "${headerType}"`);
    }
    mediaType = headerType;
  } else if (typeof fieldType === 'string') {
    mediaType = fieldType;
  } else if (Array.isArray(body.manifests)) {
    mediaType = MediaType.OciIndex;
  } else {
    mediaType = MediaType.OciManifest;
  }
  if (!MANIFEST_MEDIA_TYPES.includes(mediaType)) {
    throw invalid(`unsupported manifest media type "${mediaType}"; supported: ${MANIFEST_MEDIA_TYPES.join(', ')}`);
  }

  const annotations = parseStringMap(body.annotations, 'annotations') ?? null;
  const subject = body.subject === undefined ? null : parseDescriptor(body.subject, 'subject');
  const declaredArtifactType = body.artifactType;
  if (declaredArtifactType !== undefined && typeof declaredArtifactType !== 'string') throw invalid('artifactType must be a string');

  if (isIndexMediaType(mediaType)) {
    if (!Array.isArray(body.manifests)) throw invalid('an index must have a "manifests" array');
    const manifests = body.manifests.map((m, i) => parseDescriptor(m, `manifests[${i}]`));
    return {
      mediaType, isIndex: true, config: null, blobs: [], layers: [], manifests, subject, annotations,
      artifactType: (declaredArtifactType as string | undefined) ?? null,
    };
  }

  if (body.config === undefined) throw invalid('an image manifest must have a "config" descriptor');
  const config = parseDescriptor(body.config, 'config');
  if (!Array.isArray(body.layers)) throw invalid('an image manifest must have a "layers" array');
  const layers = body.layers.map((l, i) => parseDescriptor(l, `layers[${i}]`));
  const blobs = [config, ...layers.filter((l) => !isForeignLayer(l))];
  // Distribution spec (referrers): when artifactType is absent, the config's media type stands in.
  const artifactType = (declaredArtifactType as string | undefined) ?? config.mediaType;
  return { mediaType, isIndex: false, config, blobs, layers, manifests: [], subject, annotations, artifactType };
}
