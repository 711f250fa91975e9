import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { engines, startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from '../support/server.js';
import { api, apiJson, basic, pushBlob, pushImage, send, setUpTenants, PASSWORDS } from '../support/iam.js';
import { randomBytes } from 'node:crypto';
import { Validator } from '@seriousme/openapi-schema-validator';
import { digestOf, eventually } from '../support/http.js';
import { startReceiver, type ReceivedDelivery, type WebhookReceiver } from '../support/webhook-receiver.js';
import { verifyDelivery } from '../../src/events/signature.js';
import { recordPolicyDenial } from '../../src/events/outbox.js';
import { sendEvent } from '../../src/events/delivery-worker.js';
import { pruneDeliveries } from '../../src/metadata/webhooks.js';

interface Created { id: number; secret: string; url: string; events: string[]; namespace: string | null }
interface Delivery { id: number; eventType: string; repository: string; state: string; attempts: number; responseStatus: number | null; lastError: string | null }
interface DistributionEvent {
  id: string; timestamp: string; action: string;
  target: { mediaType?: string; size?: number; length?: number; digest?: string; repository: string; url?: string; tag?: string };
  request: { id: string; addr: string; host: string; method: string; useragent: string };
  actor: { name?: string };
  source: { addr: string; instanceID: string };
  wharf?: { previousDigest?: string };
}

/** Generous: two cores shared by many suites. */
const WAIT_MS = 30_000;

function envelope(delivery: ReceivedDelivery): DistributionEvent {
  const events = (delivery.json as { events: DistributionEvent[] }).events;
  assert.equal(events.length, 1);
  return events[0]!;
}

function assertSigned(delivery: ReceivedDelivery, secret: string): void {
  const signature = String(delivery.headers['x-wharf-signature']);
  const timestamp = String(delivery.headers['x-wharf-timestamp']);
  assert.match(signature, /^sha256=[0-9a-f]{64}$/);
  assert.ok(verifyDelivery(secret, timestamp, delivery.body, signature), 'the signature verifies with the webhook secret');
  assert.ok(!verifyDelivery(`${secret}x`, timestamp, delivery.body, signature), 'and not with another secret');
  assert.ok(Math.abs(Number(timestamp) - Date.now() / 1000) < 600, 'the timestamp is now');
}

for (const engine of engines()) {
  describe(`webhooks [${engine}]`, () => {
    let server: TestServer;
    let receiver: WebhookReceiver;
    let admin: string;
    const hooks: number[] = [];

    before(async () => {
      server = await startTestServer(engine, { auth: { enabled: true }, webhooks: { retryBackoff: '50ms', pollInterval: '100ms', timeout: '5s', maxAttempts: 20, allowPrivateNetworks: true } });
      await setUpTenants(server);
      admin = basic({ username: 'admin', password: TEST_ADMIN_PASSWORD });
      receiver = await startReceiver();
    });
    after(async () => {
      await receiver?.close();
      await server?.stop();
    });
    beforeEach(async () => {
      // Each test subscribes its own webhooks: the earlier ones go, with their deliveries.
      for (const id of hooks.splice(0)) await apiJson(server.url, 'DELETE', `/webhooks/${id}`, admin, undefined, 204);
      receiver.received.length = 0;
      receiver.answer = () => 200;
    });

    const subscribe = async (body: Record<string, unknown>): Promise<Created> => {
      const created = await apiJson<Created>(server.url, 'POST', '/webhooks', admin, { url: receiver.url, ...body });
      hooks.push(created.id);
      return created;
    };

    it('a Manager subscribes; the secret is shown once; Writers, other tenants and bad specs are refused', async () => {
      const created = await subscribe({ namespace: 'teama', repositories: 'teama/app*', events: ['push', 'delete'] });
      assert.match(created.secret, /^whsec_[A-Za-z0-9_-]{43}$/);
      assert.deepEqual(created.events, ['push', 'delete']);
      const shown = await apiJson<Record<string, unknown>>(server.url, 'GET', `/webhooks/${created.id}`, admin);
      assert.equal(shown.secret, undefined, 'the secret is not shown again');
      const { webhooks } = await apiJson<{ webhooks: Array<Record<string, unknown>> }>(server.url, 'GET', '/webhooks', admin);
      assert.deepEqual(webhooks.map((w) => w.id), [created.id]);
      assert.ok(webhooks.every((w) => w.secret === undefined));

      const writer = basic({ username: 'writer', password: PASSWORDS.writer });
      assert.equal((await api(server.url, 'POST', '/webhooks', writer, { url: receiver.url, namespace: 'teama' })).status, 403, 'a Writer cannot subscribe');
      assert.equal((await api(server.url, 'DELETE', `/webhooks/${created.id}`, writer)).status, 403, 'nor remove one');
      assert.deepEqual((await apiJson<{ webhooks: unknown[] }>(server.url, 'GET', '/webhooks', writer)).webhooks, [], 'nor list them');
      const bowner = basic({ username: 'bowner', password: PASSWORDS.bowner });
      assert.equal((await api(server.url, 'GET', `/webhooks/${created.id}`, bowner)).status, 404, 'another tenant does not see it');
      assert.equal((await api(server.url, 'GET', `/webhooks/${created.id}/deliveries`, bowner)).status, 404);
      assert.equal((await api(server.url, 'POST', '/webhooks', bowner, { url: receiver.url, namespace: 'teama' })).status, 404, 'nor subscribe to its namespace');
      assert.equal((await api(server.url, 'GET', '/webhooks')).status, 401);

      for (const [body, message] of [
        [{ url: 'ftp://x' }, /http:\/\/ or https:\/\//],
        [{ url: 'not a url' }, /not a URL/],
        [{ url: 'https://user:pw@example.com/' }, /credentials/],
        [{ url: receiver.url, events: ['push', 'exploded'] }, /"exploded" is not an event type/],
        [{ url: receiver.url, repositories: 'a{b' }, /brace/],
        [{ url: receiver.url, namespace: 'teama', repositories: 'teamb/**' }, /can never match/],
      ] as const) {
        const res = await api(server.url, 'POST', '/webhooks', admin, body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.match(((await res.json()) as { detail: string }).detail, message);
      }
      const { events } = await apiJson<{ events: Array<{ action: string }> }>(server.url, 'GET', '/audit', admin);
      assert.ok(events.some((e) => e.action === 'webhook.add'), 'subscriptions are audited');
    });

    it('push, tag move and delete arrive once each, in order, signed, in Distribution\'s envelope; filtered repositories send nothing', async () => {
      // Scans run too (scan.completed): this test is about the changes.
      const hook = await subscribe({ namespace: 'teama', repositories: 'teama/hooked*', events: ['push', 'tag.moved', 'delete'] });
      const first = await pushImage(server.url, 'teama/hooked', 'v1', admin);
      const second = await pushImage(server.url, 'teama/hooked', 'v1', admin);
      await pushImage(server.url, 'teama/elsewhere', 'v1', admin);
      const deleted = await send(server.url, { method: 'DELETE', path: '/v2/teama/hooked/manifests/v1' }, admin);
      assert.equal(deleted.status, 202);
      const expected = [
        ['push', first.digest, 'v1'],
        ['push', second.digest, 'v1'],
        ['tag.moved', second.digest, 'v1'],
        ['delete', second.digest, 'v1'],
      ];
      await eventually(async () => receiver.received.length >= expected.length, 'four deliveries', WAIT_MS);
      await server.events.worker.drain();
      assert.equal(receiver.received.length, expected.length, 'each change once, nothing for teama/elsewhere');
      const got = receiver.received.map(envelope);
      assert.deepEqual(got.map((e) => [e.action, e.target.digest, e.target.tag]), expected);
      assert.equal(new Set(got.map((e) => e.id)).size, expected.length, 'distinct event ids');
      for (const delivery of receiver.received) {
        assertSigned(delivery, hook.secret);
        assert.equal(delivery.headers['content-type'], 'application/vnd.docker.distribution.events.v1+json');
        assert.equal(delivery.headers['x-wharf-event-id'], envelope(delivery).id);
      }
      const push = got[0]!;
      assert.equal(push.target.repository, 'teama/hooked');
      assert.equal(push.target.mediaType, 'application/vnd.oci.image.manifest.v1+json');
      assert.equal(push.target.size, first.manifest.length);
      assert.equal(push.target.length, first.manifest.length);
      assert.equal(push.target.url, `${server.url}/v2/teama/hooked/manifests/${first.digest}`);
      assert.equal(push.request.method, 'PUT');
      assert.equal(push.request.addr, '127.0.0.1');
      assert.equal(push.actor.name, 'admin');
      assert.match(push.source.instanceID, /^[0-9a-f-]{36}$/);
      assert.ok(!Number.isNaN(Date.parse(push.timestamp)));
      assert.equal(got[2]!.wharf?.previousDigest, first.digest, 'the move names where the tag pointed');

      const { deliveries } = await apiJson<{ deliveries: Delivery[] }>(server.url, 'GET', `/webhooks/${hook.id}/deliveries`, admin);
      assert.deepEqual(deliveries.map((d) => [d.eventType, d.state, d.attempts, d.responseStatus]).reverse(),
        expected.map(([type]) => [type, 'delivered', 1, 200]));
    });

    it('CloudEvents 1.0 structured JSON when the webhook asks for it', async () => {
      const hook = await subscribe({ format: 'cloudevents', repositories: 'teama/ce' });
      const pushed = await pushImage(server.url, 'teama/ce', 'latest', admin);
      await eventually(async () => receiver.received.length >= 1, 'a delivery', WAIT_MS);
      const [delivery] = receiver.received;
      assertSigned(delivery!, hook.secret);
      assert.match(String(delivery!.headers['content-type']), /^application\/cloudevents\+json/);
      const ce = delivery!.json as Record<string, unknown> & { data: Record<string, unknown> };
      assert.equal(ce.specversion, '1.0');
      assert.equal(ce.type, 'io.wharf.registry.push');
      assert.equal(ce.source, `${server.url}/v2/teama/ce`);
      assert.equal(ce.subject, pushed.digest);
      assert.equal(ce.datacontenttype, 'application/json');
      assert.match(String(ce.id), /^[0-9a-f-]{36}$/);
      assert.ok(!Number.isNaN(Date.parse(String(ce.time))));
      assert.equal(ce.data.repository, 'teama/ce');
      assert.equal(ce.data.digest, pushed.digest);
      assert.equal(ce.data.tag, 'latest');
      assert.equal(ce.data.actor, 'admin');
    });

    it('a receiver outage is retried with back-off, and the repository\'s events still arrive in order', async () => {
      const hook = await subscribe({ repositories: 'teama/outage', events: ['push'] });
      let failures = 0;
      receiver.answer = () => (failures++ < 3 ? 500 : 200);
      const pushed = [];
      for (let i = 0; i < 3; i++) pushed.push(await pushImage(server.url, 'teama/outage', undefined, admin));
      await eventually(async () => receiver.received.filter((d) => d.headers['x-wharf-event-id']).length >= 6, 'three failures and three deliveries', WAIT_MS);
      await server.events.worker.drain();
      const answered = receiver.received.slice(3).map((d) => envelope(d).target.digest);
      assert.deepEqual(answered, pushed.map((p) => p.digest), 'after the outage, in push order');
      assert.deepEqual(receiver.received.slice(0, 3).map((d) => envelope(d).target.digest), Array(3).fill(pushed[0]!.digest),
        'the first event is retried; the later ones wait behind it');
      const { deliveries } = await apiJson<{ deliveries: Delivery[] }>(server.url, 'GET', `/webhooks/${hook.id}/deliveries`, admin);
      const oldest = deliveries.at(-1)!;
      assert.equal(oldest.state, 'delivered');
      assert.equal(oldest.attempts, 4);
      assert.equal(oldest.responseStatus, 200);
      assert.match(String(oldest.lastError ?? ''), /^$/);
      const metrics = await server.metrics.text();
      assert.match(metrics.body, /wharf_webhook_deliveries_total\{outcome="retry"\} [3-9]/);
    });

    it('a rolled-back push sends nothing', async () => {
      // Its blobs and manifest are in the repository before anyone listens; tagging it is what fails.
      const image = await pushImage(server.url, 'teama/rollback', undefined, admin);
      await subscribe({ repositories: 'teama/rollback', events: ['push', 'tag.moved'] });
      const hooksOfRegistry = server.registry.ctx.hooks;
      const original = hooksOfRegistry.changed!;
      hooksOfRegistry.changed = async (trx, event) => {
        await original(trx, event);
        throw new Error('injected failure after the outbox write');
      };
      try {
        const res = await send(server.url, { method: 'PUT', path: '/v2/teama/rollback/manifests/v1', headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' }, body: image.manifest }, admin);
        assert.equal(res.status, 500, 'the push fails');
        assert.equal((await send(server.url, { method: 'HEAD', path: '/v2/teama/rollback/manifests/v1' }, admin)).status, 404, 'and left no tag');
      } finally {
        hooksOfRegistry.changed = original;
      }
      const later = await pushImage(server.url, 'teama/rollback', 'v2', admin);
      await eventually(async () => receiver.received.length >= 1, 'the later push\'s delivery', WAIT_MS);
      await server.events.worker.drain();
      assert.deepEqual(receiver.received.map((d) => [envelope(d).target.digest, envelope(d).target.tag]), [[later.digest, 'v2']]);
      const rows = await server.metadata.db.selectFrom('webhook_deliveries').select('event_type').where('repository', '=', 'teama/rollback').execute();
      assert.equal(rows.length, 1, 'no outbox row of the failed push');
    });

    it('pulls are sent only to webhooks that ask for them', async () => {
      await subscribe({ repositories: 'teama/pulled', events: ['push', 'delete'] });
      const pulls = await subscribe({ repositories: 'teama/pulled', events: ['pull'] });
      const pushed = await pushImage(server.url, 'teama/pulled', 'v1', admin);
      const res = await send(server.url, { method: 'GET', path: '/v2/teama/pulled/manifests/v1', headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } }, admin);
      assert.equal(res.status, 200);
      await res.arrayBuffer();
      await eventually(async () => receiver.received.length >= 2, 'a push and a pull delivery', WAIT_MS);
      await server.events.worker.drain();
      const actions = receiver.received.map((d) => envelope(d).action).sort();
      assert.deepEqual(actions, ['pull', 'push']);
      const pull = receiver.received.map(envelope).find((e) => e.action === 'pull')!;
      assert.equal(pull.target.digest, pushed.digest);
      assert.equal(pull.target.tag, 'v1');
      assert.equal(pull.request.method, 'GET');
      const { deliveries } = await apiJson<{ deliveries: Delivery[] }>(server.url, 'GET', `/webhooks/${pulls.id}/deliveries`, admin);
      assert.deepEqual(deliveries.map((d) => d.eventType), ['pull']);
    });

    it('a hanging receiver does not slow pushes; wharf webhook test reports how the receiver answered', async () => {
      const hook = await subscribe({ repositories: 'teama/slow', events: ['push'] });
      receiver.answer = () => 'hold';
      await pushImage(server.url, 'teama/slow', undefined, admin);
      await eventually(async () => receiver.held() === 1, 'the receiver holds a delivery', WAIT_MS);
      const started = performance.now();
      await pushImage(server.url, 'teama/slow', undefined, admin);
      const seconds = (performance.now() - started) / 1000;
      assert.equal(receiver.held(), 1, 'the second event waits behind the first; the push did not');
      assert.ok(seconds < 5, `the push took ${seconds} s while the receiver hung`);
      receiver.release();
      receiver.answer = (_d, index) => (index === receiver.received.length - 1 && receiver.received.at(-1)!.headers['x-wharf-event'] === 'webhook.test' ? 418 : 200);
      const tested = await apiJson<Delivery>(server.url, 'POST', `/webhooks/${hook.id}/test`, admin, undefined, 200);
      const test = receiver.received.find((d) => d.headers['x-wharf-event'] === 'webhook.test')!;
      assertSigned(test, hook.secret);
      assert.equal(envelope(test).action, 'webhook.test');
      assert.equal(tested.state, 'failed');
      assert.equal(tested.responseStatus, 418);
      assert.match(String(tested.lastError), /the receiver answered 418: receiver says 418/);
    });

    it('scan results, quota warnings and policy denials are events too', async () => {
      const hook = await subscribe({ format: 'cloudevents', repositories: 'teama/watched', events: ['scan.completed', 'quota.warning', 'policy.denied'] });
      type Ce = { type: string; subject?: string; data: { repository: string; digest?: string; detail: Record<string, unknown> } };
      const received = () => receiver.received.map((d) => d.json as Ce);

      // The layer is random bytes, not a tar: the scan completes with its failure as the status.
      const pushed = await pushImage(server.url, 'teama/watched', 'v1', admin);
      await eventually(async () => received().some((e) => e.type === 'io.wharf.registry.scan.completed'), 'the scan event', WAIT_MS);
      const scan = received().find((e) => e.type === 'io.wharf.registry.scan.completed')!;
      assert.equal(scan.subject, pushed.digest);
      assert.equal(scan.data.detail.status, 'Scan failed');

      const { storage } = await apiJson<{ storage: { used: number } }>(server.url, 'GET', '/quota', admin);
      const big = randomBytes(Math.max(storage.used, 1000));
      const limit = storage.used + big.length + 10;
      await apiJson(server.url, 'PUT', '/quota', admin, { storageBytes: limit }, 200);
      try {
        await pushBlob(server.url, 'teama/watched', big, admin);
        await eventually(async () => received().some((e) => e.type === 'io.wharf.registry.quota.warning'), 'the 80 % warning', WAIT_MS);
        const small = randomBytes(20);
        const refused = await send(server.url, { method: 'POST', path: `/v2/teama/watched/blobs/uploads/?digest=${digestOf(small)}`, headers: { 'Content-Type': 'application/octet-stream' }, body: small }, admin);
        assert.equal(refused.status, 403, await refused.text());
        await eventually(async () => received().filter((e) => e.type === 'io.wharf.registry.quota.warning').length >= 2, 'the 100 % warning', WAIT_MS);
      } finally {
        await apiJson(server.url, 'PUT', '/quota', admin, { storageBytes: null }, 200);
      }
      const warnings = received().filter((e) => e.type === 'io.wharf.registry.quota.warning').map((e) => e.data.detail);
      assert.deepEqual(warnings.map((w) => [w.quota, w.threshold, w.limit, w.refused]), [['storage', 80, limit, false], ['storage', 100, limit, true]]);

      await server.events.policyDenied({ repository: 'teama/watched', digest: pushed.digest, policy: 'signed-only', reason: 'no trusted signature' });
      await recordPolicyDenial(server.metadata.db, { repository: 'teamb/app', digest: pushed.digest, policy: 'signed-only', reason: 'another tenant' }, engine);
      server.events.worker.poke();
      await eventually(async () => received().some((e) => e.type === 'io.wharf.registry.policy.denied'), 'the denial', WAIT_MS);
      await server.events.worker.drain();
      const denials = received().filter((e) => e.type === 'io.wharf.registry.policy.denied');
      assert.deepEqual(denials.map((e) => [e.data.repository, e.data.detail.policy, e.data.detail.reason]), [['teama/watched', 'signed-only', 'no trusted signature']],
        'another tenant\'s denial does not reach this account\'s webhook');
      for (const delivery of receiver.received) assertSigned(delivery, hook.secret);
    });

    it('receivers on loopback or private addresses are not called unless the operator allows it', async () => {
      const event = { id: 'e1', type: 'push' as const, time: new Date().toISOString(), repository: 'teama/x', target: {}, origin: { actor: null } };
      for (const url of [receiver.url, receiver.url.replace('127.0.0.1', 'localhost'), `http://[::ffff:127.0.0.1]:${receiver.port}/hook`, 'http://169.254.169.254/latest/meta-data/']) {
        const refused = await sendEvent({ url, secret: 's', format: 'distribution' }, '1', event, server.events.source, { timeoutMs: 5000, allowPrivateNetworks: false }, Date.now());
        assert.equal(refused.ok, false, url);
        assert.match(String(refused.error), /^the receiver was not called: .*private or loopback address.*webhooks\.allowPrivateNetworks/, url);
      }
      assert.equal(receiver.received.length, 0, 'nothing reached the receiver');
      const allowed = await sendEvent({ url: receiver.url, secret: 's', format: 'distribution' }, '1', event, server.events.source, { timeoutMs: 5000, allowPrivateNetworks: true }, Date.now());
      assert.equal(allowed.ok, true, String(allowed.error));
      assert.equal(receiver.received.length, 1);
    });

    it('the delivery log is pruned of finished deliveries, never of pending ones', async () => {
      const hook = await subscribe({ repositories: 'teama/pruned', events: ['push'] });
      await pushImage(server.url, 'teama/pruned', undefined, admin);
      await eventually(async () => receiver.received.length >= 1, 'the first delivery', WAIT_MS);
      await server.events.worker.drain();
      receiver.answer = () => 503;
      await pushImage(server.url, 'teama/pruned', undefined, admin);
      await eventually(async () => receiver.received.length >= 2, 'a failed try of the second', WAIT_MS);
      const removed = await pruneDeliveries(server.metadata.db, Date.now() + 1000);
      assert.ok(removed >= 1);
      const { deliveries } = await apiJson<{ deliveries: Delivery[] }>(server.url, 'GET', `/webhooks/${hook.id}/deliveries`, admin);
      assert.deepEqual(deliveries.map((d) => d.state), ['pending'], 'the delivered one went, the pending one stays');
      assert.match(String(deliveries[0]!.lastError), /the receiver answered 503: receiver says 503/);
    });

    it('the routes are in the OpenAPI document, which still validates', async () => {
      const doc = await (await fetch(`${server.url}/api/v1/openapi.json`)).json() as { paths: Record<string, unknown> };
      const result = await new Validator().validate(doc as Parameters<Validator['validate']>[0]);
      assert.equal(result.valid, true, JSON.stringify(result.errors));
      for (const path of ['/api/v1/webhooks', '/api/v1/webhooks/{id}', '/api/v1/webhooks/{id}/test', '/api/v1/webhooks/{id}/deliveries']) {
        assert.ok(path in doc.paths, `${path} documented`);
      }
    });

    it('tagging and removing through the management API are events too, with their actor', async () => {
      await subscribe({ repositories: 'teama/api-tagged', events: ['push', 'delete'] });
      const pushed = await pushImage(server.url, 'teama/api-tagged', 'v1', admin);
      await apiJson(server.url, 'POST', '/images/tags', admin, { source: 'teama/api-tagged:v1', target: 'teama/api-tagged:stable' });
      const removed = await api(server.url, 'DELETE', `/images/${encodeURIComponent('teama/api-tagged:stable')}`, admin);
      assert.ok(removed.status < 300, await removed.text());
      await eventually(async () => receiver.received.length >= 3, 'three deliveries', WAIT_MS);
      await server.events.worker.drain();
      assert.deepEqual(receiver.received.map(envelope).map((e) => [e.action, e.target.tag, e.target.digest, e.actor.name, e.request.method]), [
        ['push', 'v1', pushed.digest, 'admin', 'PUT'],
        ['push', 'stable', pushed.digest, 'admin', 'POST'],
        ['delete', 'stable', pushed.digest, 'admin', 'DELETE'],
      ]);
    });
  });
}
