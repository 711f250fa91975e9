import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestServer, type TestServer } from '../support/server.js';
import { describeRun, runCommand } from '../support/process.js';
import { OciLayout, multiLayerImage, type BuiltImage } from '../support/oci-layout.js';
import { fillDisk, mountSmallDisk, smallDiskUnavailable, unmountSmallDisk } from '../support/small-disk.js';

/**
 * What a real client tells its user when the registry's disk is full: skopeo (containers/image)
 * prints the status line of a 5xx answer, so the status itself must say it (507 Insufficient
 * Storage, not 500 Internal Server Error). One engine: the answer does not depend on it.
 */

const skopeoVersion = await runCommand('skopeo', ['--version']).then((r) => (r.code === 0 ? r.stdout.trim() : undefined), () => undefined);
const skip = !skopeoVersion ? 'skopeo is not installed (Debian package "skopeo")' : smallDiskUnavailable;

describe(`${skopeoVersion ?? 'skopeo'} pushing to a registry whose disk is full`, { skip }, () => {
  let dataDir: string | undefined;
  let server: TestServer | undefined;
  let work: string;
  let image: BuiltImage;
  let layout: OciLayout;

  before(async () => {
    dataDir = mountSmallDisk(8);
    server = await startTestServer('sqlite', { storage: { dataDir } });
    work = mkdtempSync(path.join(os.tmpdir(), 'wharf-skopeo-full-'));
    layout = new OciLayout(path.join(work, 'layout'));
    // One of its layers is 3 MiB of random bytes: it cannot fit in the 1 MiB left below.
    image = multiLayerImage(layout, 'big');
  });

  after(async () => {
    try {
      await server?.stop();
    } finally {
      if (dataDir) unmountSmallDisk(dataDir);
      if (work) rmSync(work, { recursive: true, force: true });
    }
  });

  it('says "507 Insufficient Storage", and the same copy succeeds once space is freed', async () => {
    const host = new URL(server!.url).host;
    const args = ['copy', '--retry-times=0', '--dest-tls-verify=false', `oci:${layout.dir}:${image.tag}`, `docker://${host}/full/app:${image.tag}`];
    const filler = path.join(dataDir!, 'filler');
    fillDisk(filler, 1024 * 1024);
    try {
      const refused = await runCommand('skopeo', args, { timeoutMs: 120_000 });
      assert.notEqual(refused.code, 0, describeRun('skopeo', args, refused));
      assert.match(refused.stderr, /507 Insufficient Storage/, describeRun('skopeo', args, refused));
    } finally {
      rmSync(filler, { force: true });
    }
    const copied = await runCommand('skopeo', args, { timeoutMs: 120_000 });
    assert.equal(copied.code, 0, describeRun('skopeo', args, copied));
    const tags = await fetch(`${server!.url}/v2/full/app/tags/list`);
    assert.deepEqual(((await tags.json()) as { tags: string[] }).tags, [image.tag]);
  });
});
