import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Validator } from '@seriousme/openapi-schema-validator';
import { engines, startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from '../support/server.js';
import { api, apiJson, basic, pushBlob, pushImage, send, setUpTenants, PASSWORDS, type Tenants } from '../support/iam.js';

const enc = encodeURIComponent;

interface ImageRow { repository: string; name: string; namespace: string; tag: string | null; digest: string; size: number; created: string; securityStatus: string; pullCount: number; lastPulled: string | null }

for (const engine of engines()) {
  describe(`management API: images, trash, quotas, retention [${engine}]`, () => {
    let server: TestServer;
    let t: Tenants;
    let admin: string;
    let reader: string;
    let writer: string;
    let bowner: string;

    before(async () => {
      server = await startTestServer(engine, { auth: { enabled: true } });
      t = await setUpTenants(server);
      admin = basic({ username: 'admin', password: TEST_ADMIN_PASSWORD });
      reader = basic({ username: 'reader', password: PASSWORDS.reader });
      writer = basic({ username: 'writer', password: PASSWORDS.writer });
      bowner = basic({ username: 'bowner', password: PASSWORDS.bowner });
    });
    after(async () => { await server.stop(); });

    it('lists one row per tag of one image, with the size of config and layers', async () => {
      const image = await pushImage(server.url, 'teama/listing', 'v1', writer);
      await apiJson(server.url, 'POST', '/images/tags', writer, { source: 'teama/listing:v1', target: 'teama/listing:v2' });
      const { images } = await apiJson<{ images: ImageRow[] }>(server.url, 'GET', `/images?repository=${enc('teama/listing')}`, reader);
      assert.deepEqual(images.map((i) => i.tag), ['v1', 'v2']);
      assert.ok(images.every((i) => i.digest === image.digest), 'one digest');
      const manifest = JSON.parse(image.manifest.toString()) as { config: { size: number }; layers: Array<{ size: number }> };
      assert.equal(images[0]!.size, manifest.config.size + manifest.layers[0]!.size);
      assert.equal(images[0]!.namespace, 'teama');
      assert.match(images[0]!.repository, /^127\.0\.0\.1:\d+\/teama\/listing$/);
      // The layer is random bytes: scanning it fails (or has not finished yet).
      assert.match(images[0]!.securityStatus, /^(Scanning|Scan failed)$/);
      assert.ok(!Number.isNaN(Date.parse(images[0]!.created)));
    });

    it('filters by namespace, tag and untagged, and pages with a cursor', async () => {
      const untagged = await pushImage(server.url, 'teama/filters', undefined, writer);
      await pushImage(server.url, 'teama/filters', 'keep', writer);
      const only = await apiJson<{ images: ImageRow[] }>(server.url, 'GET', `/images?repository=${enc('teama/filters')}&untagged=true`, reader);
      assert.deepEqual(only.images.map((i) => [i.digest, i.tag]), [[untagged.digest, null]]);
      const tagged = await apiJson<{ images: ImageRow[] }>(server.url, 'GET', '/images?tag=keep', reader);
      assert.deepEqual(tagged.images.map((i) => i.name), ['teama/filters']);
      const first = await apiJson<{ images: ImageRow[]; next?: string }>(server.url, 'GET', '/images?namespace=teama&limit=1', reader);
      assert.equal(first.images.length, 1);
      assert.ok(first.next);
      const second = await apiJson<{ images: ImageRow[] }>(server.url, 'GET', `/images?namespace=teama&limit=1&cursor=${first.next}`, reader);
      assert.notDeepEqual(second.images[0], first.images[0]);
      const other = await apiJson<{ images: ImageRow[] }>(server.url, 'GET', '/images', bowner);
      assert.ok(other.images.every((i) => i.namespace === 'teamb'), 'another tenant sees only its own images');
    });

    it('inspects config, layers, tags and history', async () => {
      const image = await pushImage(server.url, 'teama/inspect', 'latest', writer);
      const body = await apiJson<{ digest: string; tags: string[]; os: string; architecture: string; layers: Array<{ digest: string }>; config: unknown }>(server.url, 'GET', `/images/${enc('teama/inspect:latest')}`, reader);
      assert.equal(body.digest, image.digest);
      assert.deepEqual(body.tags, ['latest']);
      assert.equal(body.os, 'linux');
      assert.equal(body.architecture, 'amd64');
      assert.deepEqual(body.layers.map((l) => l.digest), [image.layer]);
      const byDigest = await apiJson<{ digest: string }>(server.url, 'GET', `/images/${enc(`teama/inspect@${image.digest}`)}`, reader);
      assert.equal(byDigest.digest, image.digest);
      const foreign = await api(server.url, 'GET', `/images/${enc('teama/inspect:latest')}`, bowner);
      const missing = await api(server.url, 'GET', `/images/${enc('teama/nothing-here:latest')}`, bowner);
      assert.equal(foreign.status, 404);
      assert.equal(missing.status, 404);
      assert.equal((await foreign.json() as { detail: string }).detail.replace('inspect', 'X'), (await missing.json() as { detail: string }).detail.replace('nothing-here', 'X'));
    });

    it('tags into another repository, which then serves the image over /v2/', async () => {
      const image = await pushImage(server.url, 'teama/src', 'v1', writer);
      const result = await apiJson<{ name: string; tag: string; digest: string }>(server.url, 'POST', '/images/tags', writer, { source: 'teama/src:v1', target: 'teama/copy:prod' });
      assert.deepEqual(result, { name: 'teama/copy', tag: 'prod', digest: image.digest });
      const pulled = await send(server.url, { method: 'GET', path: '/v2/teama/copy/manifests/prod', headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } }, reader);
      assert.equal(pulled.status, 200);
      assert.equal(pulled.headers.get('docker-content-digest'), image.digest);
      const layer = await send(server.url, { method: 'HEAD', path: `/v2/teama/copy/blobs/${image.layer}` }, reader);
      assert.equal(layer.status, 200);
    });

    it('removes by tag (untag) and by digest (to the trash), and restores', async () => {
      const image = await pushImage(server.url, 'teama/trashme', 'a', writer);
      await apiJson(server.url, 'POST', '/images/tags', writer, { source: 'teama/trashme:a', target: 'teama/trashme:b' });
      assert.equal((await api(server.url, 'DELETE', `/images/${enc('teama/trashme:b')}`, writer)).status, 204);
      assert.equal((await send(server.url, { method: 'GET', path: '/v2/teama/trashme/manifests/b' }, reader)).status, 404);
      assert.equal((await send(server.url, { method: 'GET', path: '/v2/teama/trashme/manifests/a' }, reader)).status, 200);

      assert.equal((await api(server.url, 'DELETE', `/images/${enc(`teama/trashme@${image.digest}`)}`, writer)).status, 204);
      assert.equal((await send(server.url, { method: 'GET', path: `/v2/teama/trashme/manifests/${image.digest}` }, reader)).status, 404);
      const trash = await apiJson<{ items: Array<{ name: string; digest: string; tags: string[]; expires: string }> }>(server.url, 'GET', '/trash', reader);
      const entry = trash.items.find((i) => i.digest === image.digest);
      assert.deepEqual(entry?.tags, ['a']);
      assert.ok(Date.parse(entry!.expires) > Date.now() + 29 * 24 * 3600 * 1000, 'kept about 30 days');
      const bTrash = await apiJson<{ items: unknown[] }>(server.url, 'GET', '/trash', bowner);
      assert.ok(!JSON.stringify(bTrash).includes(image.digest), "another tenant does not see A's trash");

      assert.equal((await api(server.url, 'POST', '/trash/restore', reader, { image: `teama/trashme@${image.digest}` })).status, 403, 'Reader may not restore');
      const restored = await apiJson<{ tags: string[] }>(server.url, 'POST', '/trash/restore', writer, { image: `teama/trashme@${image.digest}` }, 200);
      assert.deepEqual(restored.tags, ['a']);
      assert.equal((await send(server.url, { method: 'GET', path: '/v2/teama/trashme/manifests/a' }, reader)).status, 200);
      const after = await apiJson<{ items: Array<{ digest: string }> }>(server.url, 'GET', '/trash', reader);
      assert.ok(!after.items.some((i) => i.digest === image.digest));
    });

    it('a Reader of one repository sees only that repository in the trash and in the namespace\'s image count', async () => {
      const seen = await pushImage(server.url, 'teama/narrow-seen', 'v1', writer);
      const hidden = await pushImage(server.url, 'teama/narrow-hidden', 'v1', writer);
      const narrowCreds = { username: 'narrow-reader', password: 'narrow-password-0123' };
      const { id } = await server.iam.service.createUser(t.adminCaller, narrowCreds.username, narrowCreds.password);
      await server.iam.service.createPolicy(t.adminCaller, { subject: `user:${id}`, role: 'reader', namespace: 'teama', repository: 'narrow-seen' });
      const narrow = basic(narrowCreds);
      for (const image of [seen, hidden]) {
        const name = image === seen ? 'teama/narrow-seen' : 'teama/narrow-hidden';
        assert.equal((await api(server.url, 'DELETE', `/images/${enc(`${name}@${image.digest}`)}`, writer)).status, 204);
      }
      const trash = await apiJson<{ items: Array<{ name: string; digest: string; deletedBy: string }> }>(server.url, 'GET', '/trash', narrow);
      assert.deepEqual(trash.items.map((i) => [i.name, i.digest]), [['teama/narrow-seen', seen.digest]]);
      const full = await apiJson<{ items: Array<{ name: string }> }>(server.url, 'GET', '/trash', reader);
      assert.ok(full.items.some((i) => i.name === 'teama/narrow-hidden'), 'a Reader of the namespace sees all of it');

      const images = await pushImage(server.url, 'teama/narrow-seen', 'v2', writer);
      await pushImage(server.url, 'teama/narrow-hidden', 'v2', writer);
      const listed = await apiJson<{ images: Array<{ name: string; digest: string }> }>(server.url, 'GET', '/images?namespace=teama', narrow);
      assert.deepEqual(listed.images.map((i) => [i.name, i.digest]), [['teama/narrow-seen', images.digest]]);
      const { namespaces } = await apiJson<{ namespaces: Array<{ name: string; imageCount: number }> }>(server.url, 'GET', '/namespaces', narrow);
      assert.deepEqual(namespaces, [{ ...namespaces[0], name: 'teama', imageCount: 1 }], 'the count covers only the repository it may read');
      const whole = await apiJson<{ namespaces: Array<{ name: string; imageCount: number }> }>(server.url, 'GET', '/namespaces', reader);
      assert.ok(whole.namespaces.find((n) => n.name === 'teama')!.imageCount > 2, 'a Reader of the namespace counts all of it');
    });

    it('the trash of a removed namespace stays the account\'s: listed, and restored into the re-created namespace', async () => {
      await server.iam.service.addNamespace(t.adminCaller, 'gone-soon');
      const image = await pushImage(server.url, 'gone-soon/app', 'v1', admin);
      assert.equal((await api(server.url, 'DELETE', '/namespaces/gone-soon?force=true', admin)).status, 204);
      const trash = await apiJson<{ items: Array<{ name: string; digest: string; tags: string[]; namespaceState: string }> }>(server.url, 'GET', '/trash', admin);
      assert.deepEqual(trash.items.filter((i) => i.name === 'gone-soon/app').map((i) => [i.digest, i.tags, i.namespaceState]), [[image.digest, ['v1'], 'removed']]);
      const readerTrash = await apiJson<{ items: Array<{ name: string }> }>(server.url, 'GET', '/trash', reader);
      assert.ok(!readerTrash.items.some((i) => i.name === 'gone-soon/app'), 'only Managers see the trash of a removed namespace');
      assert.equal((await api(server.url, 'POST', '/trash/restore', writer, { image: `gone-soon/app@${image.digest}` })).status, 404, 'nor restore it');

      const restored = await apiJson<{ tags: string[] }>(server.url, 'POST', '/trash/restore', admin, { image: `gone-soon/app@${image.digest}` }, 200);
      assert.deepEqual(restored.tags, ['v1']);
      const { namespaces } = await apiJson<{ namespaces: Array<{ name: string }> }>(server.url, 'GET', '/namespaces', admin);
      assert.ok(namespaces.some((n) => n.name === 'gone-soon'), 'the namespace is back');
      // The image is whole again: manifest and blobs pull.
      const pulled = await send(server.url, { method: 'GET', path: '/v2/gone-soon/app/manifests/v1', headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } }, admin);
      assert.equal(pulled.status, 200);
      assert.equal((await send(server.url, { method: 'GET', path: `/v2/gone-soon/app/blobs/${image.layer}` }, admin)).status, 200);
    });

    it('restoring an image of a removed namespace whose name another account took says so', async () => {
      await server.iam.service.addNamespace(t.adminCaller, 'taken-later');
      const image = await pushImage(server.url, 'taken-later/app', 'v1', admin);
      assert.equal((await api(server.url, 'DELETE', '/namespaces/taken-later?force=true', admin)).status, 204);
      await server.iam.service.addNamespace(t.bownerCaller, 'taken-later');
      const trash = await apiJson<{ items: Array<{ name: string; namespaceState: string }> }>(server.url, 'GET', '/trash', admin);
      assert.deepEqual(trash.items.filter((i) => i.name === 'taken-later/app').map((i) => i.namespaceState), ['taken']);
      const refused = await api(server.url, 'POST', '/trash/restore', admin, { image: `taken-later/app@${image.digest}` });
      const body = await refused.json() as { detail: string };
      assert.equal(refused.status, 409);
      assert.match(body.detail, /another account now uses the name/);
      const bTrash = await apiJson<{ items: Array<{ name: string }> }>(server.url, 'GET', '/trash', bowner);
      assert.ok(!bTrash.items.some((i) => i.name === 'taken-later/app'), 'the new owner of the name does not get the old images');
      assert.equal((await send(server.url, { method: 'GET', path: `/v2/taken-later/app/manifests/${image.digest}` }, bowner)).status, 404);
    });

    it('a registry DELETE by digest also goes to the trash', async () => {
      const image = await pushImage(server.url, 'teama/v2delete', 'x', writer);
      const res = await send(server.url, { method: 'DELETE', path: `/v2/teama/v2delete/manifests/${image.digest}` }, writer);
      assert.equal(res.status, 202);
      const trash = await apiJson<{ items: Array<{ digest: string; tags: string[] }> }>(server.url, 'GET', '/trash', writer);
      assert.deepEqual(trash.items.find((i) => i.digest === image.digest)?.tags, ['x']);
    });

    it('refuses a push over the storage quota with DENIED naming quota, usage and limit', async () => {
      const before = await apiJson<{ storage: { used: number; limit: number | null } }>(server.url, 'GET', '/quota', reader);
      assert.ok(before.storage.used > 0);
      assert.equal((await api(server.url, 'PUT', '/quota', writer, { storageBytes: 1 })).status, 403, 'only Managers set quotas');
      const set = await apiJson<{ storage: { limit: number } }>(server.url, 'PUT', '/quota', admin, { storageBytes: before.storage.used + 1000 }, 200);
      assert.equal(set.storage.limit, before.storage.used + 1000);
      const big = randomBytes(5000);
      const digest = `sha256:${(await import('node:crypto')).createHash('sha256').update(big).digest('hex')}`;
      const res = await send(server.url, { method: 'POST', path: `/v2/teama/quota/blobs/uploads/?digest=${digest}`, headers: { 'Content-Type': 'application/octet-stream' }, body: big }, writer);
      assert.equal(res.status, 403);
      const body = await res.json() as { errors: Array<{ code: string; message: string }> };
      assert.equal(body.errors[0]!.code, 'DENIED');
      assert.match(body.errors[0]!.message, /storage quota exceeded/);
      assert.match(body.errors[0]!.message, /quota/);
      assert.equal((await send(server.url, { method: 'HEAD', path: `/v2/teama/quota/blobs/${digest}` }, writer)).status, 404, 'nothing stored');
      // A blob the account already stores costs nothing and is accepted.
      const small = Buffer.from('fits');
      await pushBlob(server.url, 'teama/quota', small, writer);
      await apiJson(server.url, 'PUT', '/quota', admin, { storageBytes: null }, 200);
      await pushBlob(server.url, 'teama/quota', big, writer);
    });

    it('refuses pulls over the monthly traffic quota', async () => {
      const image = await pushImage(server.url, 'teama/traffic', 'v1', writer);
      const view = await apiJson<{ pullTraffic: { used: number; month: string } }>(server.url, 'GET', '/quota', reader);
      assert.match(view.pullTraffic.month, /^\d{4}-\d{2}$/);
      await apiJson(server.url, 'PUT', '/quota', admin, { pullBytesPerMonth: view.pullTraffic.used + 10 }, 200);
      const res = await send(server.url, { method: 'GET', path: `/v2/teama/traffic/blobs/${image.layer}` }, reader);
      assert.equal(res.status, 403);
      assert.match(JSON.stringify(await res.json()), /pull traffic quota exceeded/);
      await apiJson(server.url, 'PUT', '/quota', admin, { pullBytesPerMonth: null }, 200);
      const ok = await send(server.url, { method: 'GET', path: `/v2/teama/traffic/blobs/${image.layer}` }, reader);
      assert.equal(ok.status, 200);
      const after = await apiJson<{ pullTraffic: { used: number } }>(server.url, 'GET', '/quota', reader);
      assert.ok(after.pullTraffic.used >= view.pullTraffic.used + 300, 'served bytes are counted');
    });

    it('retention keeps the newest N images per repository and can drop untagged ones, with a dry run', async () => {
      await apiJson(server.url, 'POST', '/namespaces', admin, { name: 'retain' });
      const old = await pushImage(server.url, 'retain/app', 'one', admin);
      await new Promise((r) => setTimeout(r, 15));
      const mid = await pushImage(server.url, 'retain/app', 'two', admin);
      await new Promise((r) => setTimeout(r, 15));
      const untagged = await pushImage(server.url, 'retain/app', undefined, admin);
      await new Promise((r) => setTimeout(r, 15));
      const newest = await pushImage(server.url, 'retain/app', 'three', admin);
      assert.equal((await api(server.url, 'PUT', '/namespaces/retain/retention', writer, { keepImages: 2 })).status, 404, 'not their namespace');
      assert.equal((await api(server.url, 'POST', '/namespaces/retain/retention/run', admin)).status, 409, 'no policy yet');
      // A preview of a policy before it is set: what its first run would remove, and nothing saved.
      const preview = await apiJson<{ keepImages: number; dryRun: boolean; removed: Array<{ digest: string }> }>(server.url, 'PUT', '/namespaces/retain/retention?dryRun=true', admin, { keepImages: 1 }, 200);
      assert.deepEqual([preview.keepImages, preview.dryRun], [1, true]);
      assert.deepEqual(preview.removed.map((r) => r.digest).sort(), [old.digest, mid.digest, untagged.digest].sort());
      assert.deepEqual(await apiJson(server.url, 'GET', '/namespaces/retain/retention', admin), { namespace: 'retain', keepImages: null, removeUntagged: false }, 'a preview sets nothing');
      assert.equal((await api(server.url, 'PUT', '/namespaces/retain/retention?dryRun=true', writer, { keepImages: 1 })).status, 404, 'no preview of another\'s namespace');
      // Untagged images that stay (no removeUntagged) are images like any other and count.
      await apiJson(server.url, 'PUT', '/namespaces/retain/retention', admin, { keepImages: 2, removeUntagged: false }, 200);
      const counted = await apiJson<{ removed: Array<{ digest: string }> }>(server.url, 'POST', '/namespaces/retain/retention/run?dryRun=true', admin, undefined, 200);
      assert.deepEqual(counted.removed.map((r) => r.digest).sort(), [old.digest, mid.digest].sort());
      // The untagged image is among the newest two; it must not use up the count of tagged images kept.
      const policy = await apiJson<{ keepImages: number; removeUntagged: boolean }>(server.url, 'PUT', '/namespaces/retain/retention', admin, { keepImages: 2, removeUntagged: true }, 200);
      assert.deepEqual([policy.keepImages, policy.removeUntagged], [2, true]);
      const dry = await apiJson<{ dryRun: boolean; removed: Array<{ digest: string }> }>(server.url, 'POST', '/namespaces/retain/retention/run?dryRun=true', admin, undefined, 200);
      assert.equal(dry.dryRun, true);
      assert.deepEqual(dry.removed.map((r) => r.digest).sort(), [old.digest, untagged.digest].sort());
      assert.equal((await send(server.url, { method: 'GET', path: `/v2/retain/app/manifests/${old.digest}` }, admin)).status, 200, 'dry run removes nothing');
      const run = await apiJson<{ removed: Array<{ digest: string }> }>(server.url, 'POST', '/namespaces/retain/retention/run', admin, undefined, 200);
      assert.equal(run.removed.length, 2);
      const left = await apiJson<{ images: ImageRow[] }>(server.url, 'GET', `/images?repository=${enc('retain/app')}`, admin);
      assert.deepEqual(left.images.map((i) => i.digest).sort(), [mid.digest, newest.digest].sort());
      const trash = await apiJson<{ items: Array<{ digest: string }> }>(server.url, 'GET', '/trash', admin);
      assert.ok(trash.items.some((i) => i.digest === old.digest), 'removed images are in the trash');
    });

    it('prune-untagged removes untagged images only (Writer on the namespace)', async () => {
      const tagged = await pushImage(server.url, 'teama/prune', 'stay', writer);
      const loose = await pushImage(server.url, 'teama/prune', undefined, writer);
      assert.equal((await api(server.url, 'POST', '/namespaces/teama/prune-untagged?dryRun=true', reader)).status, 403);
      const dry = await apiJson<{ removed: Array<{ name: string; digest: string }> }>(server.url, 'POST', '/namespaces/teama/prune-untagged?dryRun=true', writer, undefined, 200);
      assert.ok(dry.removed.some((r) => r.digest === loose.digest));
      assert.ok(!dry.removed.some((r) => r.digest === tagged.digest));
      await apiJson(server.url, 'POST', '/namespaces/teama/prune-untagged', writer, undefined, 200);
      assert.equal((await send(server.url, { method: 'GET', path: `/v2/teama/prune/manifests/${loose.digest}` }, writer)).status, 404);
      assert.equal((await send(server.url, { method: 'GET', path: '/v2/teama/prune/manifests/stay' }, writer)).status, 200);
    });

    it('counts pulls and the last pull time', async () => {
      const image = await pushImage(server.url, 'teama/pulled', 'v1', writer);
      for (let i = 0; i < 3; i++) {
        const res = await send(server.url, { method: 'GET', path: '/v2/teama/pulled/manifests/v1' }, reader);
        assert.equal(res.status, 200);
        await res.arrayBuffer();
      }
      await send(server.url, { method: 'HEAD', path: '/v2/teama/pulled/manifests/v1' }, reader);
      await server.pullStats.flush();
      const { images } = await apiJson<{ images: ImageRow[] }>(server.url, 'GET', `/images?repository=${enc('teama/pulled')}`, reader);
      assert.equal(images[0]!.digest, image.digest);
      assert.equal(images[0]!.pullCount, 3, 'GETs count, HEADs do not');
      assert.ok(images[0]!.lastPulled);
    });

    it('answers bad input and denials as problem+json', async () => {
      const bad = await api(server.url, 'POST', '/images/tags', writer, { source: 'teama/x:v1' });
      assert.equal(bad.status, 400);
      assert.equal(bad.headers.get('content-type'), 'application/problem+json; charset=utf-8');
      const problem = await bad.json() as { type: string; title: string; status: number; detail: string };
      assert.equal(problem.type, '/api/v1/problems/bad-request');
      assert.equal(problem.status, 400);
      assert.equal((await api(server.url, 'GET', `/images/${enc('Bad Name:x')}`, reader)).status, 400);
      assert.equal((await api(server.url, 'GET', '/images')).status, 401);
      assert.equal((await api(server.url, 'DELETE', `/images/${enc('teama/listing:v1')}`, reader)).status, 403);
      assert.equal((await api(server.url, 'DELETE', `/images/${enc('teama/listing:v1')}`, bowner)).status, 404);
      assert.equal((await api(server.url, 'PUT', '/quota', admin, {})).status, 400);
    });

    it('serves an OpenAPI 3 document that validates and lists the routes', async () => {
      const res = await fetch(`${server.url}/api/v1/openapi.json`);
      assert.equal(res.status, 200);
      const doc = await res.json() as { openapi: string; paths: Record<string, unknown> };
      const result = await new Validator().validate(doc as Parameters<Validator["validate"]>[0]);
      assert.equal(result.valid, true, JSON.stringify(result.errors));
      for (const path of ['/api/v1/images', '/api/v1/images/{reference}', '/api/v1/images/tags', '/api/v1/trash', '/api/v1/trash/restore', '/api/v1/quota', '/api/v1/namespaces/{name}/retention', '/api/v1/namespaces/{name}/prune-untagged', '/api/v1/iam/policies', '/api/v1/namespaces']) {
        assert.ok(path in doc.paths, `${path} documented`);
      }
    });
  });
}
