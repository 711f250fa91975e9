import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { buffer } from 'node:stream/consumers';
import type { Database } from '../metadata/schema.js';
import { findManifestByDigest, findManifestByTag, listReferrers } from '../metadata/manifests.js';
import { cosignTags, listSignatures, type StoredSignature } from '../metadata/signatures.js';
import { trustKeysFor, type TrustKeyRow } from '../metadata/trust-keys.js';
import { findLinkedBlob } from '../metadata/blobs.js';
import { namespaceOf } from '../iam/namespace-names.js';
import { parseManifest, type Descriptor } from '../oci/manifest.js';
import type { BlobStore } from '../storage/ports.js';
import { parseTrustKey, type TrustedKey } from './keys.js';
import { verifySimpleSigning } from './simple-signing.js';
import { COSIGN, verifyCosignAttestation, verifyCosignSignature } from './cosign.js';
import { NOTATION, verifyNotationSignature } from './notation.js';
import { MAX_PAYLOAD_BYTES, type SignatureVerdict } from './verdict.js';

export type { SignatureVerdict } from './verdict.js';

/** What verification reads: signatures and keys from the metadata database, payloads from the blob store. */
export interface TrustContext {
  db: Kysely<Database>;
  store: BlobStore;
  log: Logger;
}

/**
 * Every signature and attestation the image carries, each verified against the keys the account
 * trusts for the image's namespace: simple signatures from the signature API, cosign signatures and
 * attestations under sha256-<hex>.sig/.att tags and as OCI referrers, notation signatures as referrers.
 * An image with none answers an empty list.
 */
export async function verifyImageSignatures(ctx: TrustContext, accountId: number, repository: string, digest: string): Promise<SignatureVerdict[]> {
  return verifyWithKeys(ctx, await trustedKeys(ctx, accountId, namespaceOf(repository).namespace), repository, digest);
}

export interface SignatureSummary {
  /** Signatures and attestations the image carries. */
  signatures: number;
  /** Names of the trusted keys that verified at least one of them. */
  verifiedBy: string[];
}

export function summarize(verdicts: SignatureVerdict[]): SignatureSummary {
  return { signatures: verdicts.length, verifiedBy: [...new Set(verdicts.filter((v) => v.verified && v.key).map((v) => v.key!))].sort() };
}

async function verifyWithKeys(ctx: TrustContext, keys: TrustedKey[], repository: string, digest: string): Promise<SignatureVerdict[]> {
  return verifyMaterial(ctx, keys, repository, digest, await signatureMaterial(ctx, repository, digest));
}

/** What an image carries to verify: the simple signatures stored for it and the manifests attached to it. */
export interface SignatureMaterial {
  signatures: StoredSignature[];
  carriers: Array<{ digest: string; source: 'tag' | 'referrer' }>;
}

export async function signatureMaterial(ctx: TrustContext, repository: string, digest: string): Promise<SignatureMaterial> {
  const carriers: SignatureMaterial['carriers'] = [];
  for (const tag of cosignTags(digest)) {
    const manifest = await findManifestByTag(ctx.db, repository, tag);
    if (manifest) carriers.push({ digest: manifest.digest, source: 'tag' });
  }
  for (const referrer of await listReferrers(ctx.db, repository, digest)) {
    if (!carriers.some((c) => c.digest === referrer.digest)) carriers.push({ digest: referrer.digest, source: 'referrer' });
  }
  return { signatures: await listSignatures(ctx.db, repository, digest), carriers };
}

export async function verifyMaterial(ctx: TrustContext, keys: TrustedKey[], repository: string, digest: string, material: SignatureMaterial): Promise<SignatureVerdict[]> {
  const verdicts: SignatureVerdict[] = [];
  for (const sig of material.signatures) {
    verdicts.push({ ...await verifySimpleSigning(sig.content, digest, keys), source: 'signature-api' });
  }
  for (const carrier of material.carriers) verdicts.push(...await verifyCarrier(ctx, repository, digest, carrier, keys));
  return verdicts;
}

/** The keys of the account for the namespace that parse; a key that no longer parses is logged and left out. */
export async function trustedKeys(ctx: TrustContext, accountId: number, namespace: string): Promise<TrustedKey[]> {
  return parseTrustedKeys(ctx, accountId, await trustKeysFor(ctx.db, accountId, namespace));
}

export async function parseTrustedKeys(ctx: TrustContext, accountId: number, rows: TrustKeyRow[]): Promise<TrustedKey[]> {
  const keys: TrustedKey[] = [];
  for (const row of rows) {
    try {
      keys.push({ name: row.name, namespace: row.namespace, parsed: await parseTrustKey(row.kind, row.public_key) });
    } catch (err) {
      ctx.log.warn({ key: row.name, accountId, err: (err as Error).message }, 'a trusted key could not be read and is left out of verification');
    }
  }
  return keys;
}

/** The signatures in one manifest attached to the image (a cosign .sig/.att manifest, or a referrer). */
async function verifyCarrier(ctx: TrustContext, repository: string, digest: string, carrier: { digest: string; source: 'tag' | 'referrer' }, keys: TrustedKey[]): Promise<SignatureVerdict[]> {
  const row = await findManifestByDigest(ctx.db, repository, carrier.digest);
  if (!row) return [];
  let layers: Descriptor[];
  let artifactType: string | null;
  try {
    const parsed = parseManifest(row.content, row.media_type);
    layers = parsed.layers;
    artifactType = parsed.artifactType;
  } catch {
    return [];
  }
  const where = { source: carrier.source, manifest: carrier.digest } as const;
  const verdicts: SignatureVerdict[] = [];
  for (const layer of layers) {
    if (layer.mediaType === COSIGN.simpleSigningLayer) {
      const payload = await readSmallBlob(ctx, repository, layer);
      verdicts.push({ ...(payload ? verifyCosignSignature(payload, layer.annotations?.[COSIGN.signatureAnnotation], digest, keys) : missing('cosign')), ...where });
    } else if (layer.mediaType === COSIGN.dsseLayer) {
      const envelope = await readSmallBlob(ctx, repository, layer);
      verdicts.push({ ...(envelope ? verifyCosignAttestation(envelope, digest, keys) : { ...missing('cosign'), kind: 'attestation' as const }), ...where });
    } else if (artifactType === NOTATION.artifactType && (layer.mediaType === NOTATION.jwsEnvelope || layer.mediaType === NOTATION.coseEnvelope)) {
      const envelope = await readSmallBlob(ctx, repository, layer);
      verdicts.push({ ...verifyNotationSignature(layer.mediaType, envelope, digest, keys), ...where });
    }
  }
  return verdicts;
}

function missing(format: SignatureVerdict['format']): SignatureVerdict {
  return { format, key: null, verified: false, kind: 'signature', reason: 'the signature payload is missing from the repository, or too large to be a signature' };
}

async function readSmallBlob(ctx: TrustContext, repository: string, layer: Descriptor): Promise<Buffer | undefined> {
  if (layer.size > MAX_PAYLOAD_BYTES) return undefined;
  if (!(await findLinkedBlob(ctx.db, repository, layer.digest))) return undefined;
  try {
    const bytes = await buffer(await ctx.store.read(layer.digest));
    return bytes.length <= MAX_PAYLOAD_BYTES ? bytes : undefined;
  } catch (err) {
    ctx.log.warn({ err, digest: layer.digest }, 'could not read a signature payload');
    return undefined;
  }
}
