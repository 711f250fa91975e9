import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { engines, startTestServer, type TestServer } from '../support/server.js';
import { describeRun, runCommand, type CommandResult } from '../support/process.js';
import {
  ARTIFACT_TYPE, MEDIA, OciLayout, artifact, blobPath, multiArchIndex, multiLayerImage, reachableDigests, readBlob, resolveTag, singleLayerImage,
  type BuiltImage,
} from '../support/oci-layout.js';

/**
 * skopeo (containers/image) against Wharf: images built here as OCI layouts are copied in with
 * `skopeo copy oci:… docker://…` and back out to fresh layouts, and must come back byte for byte.
 */

const skopeoVersion = await runCommand('skopeo', ['--version']).then((r) => (r.code === 0 ? r.stdout.trim() : undefined), () => undefined);
const skip = skopeoVersion ? false : 'skopeo is not installed (Debian package "skopeo")';

async function skopeo(...args: string[]): Promise<CommandResult> {
  return runCommand('skopeo', args, { timeoutMs: 60_000 });
}

async function skopeoOk(...args: string[]): Promise<CommandResult> {
  const result = await skopeo(...args);
  assert.equal(result.code, 0, describeRun('skopeo', args, result));
  return result;
}

function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Whether a layout blob is an image manifest or index (fetched from /manifests/ rather than /blobs/). */
function isManifestBlob(data: Buffer): boolean {
  try {
    const mediaType = (JSON.parse(data.toString('utf8')) as { mediaType?: unknown }).mediaType;
    return mediaType === MEDIA.manifest || mediaType === MEDIA.index;
  } catch {
    return false;
  }
}

interface SeenRequest { method: string; url: string; status: number }

for (const engine of engines()) {
  describe(`${skopeoVersion ?? 'skopeo'} against Wharf [${engine}]`, { skip }, () => {
    let server: TestServer;
    let host: string;
    let work: string;
    let layout: OciLayout;
    let single: BuiltImage;
    let multi: BuiltImage;
    let index: ReturnType<typeof multiArchIndex>;
    let art: ReturnType<typeof artifact>;
    const seen: SeenRequest[] = [];
    let outs = 0;
    const outDir = (): string => path.join(work, `out-${++outs}`);

    before(async () => {
      server = await startTestServer(engine);
      host = new URL(server.url).host;
      // Watch the raw HTTP traffic (next to fastify's own listener) to see what the client did.
      server.app.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
        res.on('finish', () => seen.push({ method: req.method ?? '', url: req.url ?? '', status: res.statusCode }));
      });
      work = mkdtempSync(path.join(os.tmpdir(), 'wharf-skopeo-'));
      layout = new OciLayout(path.join(work, 'layout'));
      single = singleLayerImage(layout, 'single');
      multi = multiLayerImage(layout, 'multi', 3);
      index = multiArchIndex(layout, 'index');
      art = artifact(layout, 'artifact');
    });
    after(async () => {
      await server?.stop();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    /** Every blob (manifests included) the tag reaches in Wharf is the layout's blob, byte for byte. */
    async function assertServedExactly(repo: string, image: BuiltImage): Promise<void> {
      const res = await fetch(`${server.url}/v2/${repo}/manifests/${image.tag}`, { headers: { Accept: `${MEDIA.manifest}, ${MEDIA.index}` } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('docker-content-digest'), image.root.digest, 'the tag names the layout\'s manifest digest');
      assert.equal(res.headers.get('content-type'), image.root.mediaType);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), readBlob(layout.dir, image.root.digest), 'manifest bytes unchanged');
      for (const digest of image.digests) {
        const expected = readBlob(layout.dir, digest);
        const isManifest = isManifestBlob(expected);
        const blob = await fetch(`${server.url}/v2/${repo}/${isManifest ? 'manifests' : 'blobs'}/${digest}`, { headers: { Accept: `${MEDIA.manifest}, ${MEDIA.index}` } });
        assert.equal(blob.status, 200, `${repo} serves ${digest}`);
        const body = Buffer.from(await blob.arrayBuffer());
        assert.equal(sha256(body), digest);
        assert.ok(body.equals(expected), `${digest} served as written`);
      }
    }

    /** Copies `image` from the layout into `repo`, checks Wharf holds it exactly, and copies it out again. */
    async function roundTrip(image: BuiltImage, repo: string, all = false): Promise<string> {
      const flags = ['--preserve-digests', ...(all ? ['--all'] : [])];
      await skopeoOk('copy', ...flags, '--dest-tls-verify=false', `oci:${layout.dir}:${image.tag}`, `docker://${host}/${repo}:${image.tag}`);
      await assertServedExactly(repo, image);

      const out = outDir();
      await skopeoOk('copy', ...flags, '--src-tls-verify=false', `docker://${host}/${repo}:${image.tag}`, `oci:${out}:${image.tag}`);
      const pulled = resolveTag(out, image.tag);
      assert.equal(pulled.digest, image.root.digest, 'pulled tag names the same manifest digest');
      assert.equal(pulled.mediaType, image.root.mediaType);
      const original = reachableDigests(layout.dir, image.root.digest);
      assert.deepEqual(reachableDigests(out, image.root.digest), original, 'same graph of blobs');
      assert.deepEqual([...original].sort(), [...image.digests].sort());
      for (const digest of original) {
        assert.ok(readFileSync(blobPath(out, digest)).equals(readFileSync(blobPath(layout.dir, digest))), `${digest} is byte-identical after the round trip`);
      }
      return out;
    }

    it('copies a single-layer image in and out byte for byte (manifest, config and layer digests preserved)', async () => {
      await roundTrip(single, 'skopeo/single');
    });

    it('copies a three-layer image in and out byte for byte', async () => {
      await roundTrip(multi, 'skopeo/multi');
      const manifest = JSON.parse(readBlob(layout.dir, multi.root.digest).toString()) as { layers: unknown[] };
      assert.equal(manifest.layers.length, 3);
    });

    it('copies a linux/amd64 + linux/arm64 index with --all: the index and both platform images round-trip', async () => {
      await roundTrip(index, 'skopeo/multiarch', true);
      for (const child of index.children) {
        const res = await fetch(`${server.url}/v2/skopeo/multiarch/manifests/${child.manifest.digest}`, { method: 'HEAD', headers: { Accept: MEDIA.manifest } });
        assert.equal(res.status, 200, `${child.platform.architecture} manifest is in the repository`);
      }
    });

    it('copies an OCI artifact (artifactType, empty config, non-image layer) in and out byte for byte', async () => {
      // skopeo 1.9 copies it unchanged as long as no manifest conversion is asked for.
      await roundTrip(art, 'skopeo/artifact');
      const raw = await skopeoOk('inspect', '--raw', '--tls-verify=false', `docker://${host}/skopeo/artifact:${art.tag}`);
      const manifest = JSON.parse(raw.stdout) as { artifactType?: string; config: { mediaType: string; size: number }; layers: Array<{ mediaType: string }> };
      assert.equal(manifest.artifactType, ARTIFACT_TYPE);
      assert.equal(manifest.config.mediaType, MEDIA.empty);
      assert.equal(manifest.config.size, 2);
      assert.equal(manifest.layers[0]!.mediaType, art.layer.mediaType);
    });

    it('skopeo inspect (not --raw) of the artifact is refused by skopeo 1.9 itself, while --raw works', async () => {
      const ref = `docker://${host}/skopeo/artifact:${art.tag}`;
      const existing = await fetch(`${server.url}/v2/skopeo/artifact/manifests/${art.tag}`, { method: 'HEAD', headers: { Accept: MEDIA.manifest } });
      if (existing.status !== 200) await skopeoOk('copy', '--preserve-digests', '--dest-tls-verify=false', `oci:${layout.dir}:${art.tag}`, `${ref}`);
      const result = await skopeo('inspect', '--tls-verify=false', ref);
      // containers/image parses the config as an image config and gives up on non-image config types.
      assert.notEqual(result.code, 0, 'skopeo inspect of an artifact fails on the client side');
      assert.match(result.stderr, /unsupported image-specific operation on artifact with type \\?"application\/vnd\.oci\.empty\.v1\+json\\?"/);
      const raw = await skopeoOk('inspect', '--raw', '--tls-verify=false', ref);
      assert.ok(Buffer.from(raw.stdout).equals(art.manifestBytes), 'inspect --raw prints the manifest bytes as pushed');
    });

    it('skopeo inspect --raw prints the stored bytes and inspect reports digest, tags, platform and layers', async () => {
      await skopeoOk('copy', '--preserve-digests', '--dest-tls-verify=false', `oci:${layout.dir}:${multi.tag}`, `docker://${host}/skopeo/inspect:${multi.tag}`);
      const raw = await skopeoOk('inspect', '--raw', '--tls-verify=false', `docker://${host}/skopeo/inspect:${multi.tag}`);
      assert.equal(sha256(Buffer.from(raw.stdout)), multi.root.digest);

      const rawConfig = await skopeoOk('inspect', '--raw', '--config', '--tls-verify=false', `docker://${host}/skopeo/inspect:${multi.tag}`);
      assert.equal(sha256(Buffer.from(rawConfig.stdout)), multi.config!.digest, 'inspect --config --raw prints the config blob');

      const info = JSON.parse((await skopeoOk('inspect', '--tls-verify=false', `docker://${host}/skopeo/inspect:${multi.tag}`)).stdout) as {
        Digest: string; RepoTags: string[]; Architecture: string; Os: string; Layers: string[]; Labels: Record<string, string>;
      };
      assert.equal(info.Digest, multi.root.digest);
      assert.deepEqual(info.RepoTags, [multi.tag]);
      assert.equal(info.Architecture, 'amd64');
      assert.equal(info.Os, 'linux');
      assert.deepEqual(info.Layers, multi.layers!.map((l) => l.descriptor.digest));
      const config = JSON.parse(readBlob(layout.dir, multi.config!.digest).toString()) as { config: { Labels: Record<string, string> } };
      assert.deepEqual(info.Labels, config.config.Labels);
    });

    it('skopeo inspect of the index picks the linux/amd64 image and reports the index digest', async () => {
      await skopeoOk('copy', '--all', '--preserve-digests', '--dest-tls-verify=false', `oci:${layout.dir}:${index.tag}`, `docker://${host}/skopeo/inspect-index:${index.tag}`);
      const info = JSON.parse((await skopeoOk('inspect', '--tls-verify=false', `docker://${host}/skopeo/inspect-index:${index.tag}`)).stdout) as { Digest: string; Architecture: string; Layers: string[] };
      assert.equal(info.Digest, index.root.digest);
      assert.equal(info.Architecture, 'amd64');
      const amd64 = index.children.find((c) => c.platform.architecture === 'amd64')!;
      const amd64Manifest = JSON.parse(readBlob(layout.dir, amd64.manifest.digest).toString()) as { layers: Array<{ digest: string }> };
      assert.deepEqual(info.Layers, amd64Manifest.layers.map((l) => l.digest));

      const arm = JSON.parse((await skopeoOk('inspect', '--override-arch', 'arm64', '--override-variant', 'v8', '--tls-verify=false', `docker://${host}/skopeo/inspect-index:${index.tag}`)).stdout) as { Architecture: string };
      assert.equal(arm.Architecture, 'arm64');
    });

    it('skopeo list-tags lists every tag of a repository, and fails for a repository that does not exist', async () => {
      const repo = 'skopeo/tags';
      const tags = ['v1', 'v1.1', 'latest', `t-${randomBytes(3).toString('hex')}`];
      for (const tag of tags) {
        await skopeoOk('copy', '--preserve-digests', '--dest-tls-verify=false', `oci:${layout.dir}:${single.tag}`, `docker://${host}/${repo}:${tag}`);
      }
      const listed = JSON.parse((await skopeoOk('list-tags', '--tls-verify=false', `docker://${host}/${repo}`)).stdout) as { Repository: string; Tags: string[] };
      assert.equal(listed.Repository, `${host}/${repo}`);
      assert.deepEqual([...listed.Tags].sort(), [...tags].sort());

      const missing = await skopeo('list-tags', '--tls-verify=false', `docker://${host}/skopeo/never-pushed`);
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /404/);
    });

    it('skopeo delete removes the manifest by digest with all its tags, leaving other repositories alone', async () => {
      await skopeoOk('copy', '--preserve-digests', '--dest-tls-verify=false', `oci:${layout.dir}:${single.tag}`, `docker://${host}/skopeo/keep:${single.tag}`);
      for (const tag of ['a', 'b']) {
        await skopeoOk('copy', '--preserve-digests', '--dest-tls-verify=false', `oci:${layout.dir}:${single.tag}`, `docker://${host}/skopeo/delete:${tag}`);
      }
      const before = seen.length;
      await skopeoOk('delete', '--tls-verify=false', `docker://${host}/skopeo/delete:a`);
      const deletes = seen.slice(before).filter((r) => r.method === 'DELETE');
      assert.deepEqual(deletes, [{ method: 'DELETE', url: `/v2/skopeo/delete/manifests/${single.root.digest}`, status: 202 }], 'skopeo deletes by digest');

      for (const tag of ['a', 'b']) {
        const res = await fetch(`${server.url}/v2/skopeo/delete/manifests/${tag}`, { method: 'HEAD', headers: { Accept: MEDIA.manifest } });
        assert.equal(res.status, 404, `tag ${tag} went with the manifest`);
      }
      const listed = JSON.parse((await skopeoOk('list-tags', '--tls-verify=false', `docker://${host}/skopeo/delete`)).stdout) as { Tags: string[] };
      assert.deepEqual(listed.Tags, []);
      const inspect = await skopeo('inspect', '--raw', '--tls-verify=false', `docker://${host}/skopeo/delete:b`);
      assert.notEqual(inspect.code, 0);
      assert.match(inspect.stderr, /manifest unknown/);
      const again = await skopeo('delete', '--tls-verify=false', `docker://${host}/skopeo/delete:a`);
      assert.notEqual(again.code, 0, 'deleting it twice fails');

      const kept = await skopeoOk('inspect', '--raw', '--tls-verify=false', `docker://${host}/skopeo/keep:${single.tag}`);
      assert.equal(sha256(Buffer.from(kept.stdout)), single.root.digest, 'the same manifest in another repository is untouched');
    });

    it('copies between two Wharf repositories by mounting the layers instead of uploading them', async () => {
      await skopeoOk('copy', '--preserve-digests', '--dest-tls-verify=false', `oci:${layout.dir}:${multi.tag}`, `docker://${host}/skopeo/mount-src:${multi.tag}`);
      const before = seen.length;
      await skopeoOk('copy', '--preserve-digests', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${host}/skopeo/mount-src:${multi.tag}`, `docker://${host}/other/mount-dst:${multi.tag}`);
      const traffic = seen.slice(before).filter((r) => r.url.startsWith('/v2/other/mount-dst/'));
      const mounts = traffic.filter((r) => r.method === 'POST' && r.url.includes('mount='));
      const layerDigests = multi.layers!.map((l) => l.descriptor.digest);
      for (const digest of layerDigests) {
        const mount = mounts.find((r) => new URL(r.url, server.url).searchParams.get('mount') === digest);
        assert.ok(mount, `layer ${digest} mounted; traffic: ${JSON.stringify(traffic, null, 1)}`);
        assert.equal(new URL(mount.url, server.url).searchParams.get('from'), 'skopeo/mount-src');
        assert.equal(mount.status, 201);
      }
      const patched = traffic.filter((r) => r.method === 'PATCH').length;
      assert.ok(patched <= 1, `only the config may be uploaded (skopeo does not mount configs), saw ${patched} PATCHes`);
      await assertServedExactly('other/mount-dst', multi);
    });
  });
}
