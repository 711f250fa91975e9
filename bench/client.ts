/**
 * A minimal OCI Distribution client on undici: keep-alive connection pools, bodies streamed from
 * precomputed buffers, nothing hashed or copied in the timed path.
 */
import { Pool } from 'undici';
import type { IncomingHttpHeaders } from 'node:http';
import type { BlobSpec } from './payload.js';
import { splitChunks } from './payload.js';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar';
export const MANIFEST_ACCEPT = [OCI_MANIFEST, 'application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.v2+json'].join(', ');

type Body = Buffer | string | Iterable<Buffer> | AsyncIterable<Buffer> | null;

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
}

export class RegistryClient {
  readonly pool: Pool;

  constructor(readonly baseUrl: string, connections = 256) {
    this.pool = new Pool(baseUrl, { connections, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 0, bodyTimeout: 0 });
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  /** Closes every connection now, answered or not. */
  destroy(): Promise<void> {
    return this.pool.destroy();
  }

  /** A request whose response body is discarded; fails unless the status is one of `expect`. */
  async call(method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, expect: number[], headers: Record<string, string> = {}, body: Body = null): Promise<Answer> {
    // undici streams iterables of buffers (its typings only list Readable).
    const res = await this.pool.request({ method, path, headers, body: body as Buffer | string | null });
    if (!expect.includes(res.statusCode)) {
      const text = await res.body.text().catch(() => '');
      throw new Error(`${method} ${path} answered ${res.statusCode}, expected ${expect.join('/')}: ${text.slice(0, 300)}`);
    }
    await res.body.dump();
    return { status: res.statusCode, headers: res.headers };
  }

  /** A GET whose body is read as text. */
  async text(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
    const res = await this.pool.request({ method: 'GET', path, headers });
    const body = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`GET ${path} answered ${res.statusCode}: ${body.slice(0, 300)}`);
    return { status: res.statusCode, headers: res.headers, body };
  }

  /** Path and query of a Location header (absolute for Distribution, relative for Wharf). */
  location(answer: Answer): string {
    const raw = answer.headers.location;
    if (typeof raw !== 'string') throw new Error(`no Location header (status ${answer.status})`);
    const url = new URL(raw, this.baseUrl);
    return url.pathname + url.search;
  }

  async startUpload(repo: string): Promise<string> {
    return this.location(await this.call('POST', `/v2/${repo}/blobs/uploads/`, [202], { 'content-length': '0' }));
  }

  /** One request: POST ?digest= with the whole body (OCI v1.1 monolithic single POST). */
  async pushSinglePost(repo: string, blob: BlobSpec): Promise<void> {
    await this.call('POST', `/v2/${repo}/blobs/uploads/?digest=${blob.digest}`, [201], lengthHeaders(blob.size), blob.chunks());
  }

  /** POST for a session, then PUT ?digest= with the whole body. */
  async pushPostPut(repo: string, blob: BlobSpec): Promise<void> {
    const location = await this.startUpload(repo);
    await this.call('PUT', withDigest(location, blob.digest), [201], lengthHeaders(blob.size), blob.chunks());
  }

  /** POST, PATCHes of `chunkSize` with Content-Range, then an empty PUT ?digest=. */
  async pushChunked(repo: string, blob: BlobSpec, chunkSize: number): Promise<void> {
    let location = await this.startUpload(repo);
    for (const chunk of splitChunks(blob, chunkSize)) {
      const answer = await this.call('PATCH', location, [202], {
        ...lengthHeaders(chunk.end - chunk.start + 1),
        'content-range': `${chunk.start}-${chunk.end}`,
      }, chunk.body);
      location = this.location(answer);
    }
    await this.call('PUT', withDigest(location, blob.digest), [201], { 'content-length': '0' });
  }

  async pushSmall(repo: string, blob: { bytes: Buffer; digest: string }): Promise<void> {
    const location = await this.startUpload(repo);
    await this.call('PUT', withDigest(location, blob.digest), [201], lengthHeaders(blob.bytes.length), blob.bytes);
  }

  /** Streams a blob and counts its bytes. */
  async pullBlob(repo: string, digest: string): Promise<number> {
    const res = await this.pool.request({ method: 'GET', path: `/v2/${repo}/blobs/${digest}` });
    if (res.statusCode !== 200) throw new Error(`GET blob ${digest} answered ${res.statusCode}: ${(await res.body.text()).slice(0, 200)}`);
    let bytes = 0;
    for await (const chunk of res.body) bytes += (chunk as Buffer).length;
    return bytes;
  }

  async mount(repo: string, digest: string, from: string): Promise<void> {
    await this.call('POST', `/v2/${repo}/blobs/uploads/?mount=${digest}&from=${from}`, [201], { 'content-length': '0' });
  }

  async putManifest(repo: string, reference: string, bytes: Buffer, mediaType = OCI_MANIFEST): Promise<void> {
    await this.call('PUT', `/v2/${repo}/manifests/${reference}`, [201], { 'content-type': mediaType, 'content-length': String(bytes.length) }, bytes);
  }

  /** Follows Link headers from `path`; returns how many names and pages were read. */
  async listAll(path: string, key: 'tags' | 'repositories'): Promise<{ names: number; pages: number }> {
    let next: string | undefined = path;
    let names = 0;
    let pages = 0;
    while (next) {
      const res = await this.text(next);
      pages++;
      names += ((JSON.parse(res.body) as Record<string, string[] | null>)[key] ?? []).length;
      const link = res.headers.link;
      const match = typeof link === 'string' ? /<([^>]+)>;\s*rel="?next"?/.exec(link) : null;
      next = match ? new URL(match[1]!, this.baseUrl).pathname + new URL(match[1]!, this.baseUrl).search : undefined;
    }
    return { names, pages };
  }
}

function lengthHeaders(size: number): Record<string, string> {
  return { 'content-type': 'application/octet-stream', 'content-length': String(size) };
}

function withDigest(location: string, digest: string): string {
  return `${location}${location.includes('?') ? '&' : '?'}digest=${digest}`;
}

/** An OCI image manifest for a config and layers already pushed. */
export function imageManifest(config: { digest: string; size: number }, layers: Array<{ digest: string; size: number }>, annotation?: string): Buffer {
  return Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: config.digest, size: config.size },
    layers: layers.map((l) => ({ mediaType: OCI_LAYER, digest: l.digest, size: l.size })),
    ...(annotation ? { annotations: { 'org.example.bench': annotation } } : {}),
  }));
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` at once. */
export async function runPool(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}
