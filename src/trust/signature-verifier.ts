import type { SignatureChecker } from '../enforcement/ports.js';
import { VersionedCache } from '../cache/versioned-cache.js';
import { namespaceOf } from '../iam/namespace-names.js';
import { imagesCarryingSignatures } from '../metadata/signatures.js';
import { trustKeysFor } from '../metadata/trust-keys.js';
import type { TrustedKey } from './keys.js';
import type { SignatureVerdict } from './verdict.js';
import { parseTrustedKeys, signatureMaterial, summarize, verifyMaterial, type SignatureSummary, type TrustContext } from './verify-image.js';

/** A verdict is trusted for this long even when nothing it was worked out from changed: a certificate (notation) may expire meanwhile. */
const VERDICT_MAX_AGE_MS = 5 * 60_000;

/**
 * Signature verdicts for the image list's Signed column and for admission checks, kept per process
 * while what they were worked out from is unchanged: the account's trusted keys for the namespace
 * (never edited, only added and removed) and what the image carries (its stored signatures' names
 * and the digests of its attached manifests, whose content cannot change). Verifying an OpenPGP
 * signature costs over a millisecond of JavaScript, a cosign one a payload read from the blob store,
 * and a list of 100 signed images did all of it again on every request. The signature API
 * (`/images/{ref}/signatures`) verifies afresh each time (verifyImageSignatures).
 */
export class SignatureVerifier implements SignatureChecker {
  private readonly verdictCache: VersionedCache<SignatureVerdict[]>;
  private readonly keyCache = new VersionedCache<TrustedKey[]>(1_000);

  constructor(private readonly ctx: TrustContext, now: () => number) {
    this.verdictCache = new VersionedCache(10_000, VERDICT_MAX_AGE_MS, now);
  }

  /** Every signature and attestation the image carries, verified with the account's keys for its namespace. */
  async verdicts(accountId: number, repository: string, digest: string): Promise<SignatureVerdict[]> {
    return this.verify(accountId, await this.keys(accountId, namespaceOf(repository).namespace), repository, digest);
  }

  /** The signature state of each image of a list (the Signed column), reading each namespace's keys once. */
  async summaries(accountId: number, images: Array<{ name: string; digest: string }>): Promise<Map<string, SignatureSummary>> {
    const keysOf = new Map<string, Promise<{ version: string; keys: TrustedKey[] }>>();
    const summaries = new Map<string, SignatureSummary>();
    const carrying = await imagesCarryingSignatures(this.ctx.db, images);
    for (const image of images) {
      const id = `${image.name}@${image.digest}`;
      if (summaries.has(id)) continue;
      if (!carrying.has(id)) {
        summaries.set(id, { signatures: 0, verifiedBy: [] });
        continue;
      }
      const namespace = namespaceOf(image.name).namespace;
      if (!keysOf.has(namespace)) keysOf.set(namespace, this.keys(accountId, namespace));
      summaries.set(id, summarize(await this.verify(accountId, await keysOf.get(namespace)!, image.name, image.digest)));
    }
    return summaries;
  }

  /** The parsed keys and their version (their ids: a key is never edited, a new one has a new id). */
  private async keys(accountId: number, namespace: string): Promise<{ version: string; keys: TrustedKey[] }> {
    const rows = await trustKeysFor(this.ctx.db, accountId, namespace);
    const version = rows.map((row) => row.id).join(',');
    const cacheKey = `${accountId}/${namespace}`;
    let keys = this.keyCache.get(cacheKey, version);
    if (!keys) {
      keys = await parseTrustedKeys(this.ctx, accountId, rows);
      this.keyCache.set(cacheKey, version, keys);
    }
    return { version, keys };
  }

  private async verify(accountId: number, keys: { version: string; keys: TrustedKey[] }, repository: string, digest: string): Promise<SignatureVerdict[]> {
    const material = await signatureMaterial(this.ctx, repository, digest);
    const version = [
      keys.version,
      material.signatures.map((s) => `${s.name}@${s.created_at}`).join(','),
      material.carriers.map((c) => `${c.source}:${c.digest}`).join(','),
    ].join('|');
    const cacheKey = `${accountId}:${repository}@${digest}`;
    const cached = this.verdictCache.get(cacheKey, version);
    if (cached) return cached;
    const verdicts = await verifyMaterial(this.ctx, keys.keys, repository, digest, material);
    this.verdictCache.set(cacheKey, version, verdicts);
    return verdicts;
  }
}
