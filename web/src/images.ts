import { api } from './api';
import type { ImageRow } from './types';

export { groupImages, issuesOf, matches, signedStatus, sortImages, type SortKey } from './image-list';

/** Pages through /images (1,000 rows a request) up to `max` rows. */
export async function loadImageRows(max = 20_000): Promise<ImageRow[]> {
  const rows: ImageRow[] = [];
  let cursor: string | undefined;
  do {
    const page = await api<{ images: ImageRow[]; next?: string }>('GET', `/images?limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
    rows.push(...page.images);
    cursor = page.next;
  } while (cursor && rows.length < max);
  return rows;
}
