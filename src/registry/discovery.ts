import { RegistryError } from '../oci/errors.js';
import { parseDigest } from '../oci/digest.js';
import { MediaType } from '../oci/media-types.js';
import { assertRepositoryName } from '../oci/names.js';
import { listReferrers } from '../metadata/manifests.js';
import { findRepositoryId, listRepositoryNames } from '../metadata/repositories.js';
import { listTagNamesByRepository } from '../metadata/tags.js';
import type { Descriptor } from '../oci/manifest.js';
import type { RegistryContext } from './context.js';

export interface Page {
  items: string[];
  /** The `last` to ask for the next page, when there may be one. */
  next?: string;
}

export interface ReferrersIndex {
  schemaVersion: 2;
  mediaType: string;
  manifests: Descriptor[];
}

export function repositoryUnknown(name: string): RegistryError {
  return new RegistryError('NAME_UNKNOWN', `repository ${name} is not known to this registry`, { name });
}

/** Content discovery: tags list, catalog and referrers. */
export class DiscoveryService {
  constructor(private readonly ctx: RegistryContext) {}

  /** Validates `n`: absent means the server's page size; more than the maximum is clamped. */
  pageSize(n: string | undefined): number {
    if (n === undefined || n === '') return this.ctx.settings.maxPageSize;
    if (!/^\d{1,9}$/.test(n)) throw new RegistryError('PAGINATION_NUMBER_INVALID', `n must be a non-negative integer, not "${n.slice(0, 20)}"`, { n: n.slice(0, 20) });
    return Math.min(Number(n), this.ctx.settings.maxPageSize);
  }

  async tags(name: string, n: number, last?: string): Promise<Page> {
    assertRepositoryName(name);
    const rows = n === 0 ? [] : await listTagNamesByRepository(this.ctx.db, name, n + 1, last);
    if (rows.length === 0 && (await findRepositoryId(this.ctx.db, name)) === undefined) {
      throw repositoryUnknown(name);
    }
    return page(rows, n);
  }

  /** Repository names in lexical order; with `visible`, only those it accepts (pages stay full). */
  async catalog(n: number, last?: string, visible?: (name: string) => Promise<boolean>): Promise<Page> {
    if (n === 0) return { items: [] };
    if (!visible) return page(await listRepositoryNames(this.ctx.db, n + 1, last), n);
    const accepted: string[] = [];
    const batch = Math.min(Math.max(n + 1, 100), 1000);
    let cursor = last;
    while (accepted.length < n + 1) {
      const rows = await listRepositoryNames(this.ctx.db, batch, cursor);
      for (const name of rows) {
        if (await visible(name)) accepted.push(name);
        if (accepted.length === n + 1) break;
      }
      if (rows.length < batch) break;
      cursor = rows[rows.length - 1];
    }
    return page(accepted, n);
  }

  async referrers(name: string, digestText: string, artifactType?: string): Promise<ReferrersIndex> {
    assertRepositoryName(name);
    const digest = parseDigest(digestText).value;
    const rows = await listReferrers(this.ctx.db, name, digest, artifactType);
    return {
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: rows.map((row) => {
        const descriptor: Descriptor = { mediaType: row.media_type, digest: row.digest, size: row.size };
        if (row.artifact_type) descriptor.artifactType = row.artifact_type;
        if (row.annotations) descriptor.annotations = JSON.parse(row.annotations) as Record<string, string>;
        return descriptor;
      }),
    };
  }
}

function page(rows: string[], n: number): Page {
  if (rows.length > n) {
    const items = rows.slice(0, n);
    return { items, next: items[items.length - 1] };
  }
  return { items: rows };
}
