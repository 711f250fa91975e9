/**
 * Push and pull of a large blob: monolithic (single POST ?digest=, and POST then PUT) and chunked
 * in PATCHes. Server RSS is sampled throughout: it must stay flat however big the blob.
 */
import { rmSync } from 'node:fs';
import { makeBlob, type BlobSpec } from '../payload.js';
import type { PhysicalLimits } from '../limits.js';
import { MIB, timed, type TargetContext, type WorkloadItem } from './item.js';
import { curlAvailable, curlDownload } from '../curl.js';

/**
 * Pushing is bounded by receiving, hashing and writing durably. Each alone (disk, SHA-256,
 * loopback, in the limits table) is far above what they allow together on cores shared with the
 * client, so the limit is the three at once in a bare node:http server, or the slowest alone if lower.
 */
function pushLimit(limits: PhysicalLimits) {
  const candidates = [
    { value: limits.pushPipelineMiBs, label: 'bare node:http push pipeline' },
    { value: limits.diskWriteMiBs, label: 'disk write+fsync' },
    { value: limits.sha256MiBs, label: 'SHA-256' },
    { value: limits.loopbackMiBs, label: 'loopback TCP' },
  ];
  return candidates.reduce((a, b) => (b.value < a.value ? b : a));
}

function pushItem(id: string, title: string, push: (ctx: TargetContext, repo: string, blob: BlobSpec) => Promise<void>, unsupported?: WorkloadItem['unsupported']): WorkloadItem {
  let blob: BlobSpec | undefined;
  return {
    id,
    title,
    unit: 'MiB/s',
    better: 'higher',
    memory: true,
    unsupported,
    limit: pushLimit,
    async prepare(_round, options) {
      // One blob per round, the same for every target; its digest is computed here, untimed.
      blob = makeBlob(options.largeBlobMib * MIB);
    },
    async run(ctx, round) {
      const ms = await timed(() => push(ctx, `bench/${id}-${round}`, blob!));
      return { value: blob!.size / MIB / (ms / 1000), extra: { ms } };
    },
    async cleanup(ctx) {
      // Keep disk use bounded in full mode: the pushed bytes are never read again.
      rmSync(ctx.blobFile(blob!.digest), { force: true });
    },
  };
}

export const blobPushSinglePost = pushItem('blob-push-post', 'large blob push, monolithic POST ?digest=',
  (ctx, repo, blob) => ctx.client.pushSinglePost(repo, blob),
  { distribution: 'unsupported (answers 202, opens a session)' });

export const blobPushPostPut = pushItem('blob-push-put', 'large blob push, monolithic POST+PUT',
  (ctx, repo, blob) => ctx.client.pushPostPut(repo, blob));

export const blobPushChunked = pushItem('blob-push-chunked', 'large blob push, chunked PATCH',
  (ctx, repo, blob) => ctx.client.pushChunked(repo, blob, ctx.options.chunkMib * MIB));

const pulled = new Map<string, BlobSpec>();

export const blobPull: WorkloadItem = {
  id: 'blob-pull',
  title: curlAvailable() ? 'large blob pull (client: curl)' : 'large blob pull',
  unit: 'MiB/s',
  better: 'higher',
  memory: true,
  limit: (limits) => {
    // With curl as the client, the bound is what a Node server can send it at all (same bytes from memory).
    const loopback = limits.nodeToCurlMiBs !== undefined
      ? { value: limits.nodeToCurlMiBs, label: 'node:http sending from memory to curl' }
      : { value: limits.loopbackMiBs, label: 'loopback TCP' };
    return limits.diskReadMiBs < loopback.value ? { value: limits.diskReadMiBs, label: 'disk read' } : loopback;
  },
  async setup(ctx) {
    const blob = makeBlob(ctx.options.largeBlobMib * MIB);
    await ctx.client.pushPostPut('bench/pull', blob);
    pulled.set(ctx.target, blob);
  },
  async run(ctx) {
    const blob = pulled.get(ctx.target)!;
    let bytes = 0;
    let ms: number;
    if (curlAvailable()) {
      const answer = await curlDownload(`${ctx.server.url}/v2/bench/pull/blobs/${blob.digest}`);
      if (answer.status !== 200) throw new Error(`GET blob answered ${answer.status}`);
      ({ bytes, ms } = answer);
    } else {
      ms = await timed(async () => { bytes = await ctx.client.pullBlob('bench/pull', blob.digest); });
    }
    if (bytes !== blob.size) throw new Error(`pulled ${bytes} bytes of a ${blob.size}-byte blob`);
    return { value: bytes / MIB / (ms / 1000), extra: { ms } };
  },
};
