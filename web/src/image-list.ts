/** The image list's logic, pure: grouping the API's rows into images, sorting and searching them. */
import type { Image, ImageRow } from './types.js';

/** The API lists one row per tag (and one per untagged image); an image is one digest with all its tags. */
export function groupImages(rows: ImageRow[]): Image[] {
  const byDigest = new Map<string, Image>();
  for (const row of rows) {
    const key = `${row.name}@${row.digest}`;
    const image = byDigest.get(key);
    if (image) {
      if (row.tag && !image.tags.includes(row.tag)) image.tags.push(row.tag);
      continue;
    }
    byDigest.set(key, {
      name: row.name, namespace: row.namespace, repository: row.repository, digest: row.digest, tags: row.tag ? [row.tag] : [],
      size: row.size, created: row.created, lastPulled: row.lastPulled, securityStatus: row.securityStatus, highestSeverity: row.highestSeverity ?? null,
      signatures: row.signatures ?? 0, verifiedBy: row.verifiedBy ?? [],
    });
  }
  for (const image of byDigest.values()) image.tags.sort();
  return [...byDigest.values()];
}

/** The Signed column, as `wharf image list` says it: verified by which keys, unverified, or none. */
export function signedStatus(image: Pick<Image, 'signatures' | 'verifiedBy'>): { tone: 'good' | 'warn' | 'pending'; label: string; rank: number } {
  if (image.verifiedBy.length) return { tone: 'good', label: `Verified: ${image.verifiedBy.join(', ')}`, rank: 2 };
  if (image.signatures > 0) return { tone: 'warn', label: `Unverified (${image.signatures})`, rank: 1 };
  return { tone: 'pending', label: 'None', rank: 0 };
}

export type SortKey = 'name' | 'size' | 'created' | 'lastPulled' | 'securityStatus' | 'signed';

export function issuesOf(status: string): number {
  const m = /^(\d+) Issues?$/.exec(status);
  return m ? Number(m[1]) : status === 'No Issues' ? 0 : -1;
}

export function sortImages(images: Image[], key: SortKey, ascending: boolean): Image[] {
  const value = (i: Image): string | number => {
    switch (key) {
      case 'name': return `${i.name} ${i.tags[0] ?? ''}`;
      case 'size': return i.size;
      case 'created': return Date.parse(i.created) || 0;
      case 'lastPulled': return i.lastPulled ? Date.parse(i.lastPulled) : 0;
      case 'securityStatus': return issuesOf(i.securityStatus);
      case 'signed': return signedStatus(i).rank * 1000 + i.signatures;
    }
  };
  const sorted = [...images].sort((a, b) => {
    const x = value(a);
    const y = value(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
  return ascending ? sorted : sorted.reverse();
}

export function matches(image: Image, search: string): boolean {
  if (!search) return true;
  const s = search.toLowerCase();
  return image.name.toLowerCase().includes(s) || image.digest.includes(s) || image.tags.some((t) => t.toLowerCase().includes(s));
}
