import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { fileURLToPath } from 'node:url';

/** A download that did not give an export to read: says which URL and what happened. */
export class FeedError extends Error {}

/** What was remembered of the export last imported, for a conditional request. */
export interface Validators {
  etag: string | null;
  lastModified: string | null;
}

export type Fetched =
  | { unchanged: true }
  | { unchanged: false; file: string; etag: string | null; lastModified: string | null; discard(): Promise<void> };

/** A whole export can be hundreds of megabytes on a slow link; a stalled one still ends. */
const DOWNLOAD_TIMEOUT_MS = 60 * 60_000;

/**
 * Where the export of one OSV ecosystem folder is: `<base>/<folder>/all.zip` on an HTTP(S) server
 * (OSV's bucket or a mirror), or in a local directory (a path or a file:// URL) for an air-gapped
 * registry.
 */
export function exportLocation(base: string, folder: string): string {
  if (/^https?:\/\//i.test(base)) return `${base.replace(/\/+$/, '')}/${encodeURIComponent(folder)}/all.zip`;
  const dir = /^file:\/\//i.test(base) ? fileURLToPath(base) : path.resolve(base);
  return path.join(dir, folder, 'all.zip');
}

/**
 * Gets an export unless it is the one last imported: over HTTP with If-None-Match /
 * If-Modified-Since (a 304 downloads nothing), streamed to a temporary file; from a directory by
 * its size and modification time. The caller reads the file, then discards it.
 */
export async function fetchExport(where: string, previous: Validators, stop?: AbortSignal): Promise<Fetched> {
  if (!/^https?:\/\//i.test(where)) return fetchLocal(where, previous);
  const headers: Record<string, string> = {};
  // A mirror's user:password@ goes in a header (fetch refuses URLs with credentials), never in messages.
  const url = new URL(where);
  if (url.username || url.password) {
    headers.Authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  const location = url.toString();
  if (previous.etag) headers['If-None-Match'] = previous.etag;
  if (previous.lastModified) headers['If-Modified-Since'] = previous.lastModified;
  let res: Response;
  try {
    res = await fetch(location, { headers, signal: stop ? AbortSignal.any([stop, AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS)]) : AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
  } catch (err) {
    const cause = (err as { cause?: Error }).cause?.message ?? (err as Error).message;
    throw new FeedError(`cannot download ${location}: ${cause}; check scanner.feedBase and that this server can reach it`);
  }
  if (res.status === 304) {
    await res.body?.cancel();
    return { unchanged: true };
  }
  if (res.status !== 200 || !res.body) {
    await res.body?.cancel();
    const hint = res.status === 404 ? 'the feed has no export for this ecosystem (check scanner.ecosystems and scanner.feedBase)' : 'try again later, or check the mirror';
    throw new FeedError(`GET ${location} answered HTTP ${res.status} ${res.statusText}: ${hint}`);
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wharf-osv-'));
  const discard = () => rm(dir, { recursive: true, force: true });
  const file = path.join(dir, 'all.zip');
  try {
    await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), createWriteStream(file));
  } catch (err) {
    await discard();
    const cause = (err as { cause?: Error }).cause?.message ?? (err as Error).message;
    throw new FeedError(`the download of ${location} broke off: ${cause}; the next sync tries again`);
  }
  return { unchanged: false, file, etag: res.headers.get('etag'), lastModified: res.headers.get('last-modified'), discard };
}

/** The location as messages and status show it: without a password. */
export function withoutCredentials(location: string): string {
  if (!/^https?:\/\//i.test(location)) return location;
  const url = new URL(location);
  url.username = '';
  url.password = '';
  return url.toString();
}

async function fetchLocal(file: string, previous: Validators): Promise<Fetched> {
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) throw new FeedError(`${file} does not exist: the mirror directory (scanner.feedBase) needs <ecosystem>/all.zip for each ecosystem, as OSV's bucket lays them out`);
  // A directory has no ETag: the file's size and time stand in for one.
  const etag = `W/"${info.size}-${Math.trunc(info.mtimeMs)}"`;
  if (previous.etag === etag) return { unchanged: true };
  return { unchanged: false, file, etag, lastModified: info.mtime.toUTCString(), discard: async () => {} };
}
