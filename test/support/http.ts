import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import type { Descriptor } from '../../src/oci/manifest.js';

/** Small helpers for the /v2/ spec tests: blobs, manifests, error bodies and raw HTTP. */

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
export const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip';

export function randomBlob(size = 1024): Buffer {
  return randomBytes(size);
}

export function digestOf(data: Buffer | string, algorithm: 'sha256' | 'sha512' = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}

/** A unique repository name per test, so tests sharing a server never see each other's content. */
let counter = 0;
export function repoName(prefix = 'spec'): string {
  counter += 1;
  return `${prefix}/r${counter}-${randomBytes(3).toString('hex')}`;
}

/** Pushes a blob with a single POST ?digest= and returns its digest. */
export async function pushBlob(base: string, name: string, data: Buffer, algorithm: 'sha256' | 'sha512' = 'sha256'): Promise<string> {
  const digest = digestOf(data, algorithm);
  const res = await fetch(`${base}/v2/${name}/blobs/uploads/?digest=${digest}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(data.length) },
    body: data,
  });
  assert.equal(res.status, 201, `pushing blob ${digest} to ${name}: ${await res.text()}`);
  return digest;
}

export type { Descriptor };

export function descriptor(mediaType: string, data: Buffer, extra: Partial<Descriptor> = {}): Descriptor {
  return { mediaType, digest: digestOf(data), size: data.length, ...extra };
}

/** Pushes the bytes of a manifest; returns the response (not asserted). */
export async function putManifest(base: string, name: string, reference: string, body: Buffer | string | object, contentType: string = OCI_MANIFEST): Promise<Response> {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  return fetch(`${base}/v2/${name}/manifests/${reference}`, { method: 'PUT', headers: { 'Content-Type': contentType }, body: bytes });
}

export interface PushedImage {
  digest: string;
  bytes: Buffer;
  config: Descriptor;
  layers: Descriptor[];
  mediaType: string;
}

/**
 * Pushes a config blob, one layer and an image manifest (OCI unless a Docker media type is given),
 * tagged when `reference` is a tag, and returns what was pushed.
 */
export async function pushImage(base: string, name: string, reference?: string, options: { mediaType?: string; extra?: Record<string, unknown>; configMediaType?: string } = {}): Promise<PushedImage> {
  const mediaType = options.mediaType ?? OCI_MANIFEST;
  const docker = mediaType === DOCKER_MANIFEST;
  const configBytes = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, nonce: randomBytes(8).toString('hex') }));
  const layerBytes = randomBlob(512);
  await pushBlob(base, name, configBytes);
  await pushBlob(base, name, layerBytes);
  const config = descriptor(options.configMediaType ?? (docker ? DOCKER_CONFIG : OCI_CONFIG), configBytes);
  const layers = [descriptor(docker ? DOCKER_LAYER : OCI_LAYER, layerBytes)];
  const manifest = { schemaVersion: 2, mediaType, config, layers, ...options.extra };
  const bytes = Buffer.from(JSON.stringify(manifest, null, 2));
  const digest = digestOf(bytes);
  const res = await putManifest(base, name, reference ?? digest, bytes, mediaType);
  assert.equal(res.status, 201, `pushing manifest to ${name}: ${await res.text()}`);
  return { digest, bytes, config, layers, mediaType };
}

export interface ErrorBody {
  errors: Array<{ code: string; message: string; detail: unknown }>;
}

/** Asserts the response is an OCI error of the given status and code, in the spec's JSON shape. */
export async function expectError(res: Response, status: number, code: string): Promise<ErrorBody> {
  const text = await res.text();
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status}: ${text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const body = JSON.parse(text) as ErrorBody;
  assertErrorShape(body);
  assert.equal(body.errors[0]!.code, code, text);
  return body;
}

export function assertErrorShape(body: unknown): asserts body is ErrorBody {
  assert.ok(typeof body === 'object' && body !== null && Array.isArray((body as ErrorBody).errors), `not an error body: ${JSON.stringify(body)}`);
  const errors = (body as ErrorBody).errors;
  assert.ok(errors.length > 0);
  for (const e of errors) {
    assert.deepEqual(Object.keys(e).sort(), ['code', 'detail', 'message']);
    assert.match(e.code, /^[A-Z_]+$/);
    assert.equal(typeof e.message, 'string');
  }
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * Sends a request with node:http without any URL normalisation (the path goes out as given) and
 * resolves with the response even when the server answers before the body is fully written.
 */
export function rawRequest(base: string, method: string, path: string, headers: Record<string, string | number> = {}, body?: Buffer): Promise<RawResponse> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    let settled = false;
    const req = http.request({ host: url.hostname, port: url.port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        settled = true;
        const h: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h[k] = Array.isArray(v) ? v.join(', ') : v;
        resolve({ status: res.statusCode ?? 0, headers: h, body: Buffer.concat(chunks) });
      });
      res.on('error', (err) => { if (!settled) reject(err); });
    });
    // Writing the rest of a body the server already refused can fail; the response is what counts.
    req.on('error', (err) => { setTimeout(() => { if (!settled) reject(err); }, 200); });
    if (body) req.end(body);
    else req.end();
  });
}

/**
 * Opens a TCP connection, writes `head` and `bodyPart`, then half-closes (`end`) or resets
 * (`destroy`) the connection. Resolves with whatever the server wrote back once the connection is closed.
 */
export function truncatedRequest(base: string, head: string, bodyPart: Buffer, how: 'end' | 'destroy', delayMs = 50): Promise<string> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('connect', () => {
      socket.write(head);
      socket.write(bodyPart);
      setTimeout(() => {
        if (how === 'end') socket.end();
        else socket.destroy();
      }, delayMs);
    });
    setTimeout(() => reject(new Error('truncated request: connection not closed in 10 s')), 10_000).unref();
  });
}

/** Waits until `check` holds, for state the server changes after a connection it cannot answer has gone. */
export async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) assert.fail(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Follows rel="next" Link headers from `first`, returning every page's JSON and the links seen. */
export async function followPages<T>(base: string, first: string): Promise<{ pages: T[]; links: string[] }> {
  const pages: T[] = [];
  const links: string[] = [];
  let next: string | undefined = first;
  for (let i = 0; next && i < 1000; i++) {
    const res = await fetch(`${base}${next}`);
    assert.equal(res.status, 200, `GET ${next}`);
    pages.push(await res.json() as T);
    const link = res.headers.get('link');
    next = undefined;
    if (link) {
      links.push(link);
      const m = /^<([^>]+)>;\s*rel="next"$/.exec(link);
      assert.ok(m, `Link header ${link} is <url>; rel="next"`);
      next = m[1]!.startsWith('http') ? new URL(m[1]!).pathname + new URL(m[1]!).search : m[1]!;
    }
  }
  return { pages, links };
}
