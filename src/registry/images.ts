import { text } from 'node:stream/consumers';
import { RegistryError } from '../oci/errors.js';
import { parseManifest, type Descriptor } from '../oci/manifest.js';
import type { ImageReference } from '../oci/reference.js';
import { findBlob, findLinkedBlob, linkBlob } from '../metadata/blobs.js';
import * as images from '../metadata/images.js';
import { listReferrers } from '../metadata/manifests.js';
import { ensureRepository } from '../metadata/repositories.js';
import * as trash from '../metadata/trash.js';
import { dropSignaturesOfRemovedImages, restoreTrashedSignatures } from '../metadata/signatures.js';
import { upsertTag } from '../metadata/tags.js';
import { findRepositoryId } from '../metadata/repositories.js';
import type { RegistryContext } from './context.js';
import { releaseUnusedLinks } from './link-release.js';
import { yieldToRequests } from '../metadata/yield.js';
import type { BlobService } from './blobs.js';
import type { ManifestContent, ManifestService } from './manifests.js';
import type { EventOrigin } from '../events/types.js';

/** Image config blobs are small JSON; anything bigger is not read for inspect. */
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

export interface ImageListItem {
  name: string;
  namespace: string;
  tag: string | null;
  digest: string;
  mediaType: string;
  created: string;
  size: number;
  lastPulled: string | null;
  pullCount: number;
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(Number(ms)).toISOString();
}

/** The management view of images: list, inspect, tag, remove (to the trash) and restore. */
export class ImageService {
  constructor(private readonly ctx: RegistryContext, private readonly manifests: ManifestService, private readonly blobs: BlobService) {}

  async list(filter: images.ImageFilter, limit: number, offset: number): Promise<ImageListItem[]> {
    const rows = await images.listImages(this.ctx.db, filter, limit, offset);
    return rows.map((r) => ({
      name: r.repository, namespace: r.repository.split('/')[0]!, tag: r.tag, digest: r.digest, mediaType: r.media_type,
      created: iso(r.created_at)!, size: Number(r.image_size), lastPulled: iso(r.last_pulled_at), pullCount: Number(r.pull_count),
    }));
  }

  async inspect(ref: ImageReference) {
    const manifest = await this.manifests.get(ref.name, ref.digest ?? ref.tag!);
    const parsed = parseManifest(manifest.content, manifest.mediaType);
    const stats = await images.manifestStats(this.ctx.db, ref.name, manifest.digest);
    let config: Record<string, unknown> | null = null;
    if (parsed.config && parsed.config.size <= MAX_CONFIG_BYTES && /json/.test(parsed.config.mediaType)) {
      const blob = await findLinkedBlob(this.ctx.db, ref.name, parsed.config.digest);
      if (blob) {
        try {
          config = JSON.parse(await text(await this.ctx.store.read(blob.digest))) as Record<string, unknown>;
        } catch {
          config = null;
        }
      }
    }
    const inner = (config?.config ?? {}) as { Labels?: Record<string, string> };
    const referrers = await listReferrers(this.ctx.db, ref.name, manifest.digest);
    return {
      name: ref.name,
      digest: manifest.digest,
      mediaType: manifest.mediaType,
      created: iso(stats?.created_at ?? null),
      size: Number(stats?.image_size ?? 0),
      pullCount: Number(stats?.pull_count ?? 0),
      lastPulled: iso(stats?.last_pulled_at ?? null),
      tags: await images.tagsOf(this.ctx.db, ref.name, manifest.digest),
      config,
      os: typeof config?.os === 'string' ? config.os : null,
      architecture: typeof config?.architecture === 'string' ? config.architecture : null,
      layers: (parsed.isIndex ? [] : parsed.layers).map((l) => ({ digest: l.digest, mediaType: l.mediaType, size: l.size })),
      history: Array.isArray(config?.history) ? config.history : [],
      platforms: parsed.manifests.map((m: Descriptor) => ({ digest: m.digest, mediaType: m.mediaType, size: m.size, ...(m.platform ?? {}) })),
      labels: inner.Labels ?? {},
      annotations: parsed.annotations ?? {},
      referrers: referrers.map((r) => ({ digest: r.digest, mediaType: r.media_type, artifactType: r.artifact_type, size: Number(r.size) })),
    };
  }

  /**
   * Gives an existing image another tag, in its own repository or another one (same registry): the
   * blobs are linked, platform manifests copied, then the manifest is stored under the new tag.
   */
  async tag(source: ImageReference, target: { name: string; tag: string }, origin?: EventOrigin): Promise<{ name: string; tag: string; digest: string }> {
    const manifest = await this.manifests.get(source.name, source.digest ?? source.tag!);
    if (source.name !== target.name) await this.copyInto(source.name, target.name, manifest);
    await this.manifests.put(target.name, target.tag, manifest.content, manifest.mediaType, origin);
    return { name: target.name, tag: target.tag, digest: manifest.digest };
  }

  /** Links the manifest's blobs into `to` and stores its platform manifests there (not the manifest itself). */
  private async copyInto(from: string, to: string, manifest: ManifestContent): Promise<void> {
    const parsed = parseManifest(manifest.content, manifest.mediaType);
    await ensureRepository(this.ctx.db, to, this.ctx.now());
    for (const blob of parsed.blobs) await this.blobs.mount(to, blob.digest, from);
    for (const child of parsed.manifests) {
      const childManifest = await this.manifests.get(from, child.digest);
      await this.copyInto(from, to, childManifest);
      await this.manifests.put(to, child.digest, childManifest.content, childManifest.mediaType);
    }
  }

  /** By tag: untags. By digest: moves the image and all its tags to the trash. */
  async remove(ref: ImageReference, actor: string, origin?: EventOrigin): Promise<void> {
    await this.manifests.delete(ref.name, ref.digest ?? ref.tag!, actor, origin);
  }

  /** Every unexpired image in the account's trash; what the caller may see of it is the HTTP layer's to filter. */
  async listTrash(accountId: number) {
    const rows = await trash.listTrash(this.ctx.db, accountId, this.ctx.now());
    return rows.map((r) => ({
      name: r.repository_name, digest: r.digest, tags: JSON.parse(r.tags) as string[], size: Number(r.image_size),
      deleted: iso(r.deleted_at), deletedBy: r.deleted_by, expires: iso(r.expires_at),
    }));
  }

  /** The account's trashed image, or MANIFEST_UNKNOWN. */
  async trashed(accountId: number, name: string, digest: string): Promise<trash.TrashRow> {
    const row = await trash.findTrashed(this.ctx.db, accountId, name, digest, this.ctx.now());
    if (!row) throw new RegistryError('MANIFEST_UNKNOWN', `no image ${name}@${digest} in the trash (restorable images: wharf trash list)`, null);
    return row;
  }

  /**
   * Puts a trashed image of the account back with the tags it had (an index with its platforms);
   * a tag taken meanwhile by another image is left there. The trash row goes last: until then its
   * trash references keep the blobs and their links from the garbage collector.
   */
  async restore(accountId: number, name: string, digest: string): Promise<{ name: string; digest: string; tags: string[]; skippedTags: string[] }> {
    const row = await this.trashed(accountId, name, digest);
    const parsed = parseManifest(row.content, row.media_type);
    await this.relinkBlobs(name, parsed.blobs);
    for (const child of parsed.manifests) {
      const present = await this.manifests.get(name, child.digest).then(() => true, () => false);
      if (!present && await trash.findTrashed(this.ctx.db, accountId, name, child.digest, this.ctx.now())) await this.restore(accountId, name, child.digest);
    }
    await this.manifests.put(name, digest, row.content, row.media_type);
    const repositoryId = (await findRepositoryId(this.ctx.db, name))!;
    const restored: string[] = [];
    const skipped: string[] = [];
    for (const tag of JSON.parse(row.tags) as string[]) {
      const current = await this.manifests.get(name, tag).catch(() => undefined);
      if (current && current.digest !== digest) {
        skipped.push(tag);
        continue;
      }
      await upsertTag(this.ctx.db, repositoryId, tag, digest, this.ctx.now());
      restored.push(tag);
    }
    // Simple signatures that waited in the trash because the repository went with its namespace.
    await restoreTrashedSignatures(this.ctx.db, row.id, repositoryId, digest);
    await trash.deleteTrashed(this.ctx.db, row.id);
    // Its signatures and attestations come back with it (their own tags included).
    for (const attached of await trash.trashedAttachments(this.ctx.db, accountId, name, digest, this.ctx.now())) {
      await this.restore(accountId, name, attached.digest);
    }
    return { name, digest, tags: restored, skippedTags: skipped };
  }

  /**
   * Links the trashed image's blobs back into its repository when they are gone from it (the repository
   * went with its namespace): the account held them when the image was pushed, and their bytes are
   * still in the store until garbage collection, which counts trashed images as live.
   */
  private async relinkBlobs(name: string, blobs: Descriptor[]): Promise<void> {
    const now = this.ctx.now();
    const repositoryId = await ensureRepository(this.ctx.db, name, now);
    for (const blob of blobs) {
      if (await findLinkedBlob(this.ctx.db, name, blob.digest) || !(await findBlob(this.ctx.db, blob.digest))) continue;
      await this.ctx.hooks.beforeBlobStored?.(name, blob.digest, blob.size);
      await linkBlob(this.ctx.db, repositoryId, blob.digest, now);
    }
  }

  /** Images whose time in the trash is up leave it, and the links only they used go with them. */
  async purgeExpiredTrash(): Promise<number> {
    let purged = 0;
    for (;;) {
      const rows = await trash.expiredTrash(this.ctx.db, this.ctx.now(), 200);
      if (rows.length === 0) return purged;
      const released = await this.ctx.db.transaction().execute((trx) => trash.deleteTrashedRows(trx, rows));
      await releaseUnusedLinks(this.ctx, released);
      await dropSignaturesOfRemovedImages(this.ctx.db, rows.map((r) => r.repository_name));
      purged += rows.length;
      await yieldToRequests();
    }
  }

  /**
   * Removes a trashed image for good (an index with its trashed platforms), and releases the links
   * only it used: the account's storage usage goes down now, the bytes at the next garbage collection.
   */
  async removeFromTrash(accountId: number, name: string, digest: string): Promise<{ name: string; digest: string; removed: number }> {
    const row = await this.trashed(accountId, name, digest);
    const rows = [row];
    for (const child of parseManifest(row.content, row.media_type).manifests) {
      const trashedChild = await trash.findTrashed(this.ctx.db, accountId, name, child.digest, this.ctx.now());
      if (trashedChild) rows.push(trashedChild);
    }
    // Signatures and attestations trashed with any of them go too.
    for (const trashed of [...rows]) rows.push(...await trash.trashedAttachments(this.ctx.db, accountId, name, trashed.digest, this.ctx.now()));
    const released = await this.ctx.db.transaction().execute((trx) => trash.deleteTrashedRows(trx, rows));
    await releaseUnusedLinks(this.ctx, released);
    await dropSignaturesOfRemovedImages(this.ctx.db, [name]);
    return { name, digest, removed: rows.length };
  }
}
