import { RegistryError } from '../oci/errors.js';
import { digestOf, parseDigest, tryParseDigest } from '../oci/digest.js';
import { assertRepositoryName, assertTag, isValidTag } from '../oci/names.js';
import { parseManifest, type ParsedManifest } from '../oci/manifest.js';
import { linkedDigests } from '../metadata/blobs.js';
import * as manifests from '../metadata/manifests.js';
import { ensureRepository, findRepositoryId } from '../metadata/repositories.js';
import { deleteTag, insertTagIfAbsent, tagDigest, upsertTag } from '../metadata/tags.js';
import { tagsHoldingManifest } from '../metadata/immutability.js';
import { moveManifestToTrash } from '../metadata/trash.js';
import type { PullOrigin, RegistryContext } from './context.js';
import { immutableTagError, ImmutableTags } from './immutability.js';
import type { EventOrigin } from '../events/types.js';

export interface ManifestContent {
  digest: string;
  mediaType: string;
  content: Buffer;
}

export interface PutManifestResult {
  digest: string;
  subject: string | null;
}

/** A reference is a digest when it has the digest shape, else a tag. */
export type Reference = { kind: 'digest'; digest: string } | { kind: 'tag'; tag: string };

export function parseReference(reference: string): Reference {
  if (reference.includes(':')) return { kind: 'digest', digest: parseDigest(reference).value };
  return { kind: 'tag', tag: assertTag(reference) };
}

/** On reads a tag outside the grammar cannot exist, so it is unknown (404), as the conformance suite expects. */
export function parseReadReference(name: string, reference: string): Reference {
  if (!reference.includes(':') && !isValidTag(reference)) throw manifestUnknown(name, reference);
  return parseReference(reference);
}

export function manifestUnknown(name: string, reference: string): RegistryError {
  const what = reference.includes(':') ? 'manifest' : 'tag';
  return new RegistryError('MANIFEST_UNKNOWN', `${what} ${reference} is not in repository ${name}`, { name, reference });
}

export function manifestDeleteDisabled(): RegistryError {
  return new RegistryError('UNSUPPORTED', 'deleting manifests and tags is disabled on this registry (registry.deleteEnabled)');
}

/** Push, pull and delete of manifests and tags. */
export class ManifestService {
  constructor(private readonly ctx: RegistryContext) {}

  async get(name: string, referenceText: string): Promise<ManifestContent> {
    assertRepositoryName(name);
    const reference = parseReadReference(name, referenceText);
    const row = reference.kind === 'digest'
      ? await manifests.findManifestByDigest(this.ctx.db, name, reference.digest)
      : await manifests.findManifestByTag(this.ctx.db, name, reference.tag);
    if (!row) throw manifestUnknown(name, referenceText);
    return { digest: row.digest, mediaType: row.media_type, content: row.content };
  }

  /** Counts a pull (a GET of the manifest, not a HEAD). */
  pulled(name: string, digest: string, pull?: PullOrigin): void {
    this.ctx.hooks.manifestPulled?.(name, digest, pull);
  }

  async put(name: string, referenceText: string, content: Buffer, contentType: string | undefined, origin: EventOrigin = { actor: null }): Promise<PutManifestResult> {
    assertRepositoryName(name);
    const reference = parseReference(referenceText);
    const algorithm = reference.kind === 'digest' ? tryParseDigest(reference.digest)!.algorithm : 'sha256';
    const digest = digestOf(content, algorithm);
    if (reference.kind === 'digest' && reference.digest !== digest) {
      throw new RegistryError('DIGEST_INVALID', `the manifest has digest ${digest}, not ${reference.digest}`, { expected: reference.digest, actual: digest });
    }
    const parsed = parseManifest(content, contentType);
    const now = this.ctx.now();
    const immutableRule = reference.kind === 'tag' ? (await ImmutableTags.of(this.ctx.db, name)).ruleFor(name, reference.tag) : undefined;
    await this.ctx.db.transaction().execute(async (trx) => {
      const repositoryId = await ensureRepository(trx, name, now);
      await assertReferencesExist(this.ctx, trx, repositoryId, parsed);
      const imageSize = parsed.isIndex
        ? await manifests.sumImageSizes(trx, repositoryId, [...new Set(parsed.manifests.map((m) => m.digest))])
        : ownImageSize(parsed);
      await manifests.insertManifest(trx, {
        repositoryId,
        digest,
        mediaType: parsed.mediaType,
        artifactType: parsed.artifactType,
        content,
        subjectDigest: parsed.subject?.digest ?? null,
        annotations: parsed.annotations,
        imageSize,
        references: [
          ...parsed.blobs.map((b) => ({ digest: b.digest, kind: 'blob' as const })),
          ...parsed.manifests.map((m) => ({ digest: m.digest, kind: 'manifest' as const })),
        ],
        now,
      });
      let previous: string | undefined;
      if (reference.kind === 'tag' && immutableRule) {
        // Insert-only, so two pushes racing to create the tag cannot both win; the same digest
        // again is an idempotent re-push and passes.
        const current = await insertTagIfAbsent(trx, repositoryId, reference.tag, digest, now);
        if (current !== digest) throw immutableTagError(name, reference.tag, immutableRule, 'move', current);
      } else if (reference.kind === 'tag') {
        previous = this.ctx.hooks.changed ? await tagDigest(trx, repositoryId, reference.tag) : undefined;
        await upsertTag(trx, repositoryId, reference.tag, digest, now);
      }
      if (this.ctx.hooks.changed) {
        const target = { digest, mediaType: parsed.mediaType, size: content.length, ...(reference.kind === 'tag' ? { tag: reference.tag } : {}) };
        await this.ctx.hooks.changed(trx, { type: 'push', repository: name, target, origin });
        if (previous !== undefined && previous !== digest) {
          await this.ctx.hooks.changed(trx, { type: 'tag.moved', repository: name, target: { ...target, previousDigest: previous }, origin });
        }
      }
    });
    this.ctx.hooks.committed?.();
    await this.ctx.hooks.manifestPushed?.(name, digest, parsed.mediaType);
    return { digest, subject: parsed.subject?.digest ?? null };
  }

  /** By digest: moves the image and its tags to the trash. By tag: removes only the tag. */
  async delete(name: string, referenceText: string, actor = 'registry API', origin: EventOrigin = { actor: null }): Promise<void> {
    assertRepositoryName(name);
    const reference = parseReadReference(name, referenceText);
    if (!this.ctx.settings.deleteEnabled) throw manifestDeleteDisabled();
    const repositoryId = await findRepositoryId(this.ctx.db, name);
    const now = this.ctx.now();
    const rules = await ImmutableTags.of(this.ctx.db, name);
    const deleted = repositoryId !== undefined && await this.ctx.db.transaction().execute(async (trx) => {
      // Checked in the transaction that deletes, so a tag pushed meanwhile is seen.
      if (!rules.empty) await assertMayDelete(trx, rules, name, repositoryId, reference);
      const tagged = reference.kind === 'tag' && this.ctx.hooks.changed ? await tagDigest(trx, repositoryId, reference.tag) : undefined;
      const done = reference.kind === 'digest'
        ? await moveManifestToTrash(trx, repositoryId, name, reference.digest, actor, now, now + this.ctx.settings.trashRetention * 1000)
        : await deleteTag(trx, repositoryId, reference.tag);
      if (done && this.ctx.hooks.changed) {
        const target = reference.kind === 'digest' ? { digest: reference.digest } : { tag: reference.tag, ...(tagged ? { digest: tagged } : {}) };
        await this.ctx.hooks.changed(trx, { type: 'delete', repository: name, target, origin });
      }
      return done;
    });
    if (!deleted) throw manifestUnknown(name, referenceText);
    this.ctx.hooks.committed?.();
  }
}

/** An immutable tag is not deleted, nor is the image it points at, nor a platform of that image. */
async function assertMayDelete(db: RegistryContext['db'], rules: ImmutableTags, name: string, repositoryId: number, reference: Reference): Promise<void> {
  if (reference.kind === 'tag') {
    const rule = rules.ruleFor(name, reference.tag);
    if (rule && (await tagDigest(db, repositoryId, reference.tag)) !== undefined) throw immutableTagError(name, reference.tag, rule, 'delete-tag');
    return;
  }
  const held = rules.firstImmutable(name, await tagsHoldingManifest(db, repositoryId, reference.digest));
  if (held) throw immutableTagError(name, held.tag, held.rule, 'delete-image', reference.digest);
}

/**
 * The image size of a manifest that is not an index: its config and layers. Foreign layers count
 * even though their bytes live elsewhere. (An index's is the sum of its platforms' image sizes.)
 */
export function ownImageSize(parsed: ParsedManifest): number {
  const foreign = parsed.layers.filter((l) => !parsed.blobs.includes(l));
  return [...parsed.blobs, ...foreign].reduce((sum, d) => sum + d.size, 0);
}

async function assertReferencesExist(ctx: RegistryContext, db: RegistryContext['db'], repositoryId: number, parsed: ParsedManifest): Promise<void> {
  const blobDigests = [...new Set(parsed.blobs.map((b) => b.digest))];
  // Under the blobs' locks, so the garbage collector does not remove a link checked here before
  // this manifest's references commit.
  await ctx.locks.shared(db, blobDigests);
  const presentBlobs = await linkedDigests(db, repositoryId, blobDigests);
  const missingBlob = blobDigests.find((d) => !presentBlobs.has(d));
  if (missingBlob) {
    throw new RegistryError('MANIFEST_BLOB_UNKNOWN', `the manifest references blob ${missingBlob}, which is not in this repository: push the blob first`, { digest: missingBlob });
  }
  const childDigests = [...new Set(parsed.manifests.map((m) => m.digest))];
  const presentChildren = await manifests.existingManifestDigests(db, repositoryId, childDigests);
  const missingChild = childDigests.find((d) => !presentChildren.has(d));
  if (missingChild) {
    throw new RegistryError('MANIFEST_BLOB_UNKNOWN', `the index references manifest ${missingChild}, which is not in this repository: push it first`, { digest: missingChild });
  }
}
