/**
 * The S3 items: Wharf and Distribution on the same radosgw (bench/s3-servers.ts), pushing and
 * pulling blobs and rolling one image out to many clients, with blob GETs proxied through the
 * registry (wharf-s3, distribution-s3) or answered by a 307 to a presigned URL of the store that
 * the client follows (the *-redirect targets). They run only on the S3 targets.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { imageManifest, MANIFEST_ACCEPT } from '../client.js';
import type { TargetName } from '../options.js';
import { makeBlob, type BlobSpec } from '../payload.js';
import { MIB, timed, type TargetContext, type WorkloadItem } from './item.js';

const NOT_S3: Partial<Record<TargetName, string>> = {
  wharf: 'S3 item (see the S3 table)', distribution: 'S3 item (see the S3 table)', 'wharf-pg': 'S3 item (see the S3 table)',
};
const PUSH_ONLY_PROXIED: Partial<Record<TargetName, string>> = {
  ...NOT_S3,
  'wharf-s3-redirect': 'as wharf-s3 (pushes are not redirected)',
  'distribution-s3-redirect': 'as distribution-s3 (pushes are not redirected)',
};

function pushItem(id: string, title: string, size: (ctx: { s3BlobMib: number }) => number, push: (ctx: TargetContext, repo: string, blob: BlobSpec) => Promise<void>): WorkloadItem {
  let blob: BlobSpec | undefined;
  return {
    id,
    title,
    unit: 'MiB/s',
    better: 'higher',
    s3: true,
    unsupported: PUSH_ONLY_PROXIED,
    async prepare(_round, options) {
      blob = makeBlob(size(options) * MIB);
    },
    async run(ctx, round) {
      const ms = await timed(() => push(ctx, `bench/${id}-${round}`, blob!));
      return { value: blob!.size / MIB / (ms / 1000), extra: { ms } };
    },
  };
}

const small = (o: { s3BlobMib: number }) => Math.max(1, Math.round(o.s3BlobMib / 8));
const large = (o: { s3BlobMib: number }) => o.s3BlobMib;

export const s3PushPutSmall = pushItem('s3-push-put-small', 'S3: small blob push, monolithic POST+PUT', small, (ctx, repo, blob) => ctx.client.pushPostPut(repo, blob));
export const s3PushPut = pushItem('s3-push-put', 'S3: large blob push, monolithic POST+PUT', large, (ctx, repo, blob) => ctx.client.pushPostPut(repo, blob));
export const s3PushChunkedSmall = pushItem('s3-push-chunked-small', 'S3: small blob push, chunked PATCH', small, (ctx, repo, blob) => ctx.client.pushChunked(repo, blob, ctx.options.chunkMib * MIB));
export const s3PushChunked = pushItem('s3-push-chunked', 'S3: large blob push, chunked PATCH', large, (ctx, repo, blob) => ctx.client.pushChunked(repo, blob, ctx.options.chunkMib * MIB));

/** curl, following a redirect to the store when there is one. */
function curlGet(url: string): Promise<{ status: number; bytes: number; ms: number }> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-s', '-L', '-o', '/dev/null', '-w', '%{http_code} %{size_download} %{time_total} %{num_redirects}', url], (err, stdout) => {
      if (err) return reject(new Error(`curl ${url} failed: ${err.message}`));
      const [status, bytes, seconds] = stdout.trim().split(' ').map(Number) as [number, number, number];
      resolve({ status, bytes, ms: seconds * 1000 });
    });
  });
}

const pulled = new Map<TargetName, BlobSpec>();

export const s3Pull: WorkloadItem = {
  id: 's3-pull',
  title: 'S3: large blob pull (client: curl -L)',
  unit: 'MiB/s',
  better: 'higher',
  s3: true,
  unsupported: NOT_S3,
  async setup(ctx) {
    const blob = makeBlob(large(ctx.options) * MIB);
    await ctx.client.pushPostPut('bench/s3-pull', blob);
    pulled.set(ctx.target, blob);
  },
  async run(ctx) {
    const blob = pulled.get(ctx.target)!;
    const answer = await curlGet(`${ctx.server.url}/v2/bench/s3-pull/blobs/${blob.digest}`);
    if (answer.status !== 200 || answer.bytes !== blob.size) throw new Error(`GET blob answered ${answer.status} with ${answer.bytes} of ${blob.size} bytes`);
    return { value: answer.bytes / MIB / (answer.ms / 1000), extra: { ms: answer.ms } };
  },
};

interface Image { manifest: Buffer; blobs: Array<{ digest: string; size: number }> }
const images = new Map<TargetName, Image>();

/** One client's pull: the manifest, then the config and every layer, redirects followed. */
async function pullImage(base: string, image: Image): Promise<number> {
  const m = await fetch(`${base}/v2/bench/s3-rollout/manifests/latest`, { headers: { accept: MANIFEST_ACCEPT } });
  const manifest = Buffer.from(await m.arrayBuffer());
  if (m.status !== 200 || !manifest.equals(image.manifest)) throw new Error(`manifest GET answered ${m.status}`);
  let bytes = manifest.length;
  for (const blob of image.blobs) {
    const res = await fetch(`${base}/v2/bench/s3-rollout/blobs/${blob.digest}`, { redirect: 'follow' });
    if (res.status !== 200 || !res.body) throw new Error(`blob GET answered ${res.status}`);
    let n = 0;
    for await (const part of res.body) n += (part as Uint8Array).length;
    if (n !== blob.size) throw new Error(`pulled ${n} of ${blob.size} bytes`);
    bytes += n;
  }
  return bytes;
}

export const s3Rollout: WorkloadItem = {
  id: 's3-rollout',
  title: 'S3: rollout, concurrent pulls of one image (manifest + config + 2 layers)',
  unit: 'MiB/s',
  better: 'higher',
  s3: true,
  unsupported: NOT_S3,
  extras: [{ key: 'ms', title: 'S3: rollout wall time', unit: 'ms', better: 'lower' }],
  async setup(ctx) {
    const layerSize = Math.max(1, Math.round(ctx.options.rolloutBlobMib / 2)) * MIB;
    const layers = [makeBlob(layerSize), makeBlob(layerSize)];
    const bytes = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: {} }));
    const config = { bytes, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}` };
    for (const layer of layers) await ctx.client.pushPostPut('bench/s3-rollout', layer);
    await ctx.client.pushSmall('bench/s3-rollout', config);
    const blobs = [{ digest: config.digest, size: config.bytes.length }, ...layers.map((l) => ({ digest: l.digest, size: l.size }))];
    const manifest = imageManifest(blobs[0]!, blobs.slice(1));
    await ctx.client.putManifest('bench/s3-rollout', 'latest', manifest);
    images.set(ctx.target, { manifest, blobs });
  },
  async run(ctx) {
    const image = images.get(ctx.target)!;
    const clients = ctx.options.rolloutClients;
    let bytes = 0;
    const ms = await timed(() => Promise.all(Array.from({ length: clients }, async () => {
      const n = await pullImage(ctx.server.url, image);
      bytes += n;
    })));
    return { value: bytes / MIB / (ms / 1000), extra: { ms } };
  },
};

export const S3_ITEMS: WorkloadItem[] = [s3PushPutSmall, s3PushPut, s3PushChunkedSmall, s3PushChunked, s3Pull, s3Rollout];
