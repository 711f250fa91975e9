import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { engines, startTestServer, type TestServer } from '../support/server.js';
import { describeRun, runCommand, type CommandResult } from '../support/process.js';
import { MEDIA, OciLayout, multiArchIndex, multiLayerImage, readBlob, type BuiltImage } from '../support/oci-layout.js';

/**
 * podman against Wharf, with its own throwaway vfs storage (no daemon, no overlay, no host state):
 * an image loaded from an OCI layout is pushed, removed locally and pulled back.
 */

const probeDir = mkdtempSync(path.join(os.tmpdir(), 'wharf-podman-probe-'));
function storageFlags(dir: string): string[] {
  return ['--root', path.join(dir, 'root'), '--runroot', path.join(dir, 'run'), '--storage-driver', 'vfs', '--events-backend', 'none'];
}

/** Why podman cannot run here, or undefined when `podman info` works with throwaway vfs storage. */
async function podmanUnavailable(): Promise<string | undefined> {
  try {
    const result = await runCommand('podman', [...storageFlags(probeDir), 'info', '--format', '{{.Store.GraphDriverName}}'], { timeoutMs: 60_000 });
    if (result.code !== 0) return `podman info fails in this sandbox: ${(result.stderr || result.stdout).trim().split('\n').slice(-3).join(' | ')}`;
    if (result.stdout.trim() !== 'vfs') return `podman info reports storage driver "${result.stdout.trim()}", not vfs`;
    return undefined;
  } catch (err) {
    return `podman is not installed (Debian package "podman"): ${(err as Error).message}`;
  } finally {
    rmSync(probeDir, { recursive: true, force: true });
  }
}
const unavailable = await podmanUnavailable();
const podmanVersion = unavailable ? undefined : (await runCommand('podman', ['--version'])).stdout.trim();

function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

for (const engine of engines()) {
  describe(`${podmanVersion ?? 'podman'} against Wharf [${engine}]`, { skip: unavailable ?? false }, () => {
    let server: TestServer;
    let host: string;
    let work: string;
    let layout: OciLayout;
    let image: BuiltImage;
    let index: ReturnType<typeof multiArchIndex>;

    async function podman(...args: string[]): Promise<CommandResult> {
      return runCommand('podman', [...storageFlags(path.join(work, 'storage')), ...args], { timeoutMs: 90_000 });
    }
    async function podmanOk(...args: string[]): Promise<string> {
      const result = await podman(...args);
      assert.equal(result.code, 0, describeRun('podman', args, result));
      return result.stdout.trim();
    }
    async function localImageIds(): Promise<string[]> {
      return (await podmanOk('images', '--quiet', '--no-trunc')).split('\n').filter(Boolean);
    }

    before(async () => {
      server = await startTestServer(engine);
      host = new URL(server.url).host;
      // podman names an image pulled from `oci:<dir>` localhost/<dir>, which must be lowercase: no mkdtemp suffix.
      work = path.join(os.tmpdir(), `wharf-podman-${randomBytes(6).toString('hex')}`);
      mkdirSync(work);
      layout = new OciLayout(path.join(work, 'layout'));
      image = multiLayerImage(layout, 'app', 3);
      index = multiArchIndex(layout, 'multi');
    });
    after(async () => {
      if (work) {
        await podman('rmi', '--all', '--force').catch(() => undefined);
        rmSync(work, { recursive: true, force: true });
      }
      await server?.stop();
    });

    it('loads an image from an OCI layout, pushes it, removes it locally and pulls back the same image', async () => {
      const configHex = image.config!.digest.slice('sha256:'.length);
      await podmanOk('pull', `oci:${layout.dir}:${image.tag}`);
      assert.deepEqual(await localImageIds(), [image.config!.digest], 'the image ID is the config digest');

      const ref = `${host}/podman/app:v1`;
      await podmanOk('tag', configHex, ref);
      const digestFile = path.join(work, 'pushed-digest');
      await podmanOk('push', '--tls-verify=false', '--digestfile', digestFile, ref);
      const pushedDigest = readFileSync(digestFile, 'utf8').trim();
      assert.match(pushedDigest, /^sha256:[a-f0-9]{64}$/);

      // What Wharf holds: the manifest podman reported, the same config, layers whose uncompressed
      // content is exactly the image's diff_ids (podman recompresses layers from its local storage).
      const res = await fetch(`${server.url}/v2/podman/app/manifests/v1`, { headers: { Accept: `${MEDIA.manifest}, application/vnd.docker.distribution.manifest.v2+json` } });
      assert.equal(res.status, 200);
      const manifestBytes = Buffer.from(await res.arrayBuffer());
      assert.equal(res.headers.get('docker-content-digest'), pushedDigest);
      assert.equal(sha256(manifestBytes), pushedDigest);
      const manifest = JSON.parse(manifestBytes.toString()) as { config: { digest: string }; layers: Array<{ digest: string; mediaType: string }> };
      assert.equal(manifest.config.digest, image.config!.digest);
      const config = await fetch(`${server.url}/v2/podman/app/blobs/${manifest.config.digest}`);
      assert.ok(Buffer.from(await config.arrayBuffer()).equals(readBlob(layout.dir, image.config!.digest)), 'config blob unchanged');
      assert.equal(manifest.layers.length, image.layers!.length);
      for (const [i, layer] of manifest.layers.entries()) {
        const blob = await fetch(`${server.url}/v2/podman/app/blobs/${layer.digest}`);
        assert.equal(blob.status, 200);
        const bytes = Buffer.from(await blob.arrayBuffer());
        assert.equal(sha256(bytes), layer.digest);
        const uncompressed = /gzip/.test(layer.mediaType) ? gunzipSync(bytes) : bytes;
        assert.equal(sha256(uncompressed), image.layers![i]!.diffId, `layer ${i + 1} unpacks to the diff_id in the config`);
      }

      await podmanOk('rmi', '--all', '--force');
      assert.deepEqual(await localImageIds(), [], 'nothing left locally');

      await podmanOk('pull', '--tls-verify=false', ref);
      assert.deepEqual(await localImageIds(), [image.config!.digest], 'pulled back the same image ID (config digest)');
      const inspected = JSON.parse(await podmanOk('image', 'inspect', ref)) as Array<{ Id: string; Digest: string; RepoDigests: string[] }>;
      assert.equal(inspected[0]!.Id, configHex);
      assert.equal(inspected[0]!.Digest, pushedDigest, 'pulled manifest digest = pushed manifest digest');
      assert.ok(inspected[0]!.RepoDigests.includes(`${host}/podman/app@${pushedDigest}`), JSON.stringify(inspected[0]!.RepoDigests));

      // The files are the ones built into the layers, the last layer winning.
      const root = await podmanOk('image', 'mount', ref);
      try {
        const files = Object.assign({}, ...image.layers!.map((l) => l.files)) as Record<string, string | Buffer>;
        for (const [name, content] of Object.entries(files)) {
          assert.ok(readFileSync(path.join(root, name)).equals(Buffer.from(content)), `${name} has the content written into the layer`);
        }
      } finally {
        await podmanOk('image', 'unmount', ref);
      }
    });

    it('pulls by digest what it pushed', async () => {
      const ref = `${host}/podman/bydigest:v1`;
      await podmanOk('pull', `oci:${layout.dir}:${image.tag}`);
      await podmanOk('tag', image.config!.digest.slice(7), ref);
      const digestFile = path.join(work, 'bydigest');
      await podmanOk('push', '--tls-verify=false', '--digestfile', digestFile, ref);
      const digest = readFileSync(digestFile, 'utf8').trim();
      await podmanOk('rmi', '--all', '--force');
      await podmanOk('pull', '--tls-verify=false', `${host}/podman/bydigest@${digest}`);
      const inspected = JSON.parse(await podmanOk('image', 'inspect', `${host}/podman/bydigest@${digest}`)) as Array<{ Id: string; Digest: string }>;
      assert.equal(inspected[0]!.Digest, digest);
      assert.equal(`sha256:${inspected[0]!.Id}`, image.config!.digest);
    });

    it('pulls the linux/arm64 image out of a multi-arch index pushed to Wharf', async () => {
      const indexRef = `${host}/podman/multi:${index.tag}`;
      // podman 4.3 cannot push an index it loaded from a layout without `podman manifest`; skopeo puts it in place.
      const copy = await runCommand('skopeo', ['copy', '--all', '--preserve-digests', '--dest-tls-verify=false', `oci:${layout.dir}:${index.tag}`, `docker://${indexRef}`]);
      assert.equal(copy.code, 0, describeRun('skopeo', ['copy'], copy));
      await podmanOk('rmi', '--all', '--force');
      for (const child of index.children) {
        const args = ['pull', '--tls-verify=false', '--arch', child.platform.architecture, ...(child.platform.variant ? ['--variant', child.platform.variant] : []), indexRef];
        await podmanOk(...args);
        const inspected = JSON.parse(await podmanOk('image', 'inspect', indexRef)) as Array<{ Id: string; Architecture: string; Digest: string }>;
        assert.equal(`sha256:${inspected[0]!.Id}`, child.config.digest, `${child.platform.architecture} image chosen from the index`);
        assert.equal(inspected[0]!.Architecture, child.platform.architecture);
        assert.equal(inspected[0]!.Digest, index.root.digest, 'podman records the index digest it pulled');
      }
    });
  });
}
