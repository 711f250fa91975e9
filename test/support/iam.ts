import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { OCI_MANIFEST, digestOf } from './http.js';
import type { Caller } from '../../src/iam/iam-service.js';
import { createAccount } from '../../src/iam/accounts.js';
import { findUserByName } from '../../src/metadata/principals.js';
import type { WharfServer } from '../../src/server.js';
import { TEST_ADMIN_PASSWORD } from './server.js';

/** Shared fixtures of the IAM suites: two tenants, principals with each role, images, and a client that logs in like docker. */

export { OCI_MANIFEST, digestOf } from './http.js';

export interface Creds {
  username: string;
  password: string;
}

export function basic(creds: Creds): string {
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
}

export interface RequestSpec {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

/** One request with the given Authorization (or none). */
export function send(base: string, spec: RequestSpec, authorization?: string): Promise<Response> {
  const headers: Record<string, string> = { ...spec.headers };
  if (authorization) headers.Authorization = authorization;
  return fetch(`${base}${spec.path}`, { method: spec.method, headers, body: spec.body, redirect: 'manual' });
}

/** The parameters of a `WWW-Authenticate: Bearer k="v",...` challenge. */
export function parseChallenge(header: string | null): Record<string, string> | undefined {
  if (!header || !/^Bearer /i.test(header)) return undefined;
  const params: Record<string, string> = {};
  for (const m of header.slice(7).matchAll(/(\w+)="([^"]*)"/g)) params[m[1]!] = m[2]!;
  return params;
}

/** GET /auth/token with Basic credentials (or none) for the scopes; returns the token or throws with the status. */
export async function fetchToken(base: string, creds: Creds | undefined, scopes: string[], extra: Record<string, string> = {}): Promise<string> {
  const res = await tokenResponse(base, creds, scopes, extra);
  const text = await res.text();
  assert.equal(res.status, 200, `token for ${creds?.username ?? 'anonymous'} ${scopes.join(' ')}: ${text}`);
  return (JSON.parse(text) as { token: string }).token;
}

export function tokenResponse(base: string, creds: Creds | undefined, scopes: string[], extra: Record<string, string> = {}): Promise<Response> {
  const query = new URLSearchParams({ service: 'wharf', ...extra });
  for (const scope of scopes) query.append('scope', scope);
  return fetch(`${base}/auth/token?${query}`, creds ? { headers: { Authorization: basic(creds) } } : {});
}

/**
 * What docker, podman and skopeo do: try the request, and on a Bearer challenge fetch a token for the
 * challenge's scope with the credentials and retry once. A refused login answers with the token endpoint's response.
 */
export async function asClient(base: string, creds: Creds, spec: RequestSpec): Promise<Response> {
  const first = await send(base, spec);
  const challenge = parseChallenge(first.headers.get('www-authenticate'));
  if (first.status !== 401 || !challenge?.realm) return first;
  await first.arrayBuffer();
  const query = new URLSearchParams({ service: challenge.service ?? '' });
  if (challenge.scope) query.set('scope', challenge.scope);
  const tokenRes = await fetch(`${challenge.realm}?${query}`, { headers: { Authorization: basic(creds) } });
  if (tokenRes.status !== 200) return tokenRes;
  const { token } = await tokenRes.json() as { token: string };
  return send(base, spec, `Bearer ${token}`);
}

/** Calls the management API as the given principal (no authorization: anonymous). */
export async function api(base: string, method: string, path: string, authorization?: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = {};
  if (authorization) headers.Authorization = authorization;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  return fetch(`${base}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

export async function apiJson<T>(base: string, method: string, path: string, authorization: string, body?: unknown, status = method === 'POST' ? 201 : 200): Promise<T> {
  const res = await api(base, method, path, authorization, body);
  const text = await res.text();
  assert.equal(res.status, status, `${method} ${path}: ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

export interface PushedImage {
  digest: string;
  manifest: Buffer;
  config: string;
  layer: string;
}

export async function pushBlob(base: string, name: string, data: Buffer, authorization: string): Promise<string> {
  const digest = digestOf(data);
  const res = await send(base, { method: 'POST', path: `/v2/${name}/blobs/uploads/?digest=${digest}`, headers: { 'Content-Type': 'application/octet-stream' }, body: data }, authorization);
  assert.equal(res.status, 201, `pushing a blob to ${name}: ${await res.text()}`);
  return digest;
}

export function imageManifest(config: { digest: string; size: number }, layer: { digest: string; size: number }, annotations: Record<string, string> = {}): Buffer {
  return Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer.digest, size: layer.size }],
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
  }));
}

/** Pushes a config, a layer and a manifest (tagged when `tag` is given) with the given Authorization. */
export async function pushImage(base: string, name: string, tag: string | undefined, authorization: string): Promise<PushedImage> {
  const configBytes = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, nonce: randomBytes(8).toString('hex') }));
  const layerBytes = randomBytes(300);
  const config = await pushBlob(base, name, configBytes, authorization);
  const layer = await pushBlob(base, name, layerBytes, authorization);
  const manifest = imageManifest({ digest: config, size: configBytes.length }, { digest: layer, size: layerBytes.length });
  const digest = digestOf(manifest);
  const res = await send(base, { method: 'PUT', path: `/v2/${name}/manifests/${tag ?? digest}`, headers: { 'Content-Type': OCI_MANIFEST }, body: manifest }, authorization);
  assert.equal(res.status, 201, `pushing a manifest to ${name}: ${await res.text()}`);
  return { digest, manifest, config, layer };
}

export const PASSWORDS = {
  reader: 'reader-password-0123',
  writer: 'writer-password-0123',
  manager: 'manager-password-0123',
  bowner: 'bowner-password-0123',
  bwriter: 'bwriter-password-0123',
  victim: 'victim-password-0123',
};

/**
 * Two tenants on one server. Account A is the bootstrap account (`default`, owner `admin`) with the
 * namespace `teama` holding `teama/app:v1` and `teama/base`; `reader`, `writer` have Reader and Writer
 * on `teama`; `manager` is a Manager of account A (not its owner); the service ID `ci` has Writer on
 * `teama` and an API key. Account B (`tenant-b`, owner `bowner`) has `teamb` with `teamb/app:v1` and a
 * Writer `bwriter` on `teamb`.
 */
export interface Tenants {
  base: string;
  admin: Creds;
  reader: Creds;
  writer: Creds;
  manager: Creds;
  /** `iamapikey` + the service ID's key. */
  service: Creds;
  bowner: Creds;
  bwriter: Creds;
  ids: { accountA: number; accountB: number; admin: number; reader: number; writer: number; manager: number; victim: number; service: number; bowner: number; bwriter: number };
  /** Callers for the IAM service directly (setup without HTTP). */
  adminCaller: Caller;
  managerCaller: Caller;
  bownerCaller: Caller;
  app: PushedImage;
  /** A blob in teama/base only (mount source). */
  baseBlob: string;
  bApp: PushedImage;
}

export async function callerFor(server: WharfServer, kind: 'user' | 'service', id: number): Promise<Caller> {
  const principal = await server.iam.authenticator.loadPrincipal(kind, id, null);
  assert.ok(principal);
  return { principal, source: '127.0.0.1' };
}

export async function setUpTenants(server: WharfServer): Promise<Tenants> {
  const base = server.url;
  const iam = server.iam.service;
  const db = server.metadata.db;
  const adminRow = await findUserByName(db, 'admin');
  assert.ok(adminRow, 'the bootstrap administrator exists');
  const adminCaller = await callerFor(server, 'user', adminRow.id);
  const admin = { username: 'admin', password: TEST_ADMIN_PASSWORD };

  await iam.addNamespace(adminCaller, 'teama');
  const reader = await iam.createUser(adminCaller, 'reader', PASSWORDS.reader);
  const writer = await iam.createUser(adminCaller, 'writer', PASSWORDS.writer);
  const manager = await iam.createUser(adminCaller, 'manager', PASSWORDS.manager);
  const victim = await iam.createUser(adminCaller, 'victim', PASSWORDS.victim);
  const service = await iam.createServiceId(adminCaller, 'ci', 'pipeline');
  await iam.createPolicy(adminCaller, { subject: `user:${reader.id}`, role: 'reader', namespace: 'teama' });
  await iam.createPolicy(adminCaller, { subject: `user:${writer.id}`, role: 'writer', namespace: 'teama' });
  await iam.createPolicy(adminCaller, { subject: `user:${manager.id}`, role: 'manager' });
  await iam.createPolicy(adminCaller, { subject: `service:${service.id}`, role: 'writer', namespace: 'teama' });
  const serviceKey = await iam.createApiKey(adminCaller, 'ci key', service.id);

  const b = await createAccount(db, { name: 'tenant-b', ownerUsername: 'bowner', ownerPassword: PASSWORDS.bowner }, Date.now());
  const bownerCaller = await callerFor(server, 'user', b.ownerId);
  await iam.addNamespace(bownerCaller, 'teamb');
  const bwriter = await iam.createUser(bownerCaller, 'bwriter', PASSWORDS.bwriter);
  await iam.createPolicy(bownerCaller, { subject: `user:${bwriter.id}`, role: 'writer', namespace: 'teamb' });

  const adminAuth = basic(admin);
  const app = await pushImage(base, 'teama/app', 'v1', adminAuth);
  const baseBlob = await pushBlob(base, 'teama/base', randomBytes(200), adminAuth);
  const bApp = await pushImage(base, 'teamb/app', 'v1', basic({ username: 'bowner', password: PASSWORDS.bowner }));

  return {
    base, admin,
    reader: { username: 'reader', password: PASSWORDS.reader },
    writer: { username: 'writer', password: PASSWORDS.writer },
    manager: { username: 'manager', password: PASSWORDS.manager },
    service: { username: 'iamapikey', password: serviceKey.apiKey },
    bowner: { username: 'bowner', password: PASSWORDS.bowner },
    bwriter: { username: 'bwriter', password: PASSWORDS.bwriter },
    ids: {
      accountA: adminCaller.principal.kind === 'user' ? adminCaller.principal.accountId : 0, accountB: b.accountId,
      admin: adminRow.id, reader: reader.id, writer: writer.id, manager: manager.id, victim: victim.id, service: service.id, bowner: b.ownerId, bwriter: bwriter.id,
    },
    adminCaller, managerCaller: await callerFor(server, 'user', manager.id), bownerCaller,
    app, baseBlob, bApp,
  };
}

/** Decodes a JWT's payload without verifying it. */
export function jwtPayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}
