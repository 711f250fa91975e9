import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { TEST_ADMIN_PASSWORD } from '../support/server.js';
import { describeRun, ensureBuilt, runCommand } from '../support/process.js';
import { OciLayout, blobPath, multiLayerImage, reachableDigests, resolveTag } from '../support/oci-layout.js';
import { ADMIN_AUTH, haproxyBinary, startReplicaSet, type ReplicaSet } from '../support/replicas.js';
// Imported so that test/run.mjs starts radosgw for this file (support/s3.js).
import '../support/s3.js';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createS3Client } from '../../src/storage/s3/s3-client.js';

/**
 * Three `wharf serve` replicas on one PostgreSQL database and one S3 bucket (radosgw), with no
 * shared filesystem, behind Debian's HAProxy with round robin and no stickiness: they behave as one
 * registry. Pushes and pulls go through the proxy; requests of one upload land on different
 * replicas; a replica killed with SIGKILL loses nothing acknowledged; garbage collection on one
 * replica does not eat what pushes through the others are using.
 */

const MiB = 1024 * 1024;
const sha256 = (data: Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

const haproxy = await haproxyBinary();
const skopeo = await runCommand('skopeo', ['--version']).then((r) => r.code === 0, () => false);
// podman with throwaway vfs storage (as test/clients/podman.test.ts), when it runs here at all.
const podmanProbe = mkdtempSync(path.join(os.tmpdir(), 'wharf-ha-podman-probe-'));
const podmanStorage = (dir: string): string[] => ['--root', path.join(dir, 'root'), '--runroot', path.join(dir, 'run'), '--storage-driver', 'vfs', '--events-backend', 'none'];
const podmanMissing = await runCommand('podman', [...podmanStorage(podmanProbe), 'info', '--format', '{{.Store.GraphDriverName}}'], { timeoutMs: 60_000 })
  .then((r) => (r.code === 0 && r.stdout.trim() === 'vfs' ? undefined : `podman info fails here: ${(r.stderr || r.stdout).trim().split('\n').at(-1)}`), (err: Error) => `podman is not installed: ${err.message}`);
rmSync(podmanProbe, { recursive: true, force: true });
const skip = !haproxy ? 'haproxy is not installed (Debian package "haproxy")' : !skopeo ? 'skopeo is not installed (Debian package "skopeo")' : false;

/** A request to a replica or the proxy as the administrator (basic credentials: every replica checks them against the shared database). */
async function call(base: string, method: string, url: string, headers: Record<string, string> = {}, body?: Buffer): Promise<Response> {
  return fetch(`${base}${url}`, { method, headers: { Authorization: ADMIN_AUTH, ...headers }, body, signal: AbortSignal.timeout(120_000) });
}

/** The path of an upload's Location header, to send its next request anywhere. */
const locationPath = (res: Response): string => {
  const location = res.headers.get('location');
  assert.ok(location, 'the upload has a Location');
  return location.startsWith('http') ? new URL(location).pathname + new URL(location).search : location;
};

async function uploadBlob(base: string, name: string, data: Buffer): Promise<void> {
  const digest = sha256(data);
  const res = await call(base, 'POST', `/v2/${name}/blobs/uploads/?digest=${digest}`, { 'Content-Type': 'application/octet-stream' }, data);
  const text = await res.text();
  if (res.status !== 201) throw new Error(`blob ${digest} to ${name}: ${res.status} ${text}`);
}

interface Pushed {
  name: string;
  tag: string;
  digest: string;
  blobs: Map<string, Buffer>;
}

/**
 * Pushes an image like a real client: a blob the repository already has (HEAD 200) is not sent
 * again. Throws on any failure; the caller pushes the whole image again.
 */
async function pushImage(base: string, name: string, tag: string, layers: Buffer[]): Promise<Pushed> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, nonce: randomBytes(8).toString('hex') }));
  const blobs = new Map<string, Buffer>([[sha256(config), config], ...layers.map((l) => [sha256(l), l] as [string, Buffer])]);
  for (const [digest, data] of blobs) {
    const head = await call(base, 'HEAD', `/v2/${name}/blobs/${digest}`);
    if (head.status !== 200) await uploadBlob(base, name, data);
  }
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(l), size: l.length })),
  }));
  const res = await call(base, 'PUT', `/v2/${name}/manifests/${tag}`, { 'Content-Type': OCI_MANIFEST }, manifest);
  const text = await res.text();
  if (res.status !== 201) throw new Error(`manifest ${name}:${tag}: ${res.status} ${text}`);
  return { name, tag, digest: sha256(manifest), blobs };
}

/** Pushes until acknowledged (a replica may die or a collector may take a blob under a push). */
async function pushUntilAcknowledged(base: string, name: string, tag: string, layers: Buffer[], failures: string[]): Promise<Pushed> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await pushImage(base, name, tag, layers);
    } catch (err) {
      failures.push(`${name}:${tag} attempt ${attempt}: ${(err as Error).message}`);
      if (attempt >= 10) throw new Error(`${name}:${tag} was not acknowledged after 10 attempts:\n${failures.join('\n')}`);
    }
  }
}

/** Every byte of an acknowledged image comes back through the proxy. */
async function assertPullable(base: string, image: Pushed): Promise<void> {
  const manifest = await call(base, 'GET', `/v2/${image.name}/manifests/${image.tag}`, { Accept: OCI_MANIFEST });
  const bytes = Buffer.from(await manifest.arrayBuffer());
  assert.equal(manifest.status, 200, `${image.name}:${image.tag} is pullable`);
  assert.equal(sha256(bytes), image.digest, `${image.name}:${image.tag} is the manifest acknowledged`);
  for (const [digest, data] of image.blobs) {
    const blob = await call(base, 'GET', `/v2/${image.name}/blobs/${digest}`);
    const got = Buffer.from(await blob.arrayBuffer());
    assert.equal(blob.status, 200, `${image.name} blob ${digest} is pullable`);
    assert.ok(got.equals(data), `${image.name} blob ${digest} is byte-identical`);
  }
}

async function assertFsckClean(set: ReplicaSet, after: string): Promise<void> {
  const result = await set.fsck('--format', 'json');
  assert.equal(result.code, 0, `wharf fsck after ${after}: ${describeRun('wharf', ['fsck'], result)}`);
  const report = JSON.parse(result.stdout) as { errors: number; blobs: number };
  assert.equal(report.errors, 0);
  assert.ok(report.blobs > 0, 'fsck checked the blobs in the bucket');
}

describe('three replicas behind HAProxy on PostgreSQL and S3', { skip, timeout: 900_000 }, () => {
  let set: ReplicaSet;
  let work: string;

  before(async () => {
    await ensureBuilt();
    work = mkdtempSync(path.join(os.tmpdir(), 'wharf-ha-test-'));
    // A collector that removes what is unreferenced after 2 s, to race with the pushes (a grace
    // period of 0 would take every blob between its upload and its manifest, as documented).
    set = await startReplicaSet(haproxy as string, 3, { WHARF_STORAGE_GC_GRACE_PERIOD: '2s', WHARF_STORAGE_GC_INTERVAL: '0s' });
  });
  after(async () => {
    await set?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('skopeo copies a multi-layer image in and out through the proxy, byte for byte, its requests spread over every replica', async () => {
    const layout = new OciLayout(path.join(work, 'layout'));
    const image = multiLayerImage(layout, 'multi', 3);
    const host = new URL(set.url).host;
    const creds = `admin:${TEST_ADMIN_PASSWORD}`;
    const push = ['copy', '--preserve-digests', '--dest-tls-verify=false', '--dest-creds', creds, `oci:${layout.dir}:${image.tag}`, `docker://${host}/scale/multi:${image.tag}`];
    const pushed = await runCommand('skopeo', push, { timeoutMs: 300_000 });
    assert.equal(pushed.code, 0, describeRun('skopeo', push, pushed));
    const out = path.join(work, 'out');
    const pull = ['copy', '--preserve-digests', '--src-tls-verify=false', '--src-creds', creds, `docker://${host}/scale/multi:${image.tag}`, `oci:${out}:${image.tag}`];
    const pulled = await runCommand('skopeo', pull, { timeoutMs: 300_000 });
    assert.equal(pulled.code, 0, describeRun('skopeo', pull, pulled));
    assert.equal(resolveTag(out, image.tag).digest, image.root.digest);
    for (const digest of reachableDigests(layout.dir, image.root.digest)) {
      assert.ok(readFileSync(blobPath(out, digest)).equals(readFileSync(blobPath(layout.dir, digest))), `${digest} is byte-identical`);
    }
    // Round robin without stickiness: every replica served some of skopeo's registry requests
    // (the token from one replica's /v2/token was accepted by the others).
    set.replicas.forEach((replica, i) => {
      assert.match(replica.output(), /"url":"\/v2\/scale\/multi\//, `replica ${i} served part of the copy`);
    });
  });

  it('podman pushes an image through the proxy and pulls it back as the same image', { skip: podmanMissing ?? false }, async () => {
    // podman names an image pulled from `oci:<dir>` after the directory, which must be lowercase: no mkdtemp suffix.
    const dir = path.join(os.tmpdir(), `wharf-ha-podman-${randomBytes(6).toString('hex')}`);
    mkdirSync(dir);
    const layout = new OciLayout(path.join(dir, 'layout'));
    const image = multiLayerImage(layout, 'app', 2);
    const podman = async (...args: string[]): Promise<string> => {
      const result = await runCommand('podman', [...podmanStorage(path.join(dir, 'storage')), ...args], { timeoutMs: 300_000 });
      assert.equal(result.code, 0, describeRun('podman', args, result));
      return result.stdout.trim();
    };
    const ref = `${new URL(set.url).host}/scale/podman:v1`;
    const creds = `admin:${TEST_ADMIN_PASSWORD}`;
    try {
      await podman('pull', `oci:${layout.dir}:${image.tag}`);
      await podman('tag', image.config!.digest.slice('sha256:'.length), ref);
      await podman('push', '--tls-verify=false', '--creds', creds, ref);
      await podman('rmi', '--all', '--force');
      await podman('pull', '--tls-verify=false', '--creds', creds, ref);
      assert.equal((await podman('images', '--quiet', '--no-trunc')).split('\n').filter(Boolean).join(), image.config!.digest, 'pulled back the same image ID (config digest)');
    } finally {
      await podman('rmi', '--all', '--force').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a chunked upload whose requests each go to another replica completes with the right digest', async () => {
    const chunks = [randomBytes(6 * MiB), randomBytes(MiB), randomBytes(3 * MiB), randomBytes(MiB / 2)];
    const data = Buffer.concat(chunks);
    const at = (i: number): string => set.replicas[i % set.replicas.length]!.url;
    const started = await call(at(0), 'POST', '/v2/scale/chunked/blobs/uploads/', { 'Content-Length': '0' });
    assert.equal(started.status, 202, await started.text());
    let location = locationPath(started);
    let offset = 0;
    for (const [n, chunk] of chunks.slice(0, -1).entries()) {
      const res = await call(at(n + 1), 'PATCH', location, { 'Content-Type': 'application/octet-stream', 'Content-Range': `${offset}-${offset + chunk.length - 1}` }, chunk);
      assert.equal(res.status, 202, `PATCH ${n} on replica ${(n + 1) % 3}: ${await res.text()}`);
      offset += chunk.length;
      assert.equal(res.headers.get('range'), `0-${offset - 1}`);
      location = locationPath(res);
    }
    // A chunk sent again from a stale offset, to yet another replica, is refused with the upload's real Range.
    const stale = await call(at(1), 'PATCH', location, { 'Content-Type': 'application/octet-stream', 'Content-Range': `0-${chunks[0]!.length - 1}` }, chunks[0]);
    assert.equal(stale.status, 416, await stale.text());
    assert.equal(stale.headers.get('range'), `0-${offset - 1}`);
    const last = chunks.at(-1)!;
    const sep = location.includes('?') ? '&' : '?';
    const done = await call(at(chunks.length), 'PUT', `${location}${sep}digest=${sha256(data)}`, { 'Content-Type': 'application/octet-stream', 'Content-Range': `${offset}-${offset + last.length - 1}` }, last);
    assert.equal(done.status, 201, await done.text());
    const blob = await call(set.url, 'GET', `/v2/scale/chunked/blobs/${sha256(data)}`);
    assert.equal(blob.status, 200);
    assert.ok(Buffer.from(await blob.arrayBuffer()).equals(data), 'the blob is the bytes of every chunk, in order');
  });

  it('two PATCHes of the same chunk on two replicas at once: one is stored, the other refused, and the upload completes with the stored bytes', async () => {
    const first = randomBytes(MiB);
    const started = await call(set.replicas[0]!.url, 'POST', '/v2/scale/race/blobs/uploads/', { 'Content-Length': '0' });
    assert.equal(started.status, 202, await started.text());
    const location = locationPath(started);
    const candidates = [randomBytes(4 * MiB), randomBytes(4 * MiB)];
    const range = `${first.length}-${first.length + candidates[0]!.length - 1}`;
    const head = await call(set.replicas[0]!.url, 'PATCH', location, { 'Content-Type': 'application/octet-stream', 'Content-Range': `0-${first.length - 1}` }, first);
    assert.equal(head.status, 202, await head.text());
    const answers = await Promise.all(candidates.map(async (chunk, i) => {
      const res = await call(set.replicas[i + 1]!.url, 'PATCH', location, { 'Content-Type': 'application/octet-stream', 'Content-Range': range }, chunk);
      return { status: res.status, text: await res.text() };
    }));
    const won = answers.findIndex((a) => a.status === 202);
    assert.ok(won >= 0, `one of the two PATCHes is stored: ${JSON.stringify(answers)}`);
    const lost = answers[1 - won]!;
    // Both may be stored one after the other only if they did not overlap; then the second, stale, is refused as such.
    assert.ok(lost.status === 416 || lost.status === 400 || lost.status === 409, `the other is refused: ${JSON.stringify(answers)}`);
    const data = Buffer.concat([first, candidates[won]!]);
    // Completed on the replica that refused, which holds no running digest of the stored chunk.
    const sep = location.includes('?') ? '&' : '?';
    const done = await call(set.replicas[2 - won]!.url, 'PUT', `${location}${sep}digest=${sha256(data)}`, { 'Content-Length': '0' });
    assert.equal(done.status, 201, await done.text());
    const blob = await call(set.url, 'GET', `/v2/scale/race/blobs/${sha256(data)}`);
    assert.equal(blob.status, 200);
    assert.ok(Buffer.from(await blob.arrayBuffer()).equals(data), 'the blob holds the stored chunk');
  });

  it('a session that counts more than is staged (a replica died between counting a chunk and publishing it) goes back to what is staged, and the upload resumes there', async () => {
    // The first chunk is a whole S3 part (5 MiB or more), so the second is staged beside it, not merged into it.
    const chunks = [randomBytes(6 * MiB), randomBytes(MiB), randomBytes(MiB)];
    const [a, b] = [chunks[0]!.length, chunks[0]!.length + chunks[1]!.length];
    const started = await call(set.url, 'POST', '/v2/scale/behind/blobs/uploads/', { 'Content-Length': '0' });
    assert.equal(started.status, 202, await started.text());
    const location = locationPath(started);
    const id = /\/blobs\/uploads\/([a-f0-9-]{36})/.exec(location)![1]!;
    const state = { Bucket: set.s3.bucket, Key: `${set.s3.prefix}uploads/${id}/state.json` };
    const client = createS3Client(set.s3);
    const patch = (i: number, offset: number) => call(set.replicas[i % 3]!.url, 'PATCH', location, { 'Content-Type': 'application/octet-stream', 'Content-Range': `${offset}-${offset + chunks[i]!.length - 1}` }, chunks[i]);
    try {
      const first = await patch(0, 0);
      assert.equal(first.status, 202, await first.text());
      const afterFirst = await (await client.send(new GetObjectCommand(state))).Body!.transformToString();
      const second = await patch(1, a);
      assert.equal(second.status, 202, await second.text());
      // The second chunk counted in the database, but its segment never named in the staged state.
      await client.send(new PutObjectCommand({ ...state, Body: afterFirst, ContentType: 'application/json' }));
    } finally {
      client.destroy();
    }
    const refused = await patch(2, b);
    assert.equal(refused.status, 416, await refused.text());
    assert.equal(refused.headers.get('range'), `0-${a - 1}`, 'the upload went back to the bytes staged');
    const resumed = await patch(1, a);
    assert.equal(resumed.status, 202, await resumed.text());
    const data = Buffer.concat(chunks);
    const sep = location.includes('?') ? '&' : '?';
    const done = await call(set.replicas[2]!.url, 'PUT', `${location}${sep}digest=${sha256(data)}`, { 'Content-Type': 'application/octet-stream', 'Content-Range': `${b}-${b + chunks[2]!.length - 1}` }, chunks[2]);
    assert.equal(done.status, 201, await done.text());
    const blob = await call(set.url, 'GET', `/v2/scale/behind/blobs/${sha256(data)}`);
    assert.ok(Buffer.from(await blob.arrayBuffer()).equals(data));
  });

  it('a replica killed with SIGKILL in the middle of pushes loses nothing: retried pushes complete and wharf fsck finds no error', async (t) => {
    const failures: string[] = [];
    const acknowledged: Pushed[] = [];
    let killed: Promise<void> | undefined;
    const pushes = Array.from({ length: 12 }, (_, i) => i);
    const worker = async (): Promise<void> => {
      for (let i = pushes.shift(); i !== undefined; i = pushes.shift()) {
        acknowledged.push(await pushUntilAcknowledged(set.url, `scale/kill${i % 3}`, `t${i}`, [randomBytes(256 * 1024), randomBytes(64 * 1024)], failures));
        // In the middle of the loop, with pushes of the other workers in flight, and one layer
        // surely half-way into replica 2.
        if (acknowledged.length === 4 && !killed) killed = killInTheMiddleOfALayer();
      }
    };
    const killInTheMiddleOfALayer = async (): Promise<void> => {
      const layer = randomBytes(8 * MiB);
      const target = set.replicas[2]!.url;
      const started = await call(target, 'POST', '/v2/scale/killed/blobs/uploads/', { 'Content-Length': '0' });
      assert.equal(started.status, 202, await started.text());
      const cut = http.request(`${target}${locationPath(started)}`, { method: 'PATCH', agent: false, headers: { Authorization: ADMIN_AUTH, 'Content-Type': 'application/octet-stream', 'Content-Range': `0-${layer.length - 1}`, 'Content-Length': layer.length } });
      const cutOff = new Promise<string>((resolve) => {
        cut.on('error', (err) => resolve(err.message));
        cut.on('response', (res) => resolve(`answered ${res.statusCode}`));
      });
      await new Promise<void>((resolve, reject) => cut.write(layer.subarray(0, 5 * MiB), (err) => (err ? reject(err) : resolve())));
      await set.kill(2);
      failures.push(`scale/killed: the layer's PATCH was cut off: ${await cutOff}`);
      cut.destroy();
      // The client pushes the image again, through the proxy.
      acknowledged.push(await pushUntilAcknowledged(set.url, 'scale/killed', 'retried', [layer], failures));
    };
    await Promise.all([worker(), worker(), worker()]);
    await killed;
    t.diagnostic(`pushes retried after the kill: ${failures.length}`);
    assert.equal(acknowledged.length, 13);
    assert.ok(failures.some((f) => f.includes('was cut off')), failures.join('\n'));
    for (const image of acknowledged) await assertPullable(set.url, image);
    await assertFsckClean(set, 'a replica was killed in the middle of pushes');
    await set.restart(2);
  });

  it('garbage collection on one replica while pushes of shared layers go through the proxy loses no acknowledged image', async (t) => {
    const shared = randomBytes(512 * 1024);
    // Re-uploaded by every push and referenced by no manifest: the collector removes it again and
    // again while other pushes commit it anew.
    const abandoned = randomBytes(128 * 1024);
    const failures: string[] = [];
    const acknowledged: Pushed[] = [];
    let pushing = true;
    let runs = 0;
    let blobsRemoved = 0;
    const collector = (async () => {
      while (pushing) {
        const res = await call(set.replicas[0]!.url, 'POST', '/api/v1/gc');
        const body = await res.json() as { blobsRemoved?: number; linksRemoved?: number };
        assert.ok(res.status === 200 || res.status === 409, `gc: ${res.status} ${JSON.stringify(body)}`);
        if (res.status === 200) {
          runs++;
          blobsRemoved += body.blobsRemoved ?? 0;
        }
      }
    })();
    // Pushes go on until the collector has removed blobs under them (the abandoned ones, older than
    // the grace period), and at least 12 were acknowledged.
    let next = 0;
    const worker = async (): Promise<void> => {
      while ((acknowledged.length < 12 || blobsRemoved === 0) && next < 200) {
        const i = next++;
        await uploadBlob(set.url, `scale/gc${i % 4}`, abandoned).catch((err: Error) => failures.push(err.message));
        acknowledged.push(await pushUntilAcknowledged(set.url, `scale/gc${i % 4}`, `t${i}`, [shared, randomBytes(64 * 1024)], failures));
      }
    };
    try {
      await Promise.all([worker(), worker()]);
    } finally {
      pushing = false;
      await collector;
    }
    t.diagnostic(`${acknowledged.length} images pushed, ${runs} collections removed ${blobsRemoved} blobs, ${failures.length} pushes retried`);
    assert.ok(runs > 0, 'the collector ran during the pushes');
    assert.ok(blobsRemoved > 0, `the collector removed blobs during the pushes (failures retried: ${failures.length})`);
    for (const image of acknowledged) await assertPullable(set.url, image);
    await assertFsckClean(set, 'garbage collection during pushes');
  });
});
