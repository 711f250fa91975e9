/**
 * What the S3 driver costs where it matters, against a running store (S3_ENDPOINT, S3_BUCKET and
 * AWS_* set, e.g. by `eval "$(test/support/s3-radosgw.sh start /tmp/rgw 17480)"`):
 *   node --import tsx bench/s3-staging.ts [MiB=256] [chunk MiB=16]
 * Prints the time to stage a blob in chunks, the running digest resumed on a fresh instance (a
 * replica) vs. the whole upload re-read, the seal (server-side copy, outside the transaction) and
 * the commit (multipart completion, inside it), the read throughput, and the peak RSS.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { S3BlobStore } from '../src/storage/s3/s3-blob-store.js';
import { parseDigest } from '../src/oci/digest.js';

const total = Number(process.argv[2] ?? 256) * 1024 * 1024;
const chunkSize = Number(process.argv[3] ?? 16) * 1024 * 1024;
const settings = {
  endpoint: process.env.S3_ENDPOINT ?? '', region: process.env.AWS_REGION ?? 'us-east-1', bucket: process.env.S3_BUCKET ?? '',
  prefix: `bench-${randomBytes(4).toString('hex')}/`, forcePathStyle: true, redirect: false, redirectTtl: 60,
  accessKeyId: '', secretAccessKey: '', requestTimeout: 60,
};
if (!settings.endpoint || !settings.bucket) throw new Error('set S3_ENDPOINT, S3_BUCKET and AWS_* (see the comment at the top)');

let peakRss = 0;
const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 50);
const ms = (t: number) => `${(performance.now() - t).toFixed(0)} ms`;
const store = new S3BlobStore(settings);
await store.init();

// One pseudo-random chunk repeated, so the generator costs nothing.
const chunk = randomBytes(chunkSize);
const hash = createHash('sha256');
let t = performance.now();
await store.createUpload('bench');
let size = 0;
while (size < total) {
  const n = Math.min(chunkSize, total - size);
  hash.update(chunk.subarray(0, n));
  size = await store.appendUpload('bench', size, Readable.from([chunk.subarray(0, n)]));
}
const digest = `sha256:${hash.digest('hex')}`;
console.log(`staged ${total / 1048576} MiB in ${chunkSize / 1048576} MiB chunks: ${ms(t)} (${(total / 1048576 / ((performance.now() - t) / 1000)).toFixed(0)} MiB/s)`);

const replica = new S3BlobStore(settings);
t = performance.now();
const resumed = await replica.digestUpload('bench', size, 'sha256');
console.log(`running digest on another replica (saved state): ${ms(t)}, ${resumed === digest ? 'correct' : 'WRONG'}`);
t = performance.now();
await replica.digestUpload('bench', size, 'sha512');
console.log(`the same with a whole re-read (sha512): ${ms(t)}`);

t = performance.now();
await store.sealUpload('bench', size);
console.log(`seal (server-side copy, outside the transaction): ${ms(t)}`);
t = performance.now();
await store.commitUpload('bench', size, parseDigest(digest));
console.log(`commit (multipart completion, inside the transaction): ${ms(t)}`);

t = performance.now();
let read = 0;
for await (const part of await store.read(digest)) read += (part as Buffer).length;
console.log(`read back ${read / 1048576} MiB: ${ms(t)} (${(read / 1048576 / ((performance.now() - t) / 1000)).toFixed(0)} MiB/s)`);
await store.delete(digest);
clearInterval(sampler);
console.log(`peak RSS ${(peakRss / 1048576).toFixed(0)} MiB`);
replica.close();
store.close();
