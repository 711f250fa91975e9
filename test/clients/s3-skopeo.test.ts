import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase, startTestServer, type TestServer } from '../support/server.js';
import { describeRun, runCommand } from '../support/process.js';
import { OciLayout, blobPath, multiLayerImage, reachableDigests, resolveTag, type BuiltImage } from '../support/oci-layout.js';
import { emptyPrefix, s3StorageOverrides, s3TestSettings } from '../support/s3.js';

/**
 * skopeo against Wharf on the S3 driver (radosgw), with blob GETs redirected to the store and
 * without: two replicas sharing one PostgreSQL database and bucket prefix, the scale-out setup.
 */

const skopeoVersion = await runCommand('skopeo', ['--version']).then((r) => (r.code === 0 ? r.stdout.trim() : undefined), () => undefined);
const skip = skopeoVersion ? false : 'skopeo is not installed (Debian package "skopeo")';

describe(`${skopeoVersion ?? 'skopeo'} against Wharf on S3`, { skip }, () => {
  const settings = s3TestSettings();
  let database: { url: string; drop(): Promise<void> };
  let direct: TestServer;
  let redirecting: TestServer;
  let work: string;
  let layout: OciLayout;
  let image: BuiltImage;
  const redirects: string[] = [];

  before(async () => {
    database = await createTestDatabase();
    const replica = (redirect: boolean) => startTestServer('postgres', { storage: s3StorageOverrides({ ...settings, redirect }), database: { url: database.url } });
    direct = await replica(false);
    redirecting = await replica(true);
    redirecting.app.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      res.on('finish', () => { if (res.statusCode === 307) redirects.push(req.url ?? ''); });
    });
    work = mkdtempSync(path.join(os.tmpdir(), 'wharf-s3-skopeo-'));
    layout = new OciLayout(path.join(work, 'layout'));
    image = multiLayerImage(layout, 'multi', 3);
  });
  after(async () => {
    await redirecting?.stop();
    await direct?.stop();
    await database?.drop();
    if (work) rmSync(work, { recursive: true, force: true });
    await emptyPrefix(settings);
  });

  async function skopeoOk(...args: string[]): Promise<void> {
    const result = await runCommand('skopeo', args, { timeoutMs: 120_000 });
    assert.equal(result.code, 0, describeRun('skopeo', args, result));
  }

  async function pullFrom(server: TestServer, out: string): Promise<void> {
    const host = new URL(server.url).host;
    await skopeoOk('copy', '--preserve-digests', '--src-tls-verify=false', `docker://${host}/s3/multi:${image.tag}`, `oci:${out}:${image.tag}`);
    assert.equal(resolveTag(out, image.tag).digest, image.root.digest);
    for (const digest of reachableDigests(layout.dir, image.root.digest)) {
      assert.ok(readFileSync(blobPath(out, digest)).equals(readFileSync(blobPath(layout.dir, digest))), `${digest} is byte-identical`);
    }
  }

  it('pushes an image and pulls it back byte for byte, through Wharf and redirected to the store', async () => {
    await skopeoOk('copy', '--preserve-digests', '--dest-tls-verify=false', `oci:${layout.dir}:${image.tag}`, `docker://${new URL(direct.url).host}/s3/multi:${image.tag}`);
    await pullFrom(direct, path.join(work, 'out-direct'));
    assert.equal(redirects.length, 0);
    await pullFrom(redirecting, path.join(work, 'out-redirected'));
    // Config and three layers were fetched from the store.
    assert.ok(redirects.filter((url) => url.includes('/blobs/sha256:')).length >= 4, `redirected: ${redirects.join(', ')}`);
  });
});
