/**
 * Admission webhook latency: how long the API server waits for Wharf's answer. Starts an in-process
 * Wharf (SQLite, a temporary directory), pushes an image, gives a service ID Reader and an API key,
 * sets a namespace policy, then posts AdmissionReviews of a Deployment with an init container and two
 * containers (two distinct images of this registry, one tag to pin) to /admission/mutate, in sequence
 * and 8 at a time. Run: node --import tsx bench/admission.ts [reviews]
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../src/config/load.js';
import { startServer } from '../src/server.js';
import { admissionReview, workload } from '../test/support/admission.js';

const reviews = Number(process.argv[2] ?? 500);
const password = 'bench-admin-password-0123';
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'wharf-admission-bench-'));
const server = await startServer(loadConfig({ env: {}, overrides: {
  http: { host: '127.0.0.1', port: 0 }, storage: { dataDir }, auth: { adminPassword: password }, scanner: { enabled: false }, log: { level: 'silent' },
} }), pino({ level: 'silent' }), () => {});
const admin = `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;
const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function call(method: string, url: string, authorization: string, body?: unknown, contentType = 'application/json'): Promise<Response> {
  const res = await fetch(`${server.url}${url}`, { method, headers: { Authorization: authorization, 'Content-Type': contentType }, body: body === undefined ? undefined : Buffer.isBuffer(body) ? body : JSON.stringify(body) });
  if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
  return res;
}

async function push(name: string, tag: string): Promise<string> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, nonce: randomBytes(4).toString('hex') }));
  const layer = randomBytes(512);
  for (const blob of [config, layer]) await call('POST', `/v2/${name}/blobs/uploads/?digest=${sha(blob)}`, admin, blob, 'application/octet-stream');
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(layer), size: layer.length }] }));
  await call('PUT', `/v2/${name}/manifests/${tag}`, admin, manifest, 'application/vnd.oci.image.manifest.v1+json');
  return sha(manifest);
}

try {
  const host = new URL(server.url).host;
  await call('POST', '/api/v1/namespaces', admin, { name: 'team-a' });
  const app = await push('team-a/app', 'v1');
  await push('team-a/init', 'v1');
  const service = await (await call('POST', '/api/v1/iam/service-ids', admin, { name: 'k8s' })).json() as { id: number };
  await call('POST', '/api/v1/iam/policies', admin, { subject: `service:${service.id}`, role: 'Reader', namespace: 'team-a' });
  const { apiKey } = await (await call('POST', '/api/v1/iam/api-keys', admin, { serviceId: service.id, description: 'bench' })).json() as { apiKey: string };
  await call('PUT', '/api/v1/policies/images/namespaces/team-a', admin, { namespaces: ['team-a'], requireDigest: true });
  const body = admissionReview('Deployment', workload('Deployment', {
    initContainers: [{ name: 'init', image: `${host}/team-a/init:v1` }],
    containers: [{ name: 'web', image: `${host}/team-a/app@${app}` }, { name: 'worker', image: `${host}/team-a/app:v1` }],
  }));
  const once = async (): Promise<number> => {
    const started = performance.now();
    const res = await call('POST', '/admission/mutate', `Bearer ${apiKey}`, body);
    const { response } = await res.json() as { response: { allowed: boolean } };
    if (!response.allowed) throw new Error('the review was denied');
    return performance.now() - started;
  };
  for (let i = 0; i < 20; i++) await once();
  const report = (label: string, times: number[], wallMs: number) => {
    times.sort((a, b) => a - b);
    const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(2);
    console.log(`${label}: ${times.length} reviews, ${(times.length / (wallMs / 1000)).toFixed(0)}/s, p50 ${at(0.5)} ms, p95 ${at(0.95)} ms, max ${at(1)} ms`);
  };
  let started = performance.now();
  const sequential: number[] = [];
  for (let i = 0; i < reviews; i++) sequential.push(await once());
  report('sequential', sequential, performance.now() - started);
  started = performance.now();
  const concurrent: number[] = [];
  await Promise.all(Array.from({ length: 8 }, async () => { for (let i = 0; i < reviews / 8; i++) concurrent.push(await once()); }));
  report('8 at a time', concurrent, performance.now() - started);
} finally {
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
}
