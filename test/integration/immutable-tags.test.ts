import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { engines, startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from '../support/server.js';
import { api, apiJson, basic, pushImage, send, setUpTenants, PASSWORDS, OCI_MANIFEST } from '../support/iam.js';
import { OCI_INDEX } from '../support/http.js';

const enc = encodeURIComponent;

interface OciErrors { errors: Array<{ code: string; message: string; detail: { tag: string; rule: { repository: string; tags: string } } }> }
interface Outcome { removed: Array<{ digest: string }>; keptImmutable: Array<{ digest: string; reason: string }> }

for (const engine of engines()) {
  describe(`immutable tags [${engine}]`, () => {
    let server: TestServer;
    let admin: string;
    let writer: string;
    let reader: string;

    before(async () => {
      server = await startTestServer(engine, { auth: { enabled: true } });
      await setUpTenants(server);
      admin = basic({ username: 'admin', password: TEST_ADMIN_PASSWORD });
      writer = basic({ username: 'writer', password: PASSWORDS.writer });
      reader = basic({ username: 'reader', password: PASSWORDS.reader });
    });
    after(async () => { await server.stop(); });

    it('a namespace Manager sets the rules; others cannot, bad patterns are refused, changes are audited', async () => {
      assert.deepEqual(await apiJson(server.url, 'GET', '/namespaces/teama/immutability', reader), { namespace: 'teama', rules: [] });
      const refused = await api(server.url, 'PUT', '/namespaces/teama/immutability', writer, { rules: [{ tags: 'v*' }] });
      assert.equal(refused.status, 403, 'a Writer cannot change the rules');
      const bad = await api(server.url, 'PUT', '/namespaces/teama/immutability', admin, { rules: [{ tags: 'v{1' }] });
      assert.equal(bad.status, 400);
      assert.match(((await bad.json()) as { detail: string }).detail, /v\{1.*brace/);
      const set = await apiJson<{ rules: unknown }>(server.url, 'PUT', '/namespaces/teama/immutability', admin, { rules: [{ tags: 'v*' }, { repository: 'frozen*', tags: '**' }] });
      assert.deepEqual(set.rules, [{ repository: '**', tags: 'v*' }, { repository: 'frozen*', tags: '**' }]);
      assert.deepEqual(await apiJson(server.url, 'GET', '/namespaces/teama/immutability', reader), { namespace: 'teama', ...set });
      const { events } = await apiJson<{ events: Array<{ action: string; resource: string }> }>(server.url, 'GET', '/audit', admin);
      assert.ok(events.some((e) => e.action === 'immutability.set' && e.resource === 'namespace teama'), 'the change is in the audit log');
    });

    it('/v2/: an immutable tag is not moved nor deleted, nor is its image; the same digest re-pushes; other tags move freely', async () => {
      await apiJson(server.url, 'PUT', '/namespaces/teama/immutability', admin, { rules: [{ tags: 'v*' }, { repository: 'frozen*', tags: '**' }] });
      const first = await pushImage(server.url, 'teama/imm', 'v1', writer);
      const again = await send(server.url, { method: 'PUT', path: '/v2/teama/imm/manifests/v1', headers: { 'Content-Type': OCI_MANIFEST }, body: first.manifest }, writer);
      assert.equal(again.status, 201, `re-pushing the same digest: ${await again.text()}`);

      const other = await pushImage(server.url, 'teama/imm', undefined, writer);
      const move = await send(server.url, { method: 'PUT', path: '/v2/teama/imm/manifests/v1', headers: { 'Content-Type': OCI_MANIFEST }, body: other.manifest }, writer);
      assert.equal(move.status, 409);
      const body = await move.json() as OciErrors;
      assert.equal(body.errors[0]!.code, 'DENIED');
      assert.match(body.errors[0]!.message, /tag v1 of teama\/imm is immutable.*push the image under a new tag/);
      assert.match(body.errors[0]!.message, /tags 'v\*'/);
      assert.deepEqual(body.errors[0]!.detail.rule, { repository: '**', tags: 'v*' });
      const pulled = await send(server.url, { method: 'HEAD', path: '/v2/teama/imm/manifests/v1' }, writer);
      assert.equal(pulled.headers.get('docker-content-digest'), first.digest, 'the tag still points at the first image');

      const delTag = await send(server.url, { method: 'DELETE', path: '/v2/teama/imm/manifests/v1' }, writer);
      assert.equal(delTag.status, 409);
      assert.match((await delTag.json() as OciErrors).errors[0]!.message, /tag v1 .* cannot be deleted/);
      const delImage = await send(server.url, { method: 'DELETE', path: `/v2/teama/imm/manifests/${first.digest}` }, writer);
      assert.equal(delImage.status, 409);
      assert.match((await delImage.json() as OciErrors).errors[0]!.message, /is held by immutable tag v1/);

      // A mutable tag moves, and a repository rule freezes every tag of its repositories.
      await pushImage(server.url, 'teama/imm', 'latest', writer);
      const latest = await send(server.url, { method: 'PUT', path: '/v2/teama/imm/manifests/latest', headers: { 'Content-Type': OCI_MANIFEST }, body: other.manifest }, writer);
      assert.equal(latest.status, 201);
      await pushImage(server.url, 'teama/frozen-app', 'latest', writer);
      const frozen = await pushImage(server.url, 'teama/frozen-app', undefined, writer);
      const frozenMove = await send(server.url, { method: 'PUT', path: '/v2/teama/frozen-app/manifests/latest', headers: { 'Content-Type': OCI_MANIFEST }, body: frozen.manifest }, writer);
      assert.equal(frozenMove.status, 409);

      // Once the rule is gone, the tag is an ordinary one again.
      await apiJson(server.url, 'PUT', '/namespaces/teama/immutability', admin, { rules: [] });
      const freed = await send(server.url, { method: 'PUT', path: '/v2/teama/imm/manifests/v1', headers: { 'Content-Type': OCI_MANIFEST }, body: other.manifest }, writer);
      assert.equal(freed.status, 201);
    });

    it('a platform of an index with an immutable tag is not deleted by digest', async () => {
      await apiJson(server.url, 'PUT', '/namespaces/teama/immutability', admin, { rules: [{ tags: 'v*' }] });
      const amd = await pushImage(server.url, 'teama/multi', undefined, writer);
      const arm = await pushImage(server.url, 'teama/multi', undefined, writer);
      const index = Buffer.from(JSON.stringify({
        schemaVersion: 2, mediaType: OCI_INDEX,
        manifests: [
          { mediaType: OCI_MANIFEST, digest: amd.digest, size: amd.manifest.length, platform: { architecture: 'amd64', os: 'linux' } },
          { mediaType: OCI_MANIFEST, digest: arm.digest, size: arm.manifest.length, platform: { architecture: 'arm64', os: 'linux' } },
        ],
      }));
      const put = await send(server.url, { method: 'PUT', path: '/v2/teama/multi/manifests/v1', headers: { 'Content-Type': OCI_INDEX }, body: index }, writer);
      assert.equal(put.status, 201, await put.text());
      const del = await send(server.url, { method: 'DELETE', path: `/v2/teama/multi/manifests/${arm.digest}` }, writer);
      assert.equal(del.status, 409);
      assert.match((await del.json() as OciErrors).errors[0]!.message, new RegExp(`image teama/multi@${arm.digest} is held by immutable tag v1`));
      assert.equal((await send(server.url, { method: 'HEAD', path: `/v2/teama/multi/manifests/${arm.digest}` }, writer)).status, 200);
      await apiJson(server.url, 'PUT', '/namespaces/teama/immutability', admin, { rules: [] });
    });

    it('/api/: tagging onto and removing an immutable tag answer problem+json 409', async () => {
      await apiJson(server.url, 'PUT', '/namespaces/teama/immutability', admin, { rules: [{ repository: 'api*', tags: 'release-*' }] });
      const released = await pushImage(server.url, 'teama/api-imm', 'release-1', writer);
      await pushImage(server.url, 'teama/api-imm', 'candidate', writer);
      const retag = await api(server.url, 'POST', '/images/tags', writer, { source: 'teama/api-imm:candidate', target: 'teama/api-imm:release-1' });
      assert.equal(retag.status, 409);
      assert.match(retag.headers.get('content-type') ?? '', /application\/problem\+json/);
      const problem = await retag.json() as { type: string; detail: string };
      assert.equal(problem.type, '/api/v1/problems/conflict');
      assert.match(problem.detail, /tag release-1 of teama\/api-imm is immutable/);
      assert.equal((await apiJson(server.url, 'POST', '/images/tags', writer, { source: 'teama/api-imm:release-1', target: 'teama/api-imm:release-1' }) as { digest: string }).digest, released.digest, 'tagging the same image again is fine');
      assert.equal((await api(server.url, 'DELETE', `/images/${enc('teama/api-imm:release-1')}`, writer)).status, 409);
      assert.equal((await api(server.url, 'DELETE', `/images/${enc(`teama/api-imm@${released.digest}`)}`, writer)).status, 409);
      assert.equal((await api(server.url, 'DELETE', `/images/${enc('teama/api-imm:candidate')}`, writer)).status, 204, 'other tags still go');
      await apiJson(server.url, 'PUT', '/namespaces/teama/immutability', admin, { rules: [] });
    });

    it('retention keeps images with immutable tags and says so in its dry run', async () => {
      await apiJson(server.url, 'POST', '/namespaces', admin, { name: 'keepimm' });
      const old = await pushImage(server.url, 'keepimm/app', 'v1', admin);
      await new Promise((r) => setTimeout(r, 15));
      const mid = await pushImage(server.url, 'keepimm/app', 'nightly', admin);
      await new Promise((r) => setTimeout(r, 15));
      await pushImage(server.url, 'keepimm/app', 'v2', admin);
      await apiJson(server.url, 'PUT', '/namespaces/keepimm/immutability', admin, { rules: [{ tags: 'v*' }] });
      await apiJson(server.url, 'PUT', '/namespaces/keepimm/retention', admin, { keepImages: 1 });
      const dry = await apiJson<Outcome>(server.url, 'POST', '/namespaces/keepimm/retention/run?dryRun=true', admin, undefined, 200);
      assert.deepEqual(dry.removed.map((r) => r.digest), [mid.digest]);
      assert.deepEqual(dry.keptImmutable.map((k) => k.digest), [old.digest]);
      assert.match(dry.keptImmutable[0]!.reason, /tag v1 is immutable \(rule: tags 'v\*'\)/);
      const run = await apiJson<Outcome>(server.url, 'POST', '/namespaces/keepimm/retention/run', admin, undefined, 200);
      assert.deepEqual(run.removed.map((r) => r.digest), [mid.digest]);
      assert.equal((await send(server.url, { method: 'HEAD', path: '/v2/keepimm/app/manifests/v1' }, admin)).status, 200, 'the immutable image stayed');
      assert.equal((await send(server.url, { method: 'HEAD', path: `/v2/keepimm/app/manifests/${mid.digest}` }, admin)).status, 404, 'the other went to the trash');
    });
  });
}
