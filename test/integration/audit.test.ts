import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { engines, startTestServer, type TestServer } from '../support/server.js';
import { api, apiJson, basic, fetchToken, pushImage, send, setUpTenants, type Creds, type Tenants } from '../support/iam.js';
import { OCI_MANIFEST } from '../support/http.js';

interface AuditEvent {
  id: number; at: string; actor: string; action: string; resource: string; outcome: string; source: string;
  requestId: string | null; namespace: string | null; count: number; detail: Record<string, unknown> | null;
}
interface AuditPage { events: AuditEvent[]; next?: string }

const enc = encodeURIComponent;

for (const engine of engines()) {
  describe(`audit trail [${engine}]`, () => {
    let server: TestServer;
    let fx: Tenants;
    let admin: string;
    let writer: string;

    const audit = async (query: Record<string, string> = {}, auth = admin): Promise<AuditPage> => {
      await server.iam.audit.flush();
      return apiJson<AuditPage>(server.url, 'GET', `/audit?${new URLSearchParams(query)}`, auth);
    };
    const asWriter = (spec: Parameters<typeof send>[1], requestId?: string) =>
      send(server.url, { ...spec, headers: { ...spec.headers, ...(requestId ? { 'X-Request-Id': requestId } : {}) } }, writer);

    before(async () => {
      // A long flush interval: the test decides when batched events are written (flush()).
      server = await startTestServer(engine, { auth: { enabled: true }, audit: { flushInterval: '1h' } });
      fx = await setUpTenants(server);
      admin = basic(fx.admin);
      writer = basic(fx.writer);
    });
    after(async () => { await server.stop(); });

    it('a push, pulls, a moved tag and deletes are recorded with principal, account, source and request ID', async () => {
      const first = await pushImage(server.url, 'teama/audited', 'v1', writer);
      const second = await pushImage(server.url, 'teama/audited', undefined, writer);
      const moved = await asWriter({ method: 'PUT', path: '/v2/teama/audited/manifests/v1', headers: { 'Content-Type': OCI_MANIFEST }, body: second.manifest }, 'req-move-1');
      assert.equal(moved.status, 201);
      for (let i = 0; i < 7; i++) {
        const pulled = await asWriter({ method: 'GET', path: `/v2/teama/audited/manifests/${first.digest}`, headers: { Accept: OCI_MANIFEST } });
        assert.equal(pulled.status, 200);
        await pulled.arrayBuffer();
      }
      // HEAD is a check, not a pull.
      assert.equal((await asWriter({ method: 'HEAD', path: '/v2/teama/audited/manifests/v1' })).status, 200);
      assert.equal((await asWriter({ method: 'DELETE', path: '/v2/teama/audited/manifests/v1' }, 'req-del-tag')).status, 202);
      assert.equal((await asWriter({ method: 'DELETE', path: `/v2/teama/audited/manifests/${first.digest}` }, 'req-del-image')).status, 202);

      const { events } = await audit({ namespace: 'teama', principal: 'writer' });
      const of = (action: string) => events.filter((e) => e.action === action && e.resource.startsWith('teama/audited'));
      const pushes = of('registry.push');
      assert.equal(pushes.length, 3, JSON.stringify(pushes));
      const tagPush = pushes.find((e) => e.resource === 'teama/audited:v1' && e.detail?.digest === first.digest);
      assert.ok(tagPush, 'the push of v1 names the tag and the digest');
      assert.equal(tagPush.actor, 'user writer');
      assert.equal(tagPush.outcome, 'success');
      assert.equal(tagPush.source, '127.0.0.1');
      assert.equal(tagPush.namespace, 'teama');
      assert.match(tagPush.requestId ?? '', /^[\w.-]{8,}$/, 'a generated request ID');

      const tagMoves = of('registry.tag');
      assert.equal(tagMoves.length, 1);
      assert.deepEqual(tagMoves[0]!.detail, { tag: 'v1', from: first.digest, to: second.digest });
      assert.equal(tagMoves[0]!.requestId, 'req-move-1', 'the client\'s X-Request-Id is kept');

      const pulls = of('registry.pull');
      assert.equal(pulls.length, 1, 'seven pulls of one image by one principal are one row');
      assert.equal(pulls[0]!.count, 7);
      assert.equal(pulls[0]!.resource, `teama/audited@${first.digest}`);

      const deletes = of('registry.delete');
      assert.deepEqual(deletes.map((e) => [e.resource, e.requestId]).sort(), [
        [`teama/audited:v1`, 'req-del-tag'],
        [`teama/audited@${first.digest}`, 'req-del-image'],
      ].sort());
    });

    it('a refused push (an immutable tag) is recorded as a denial with the registry\'s reason', async () => {
      await apiJson(server.url, 'PUT', '/namespaces/teama/immutability', admin, { rules: [{ repository: 'frozen', tags: 'v*' }] });
      await pushImage(server.url, 'teama/frozen', 'v1', writer);
      const other = await pushImage(server.url, 'teama/frozen', undefined, writer);
      const refused = await asWriter({ method: 'PUT', path: '/v2/teama/frozen/manifests/v1', headers: { 'Content-Type': OCI_MANIFEST }, body: other.manifest }, 'req-refused');
      assert.equal(refused.status, 409);
      const { events } = await audit({ action: 'registry.push', outcome: 'deny' });
      const row = events.find((e) => e.requestId === 'req-refused');
      assert.ok(row, JSON.stringify(events));
      assert.equal(row.resource, 'teama/frozen:v1');
      assert.equal(row.detail?.code, 'DENIED');
      await apiJson(server.url, 'PUT', '/namespaces/teama/immutability', admin, { rules: [] });
    });

    it('logins: a failed one, successful ones batched per principal, token grants', async () => {
      const wrong = await fetch(`${server.url}/auth/token?service=wharf&scope=repository:teama/app:pull`, { headers: { Authorization: basic({ username: 'reader', password: 'not-the-password' }) } });
      assert.equal(wrong.status, 401);
      await fetchToken(server.url, fx.reader, ['repository:teama/app:pull']);
      await fetchToken(server.url, fx.reader, ['repository:teama/app:pull']);
      assert.equal((await api(server.url, 'GET', '/whoami', basic(fx.reader))).status, 200);

      const { events } = await audit({ principal: 'reader', action: 'login' });
      const failed = events.filter((e) => e.outcome === 'failure');
      assert.equal(failed.length, 1);
      assert.equal(failed[0]!.actor, 'login reader');
      assert.equal(failed[0]!.source, '127.0.0.1');
      assert.ok(failed[0]!.requestId);
      const ok = events.filter((e) => e.outcome === 'success');
      assert.equal(ok.length, 1, 'three logins from one address in one flush interval are one row');
      assert.equal(ok[0]!.count, 3);
      assert.equal(ok[0]!.actor, 'user reader');

      const grants = (await audit({ principal: 'reader', action: 'token.issue' })).events;
      assert.equal(grants.length, 1);
      assert.equal(grants[0]!.resource, 'repository:teama/app:pull');
      assert.equal(grants[0]!.count, 2);
      assert.equal(grants[0]!.namespace, 'teama');
    });

    it('deleting an image through the API and restoring it from the trash are recorded', async () => {
      const image = await pushImage(server.url, 'teama/trashed', 'a', writer);
      assert.equal((await api(server.url, 'DELETE', `/images/${enc(`teama/trashed@${image.digest}`)}`, writer)).status, 204);
      await apiJson(server.url, 'POST', '/trash/restore', writer, { image: `teama/trashed@${image.digest}` }, 200);
      const { events } = await audit({ namespace: 'teama', principal: 'writer', action: '*' });
      const restore = events.find((e) => e.action === 'trash.restore');
      assert.ok(restore, 'the restore is recorded');
      assert.equal(restore.resource, `image teama/trashed@${image.digest}`);
      assert.equal(restore.namespace, 'teama');
      assert.ok(restore.requestId, 'API requests carry their request ID too');
      assert.ok(events.some((e) => e.action === 'image.delete' && e.resource === `image teama/trashed@${image.digest}`));

      // Retention removes images too: a run that is not a dry run is recorded with how many it removed.
      await pushImage(server.url, 'teama/untagged', undefined, writer);
      await apiJson(server.url, 'POST', '/namespaces/teama/prune-untagged?dryRun=true', writer, undefined, 200);
      await apiJson(server.url, 'POST', '/namespaces/teama/prune-untagged', writer, undefined, 200);
      const prunes = (await audit({ action: 'retention.*' })).events;
      assert.equal(prunes.length, 1, 'the dry run is not recorded');
      assert.equal(prunes[0]!.action, 'retention.prune-untagged');
      assert.equal(prunes[0]!.resource, 'namespace teama');
      assert.ok((prunes[0]!.detail?.removed as number) >= 1);
    });

    it('a mount from a repository the caller cannot read falls back to an upload and is no denial', async () => {
      const since = new Date().toISOString();
      // teamc belongs to the same account; the writer has no role on it.
      await apiJson(server.url, 'POST', '/namespaces', admin, { name: 'teamc' });
      const src = await pushImage(server.url, 'teamc/src', 'v1', admin);
      const probe = async (authorization: string, from: string) => {
        const res = await send(server.url, { method: 'POST', path: `/v2/teama/copy/blobs/uploads/?mount=${src.layer}&from=${from}` }, authorization);
        assert.equal(res.status, 202, `mount from ${from} falls back to an upload session`);
        // What skopeo does then: abandon the session and upload later.
        const cancel = await send(server.url, { method: 'DELETE', path: res.headers.get('location')! }, authorization);
        assert.equal(cancel.status, 204);
      };
      // Basic credentials, and a token asked for the way skopeo asks (the source's pull scope is not granted).
      await probe(writer, 'teamc/src');
      await probe(writer, 'teamb/app');
      const token = await fetchToken(server.url, fx.writer, ['repository:teama/copy:pull,push', 'repository:teamc/src:pull']);
      await probe(`Bearer ${token}`, 'teamc/src');
      // skopeo 1.9's probe: HEAD of the layer in the source repository with that token, refused.
      const head = await send(server.url, { method: 'HEAD', path: `/v2/teamc/src/blobs/${src.layer}` }, `Bearer ${token}`);
      assert.equal(head.status, 403);
      assert.equal((await send(server.url, { method: 'HEAD', path: `/v2/teamc/src/blobs/${src.layer}` }, writer)).status, 403);
      const { events } = await audit({ principal: 'writer', outcome: 'deny', since });
      assert.deepEqual(events.map((e) => `${e.action} ${e.resource}`), []);
      // A real denial still is one.
      assert.equal((await asWriter({ method: 'GET', path: '/v2/teamc/src/manifests/v1' })).status, 403);
      const denied = (await audit({ principal: 'writer', outcome: 'deny', since })).events;
      assert.deepEqual(denied.map((e) => `${e.action} ${e.resource}`), ['registry.pull repository teamc/src']);
    });

    it('filters and pages: cursor, next and the Link header walk every matching event once', async () => {
      for (let i = 0; i < 5; i++) await pushImage(server.url, 'teama/paged', `t${i}`, writer);
      const all = (await audit({ action: 'registry.push', namespace: 'teama', limit: '1000' })).events.filter((e) => e.resource.startsWith('teama/paged:'));
      assert.equal(all.length, 5);
      const seen: string[] = [];
      let query: Record<string, string> = { action: 'registry.*', principal: 'writer', limit: '2' };
      for (;;) {
        const res = await api(server.url, 'GET', `/audit?${new URLSearchParams(query)}`, admin);
        assert.equal(res.status, 200);
        const page = await res.json() as AuditPage;
        assert.ok(page.events.length <= 2);
        seen.push(...page.events.map((e) => String(e.id)));
        assert.ok(page.events.every((e) => e.action.startsWith('registry.') && e.actor === 'user writer'));
        if (!page.next) {
          assert.equal(res.headers.get('link'), null);
          break;
        }
        const link = /^<\/api\/v1\/audit\?([^>]+)>; rel="next"$/.exec(res.headers.get('link') ?? '');
        assert.ok(link, `a Link header: ${res.headers.get('link')}`);
        query = Object.fromEntries(new URLSearchParams(link[1]));
        assert.equal(query.cursor, page.next);
      }
      const everything = (await audit({ action: 'registry.*', principal: 'writer', limit: '1000' })).events.map((e) => String(e.id));
      assert.deepEqual(seen, everything, 'the pages are the whole list, in order, without repeats');
      assert.ok(everything.length > 5);

      const future = await audit({ since: new Date(Date.now() + 3_600_000).toISOString() });
      assert.equal(future.events.length, 0);
      const past = await audit({ until: '2000-01-01T00:00:00Z' });
      assert.equal(past.events.length, 0);
      const bad = await api(server.url, 'GET', '/audit?since=yesterday', admin);
      assert.equal(bad.status, 400);
      assert.match(((await bad.json()) as { detail: string }).detail, /since must be a date/);
    });

    it('an account sees only its own events, and only its Managers see them', async () => {
      await pushImage(server.url, 'teamb/secret', 'v1', basic(fx.bwriter));
      const b = await audit({ limit: '1000' }, basic(fx.bowner));
      assert.ok(b.events.some((e) => e.resource === 'teamb/secret:v1'), 'B sees its push');
      assert.ok(b.events.every((e) => !e.resource.includes('teama') && e.actor !== 'user writer' && e.actor !== 'user admin'), 'B sees nothing of A');
      const a = await audit({ limit: '1000' });
      assert.ok(a.events.every((e) => !e.resource.includes('teamb/secret')), 'A sees nothing of B');
      const byWriter = await api(server.url, 'GET', '/audit', writer);
      assert.equal(byWriter.status, 403, 'a Writer cannot read the audit trail');
      await byWriter.arrayBuffer();
    });
  });

  describe(`audit retention [${engine}]`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine, { auth: { enabled: true }, audit: { retention: '1d' }, registry: { maintenanceInterval: 1 } });
    });
    after(async () => { await server.stop(); });

    it('events older than audit.retention are deleted by the maintenance task; newer ones stay', async () => {
      const db = server.metadata.db;
      const day = 86_400_000;
      await db.insertInto('audit_events').values([
        { account_id: 1, at: Date.now() - 2 * day, actor: 'user old', action: 'login', resource: 'registry', outcome: 'success', source: '10.0.0.1', detail: null, request_id: null, namespace: null },
        { account_id: 1, at: Date.now() - day / 2, actor: 'user recent', action: 'login', resource: 'registry', outcome: 'success', source: '10.0.0.1', detail: null, request_id: null, namespace: null },
      ]).execute();
      const actors = async () => (await db.selectFrom('audit_events').select('actor').where('actor', 'in', ['user old', 'user recent']).execute()).map((r) => r.actor).sort();
      const deadline = Date.now() + 60_000;
      while ((await actors()).includes('user old')) {
        assert.ok(Date.now() < deadline, 'the old event was not deleted within a minute');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.deepEqual(await actors(), ['user recent']);
    });
  });
}
