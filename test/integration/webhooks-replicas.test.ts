import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from '../support/server.js';
import { apiJson, basic, pushImage } from '../support/iam.js';
import { eventually } from '../support/http.js';
import { startReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

/**
 * Two replicas on one PostgreSQL database, both delivering: each event reaches the receiver once
 * (the lease on each delivery), and each repository's events in order.
 */
describe('webhook delivery by two replicas [postgres]', { skip: process.env.WHARF_TEST_DATABASE_URL ? false : 'needs the PostgreSQL of npm test' }, () => {
  let first: TestServer;
  let second: TestServer | undefined;
  let receiver: WebhookReceiver;
  const admin = basic({ username: 'admin', password: TEST_ADMIN_PASSWORD });
  const settings = { auth: { enabled: true }, scanner: { enabled: false }, webhooks: { pollInterval: '20ms', retryBackoff: '20ms', concurrency: 8, allowPrivateNetworks: true } };

  before(async () => {
    first = await startTestServer('postgres', settings);
    second = await startTestServer('postgres', { ...settings, database: { url: first.config.database.url } });
    receiver = await startReceiver();
  });
  after(async () => {
    await receiver?.close();
    await second?.stop();
    await first?.stop();
  });

  it('each event is delivered once, in order per repository, whichever replica takes it', async (t) => {
    const hook = await apiJson<{ id: number }>(first.url, 'POST', '/webhooks', admin, { url: receiver.url, events: ['push'] });
    // A receiver that answers slowly now and then, so both replicas have deliveries in flight at once.
    receiver.answer = (_d, index) => (index % 5 === 0 ? 500 : 200);
    const repositories = ['race/a', 'race/b', 'race/c', 'race/d'];
    const pushed = new Map<string, string[]>(repositories.map((r) => [r, []]));
    for (let round = 0; round < 5; round++) {
      await Promise.all(repositories.map(async (repository) => {
        const image = await pushImage(first.url, repository, undefined, admin);
        pushed.get(repository)!.push(image.digest);
      }));
    }
    const total = repositories.length * 5;
    const accepted = () => receiver.received.filter((_d, index) => index % 5 !== 0);
    await eventually(async () => accepted().length >= total, `${total} accepted deliveries`, 60_000);
    await first.events.worker.drain();
    await second!.events.worker.drain();
    const events = accepted().map((d) => (d.json as { events: Array<{ id: string; target: { repository: string; digest: string }; source: { instanceID: string } }> }).events[0]!);
    assert.equal(events.length, total, 'no event accepted twice');
    assert.equal(new Set(events.map((e) => e.id)).size, total);
    for (const repository of repositories) {
      const order = events.filter((e) => e.target.repository === repository).map((e) => e.target.digest);
      // Pushes of one repository in one round happen one after another, so push order is the digests' order.
      assert.deepEqual(order, pushed.get(repository), `events of ${repository} in push order`);
    }
    // Which replica delivered is up to the race; both usually do.
    t.diagnostic(`deliveries by replica: ${JSON.stringify([first, second!].map((s) => events.filter((e) => e.source.instanceID === s.events.source.instanceId).length))}`);
    const { deliveries } = await apiJson<{ deliveries: Array<{ state: string }> }>(first.url, 'GET', `/webhooks/${hook.id}/deliveries?limit=100`, admin);
    assert.equal(deliveries.length, total);
    assert.ok(deliveries.every((d) => d.state === 'delivered'));
  });
});
