import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { CloudEvent } from 'cloudevents';
import { formatPayload, type EventSource } from '../../src/events/payloads.js';
import { signDelivery, verifyDelivery, newWebhookSecret } from '../../src/events/signature.js';
import { backoff, MAX_BACKOFF_MS } from '../../src/events/delivery-worker.js';
import { normalizeSpec, WebhookSpecError } from '../../src/events/webhooks.js';
import { wants } from '../../src/events/outbox.js';
import type { RegistryEvent } from '../../src/events/types.js';

const source: EventSource = { publicUrl: '', instanceId: '3f1c6a2e-5a8e-4f5e-9d63-2d0c8f1b7a10', addr: '10.0.0.5:5000' };
const digest = `sha256:${'ab'.repeat(32)}`;
const push: RegistryEvent = {
  id: '9a1b2c3d-0000-4000-8000-000000000001', type: 'push', time: '2026-11-30T12:00:00.000Z', repository: 'team-a/app',
  target: { digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 528, tag: 'v1' },
  origin: { actor: 'alice', requestId: 'req-7', addr: '192.0.2.10', host: 'registry.example.com', method: 'PUT', userAgent: 'skopeo/1.13' },
};

describe('webhook signatures', () => {
  it('are HMAC-SHA256 over "<timestamp>.<body>", as the README tells receivers to check', () => {
    const secret = newWebhookSecret();
    const body = '{"events":[]}';
    const expected = createHmac('sha256', secret).update(`1764504000.${body}`).digest('hex');
    assert.equal(signDelivery(secret, 1764504000, body), `sha256=${expected}`);
    assert.ok(verifyDelivery(secret, '1764504000', body, `sha256=${expected}`));
    assert.ok(!verifyDelivery(secret, '1764504001', body, `sha256=${expected}`), 'another timestamp');
    assert.ok(!verifyDelivery(secret, '1764504000', `${body} `, `sha256=${expected}`), 'another body');
    assert.ok(!verifyDelivery(secret, '1764504000', body, 'sha256=00'), 'a short signature');
    assert.ok(!verifyDelivery(secret, 'soon', body, `sha256=${expected}`), 'a timestamp that is no number');
  });

  it('secrets are 32 random bytes with a recognisable prefix', () => {
    const a = newWebhookSecret();
    assert.match(a, /^whsec_[A-Za-z0-9_-]{43}$/);
    assert.notEqual(a, newWebhookSecret());
  });
});

describe('webhook payloads', () => {
  it("Distribution's envelope carries the fields of its notifications/event.go", () => {
    const payload = formatPayload('distribution', push, source);
    assert.equal(payload.contentType, 'application/vnd.docker.distribution.events.v1+json');
    assert.deepEqual(JSON.parse(payload.body), {
      events: [{
        id: push.id, timestamp: push.time, action: 'push',
        target: { mediaType: push.target.mediaType, size: 528, length: 528, digest, repository: 'team-a/app', url: `http://registry.example.com/v2/team-a/app/manifests/${digest}`, tag: 'v1' },
        request: { id: 'req-7', addr: '192.0.2.10', host: 'registry.example.com', method: 'PUT', useragent: 'skopeo/1.13' },
        actor: { name: 'alice' },
        source: { addr: '10.0.0.5:5000', instanceID: source.instanceId },
      }],
    });
  });

  it('event URLs use http.publicUrl when set; an anonymous actor is an empty object; Wharf\'s additions sit under "wharf"', () => {
    const moved: RegistryEvent = { ...push, type: 'tag.moved', target: { ...push.target, previousDigest: `sha256:${'cd'.repeat(32)}` }, origin: { actor: null } };
    const [entry] = (JSON.parse(formatPayload('distribution', moved, { ...source, publicUrl: 'https://cr.example.com/' }).body) as { events: Array<Record<string, any>> }).events;
    assert.equal(entry!.target.url, `https://cr.example.com/v2/team-a/app/manifests/${digest}`);
    assert.deepEqual(entry!.actor, {});
    assert.equal(entry!.action, 'tag.moved');
    assert.deepEqual(entry!.wharf, { previousDigest: `sha256:${'cd'.repeat(32)}` });
    assert.deepEqual(entry!.request, { id: '', addr: '', host: '', method: '', useragent: '' });
  });

  it('CloudEvents 1.0 structured JSON that the CNCF SDK reads back as a valid event', () => {
    const payload = formatPayload('cloudevents', { ...push, type: 'scan.completed', detail: { status: '3 Issues' } }, source);
    assert.equal(payload.contentType, 'application/cloudevents+json');
    const json = JSON.parse(payload.body) as Record<string, any>;
    assert.equal(json.specversion, '1.0');
    assert.equal(json.type, 'io.wharf.registry.scan.completed');
    assert.equal(json.source, 'http://registry.example.com/v2/team-a/app');
    assert.equal(json.subject, digest);
    assert.equal(json.time, push.time);
    assert.deepEqual(json.data, { repository: 'team-a/app', digest, mediaType: push.target.mediaType, size: 528, tag: 'v1', actor: 'alice', requestId: 'req-7', detail: { status: '3 Issues' } });
    const parsed = new CloudEvent(json as never);
    assert.equal(parsed.validate(), true);
  });
});

describe('webhook subscriptions', () => {
  it('retries back off exponentially from the configured wait, up to an hour', () => {
    assert.deepEqual([1, 2, 3, 4].map((n) => backoff(n, 1000)), [1000, 2000, 4000, 8000]);
    assert.equal(backoff(40, 1000), MAX_BACKOFF_MS);
  });

  it('match event types and full repository names by glob', () => {
    const hook = { events: JSON.stringify(['push', 'delete']), repositories: 'team-a/app*' };
    assert.ok(wants(hook, { type: 'push', repository: 'team-a/app' }));
    assert.ok(wants(hook, { type: 'delete', repository: 'team-a/app-2' }));
    assert.ok(!wants(hook, { type: 'pull', repository: 'team-a/app' }), 'a type not asked for');
    assert.ok(!wants(hook, { type: 'push', repository: 'team-a/app/sub' }), '* stops at /');
    assert.ok(!wants(hook, { type: 'push', repository: 'team-b/app' }));
    assert.ok(wants({ events: hook.events, repositories: '**' }, { type: 'push', repository: 'x/y/z' }));
  });

  it('default to every event type but pull, Distribution\'s envelope and every repository', () => {
    const spec = normalizeSpec({ url: 'https://ci.example.com/hook' });
    assert.deepEqual(spec.events, ['push', 'tag.moved', 'delete', 'scan.completed', 'quota.warning', 'policy.denied']);
    assert.equal(spec.format, 'distribution');
    assert.equal(spec.repositories, '**');
  });

  it('refuse what cannot work, saying what to change', () => {
    assert.throws(() => normalizeSpec({ url: 'file:///etc/passwd' }), (err: Error) => err instanceof WebhookSpecError && /http:\/\/ or https:\/\//.test(err.message));
    assert.throws(() => normalizeSpec({ url: 'https://ci.example.com/', events: ['pushed'] }), /"pushed" is not an event type: choose from push, tag\.moved/);
    assert.throws(() => normalizeSpec({ url: 'https://ci.example.com/', namespace: 'team-a', repositories: 'app*' }), /can never match a repository of namespace team-a: .* team-a\/app\*/);
    assert.deepEqual(normalizeSpec({ url: 'https://ci.example.com/', events: ['pull', 'pull'] }).events, ['pull']);
  });
});

describe('receiver addresses', () => {
  it('loopback, private, link-local, CGNAT and IPv4-mapped forms are private; public ones are not', async () => {
    const { isPrivateAddress } = await import('../../src/events/receiver-address.js');
    for (const a of ['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1']) {
      assert.ok(isPrivateAddress(a), a);
    }
    for (const a of ['8.8.8.8', '172.32.0.1', '192.0.2.10', '2001:4860:4860::8888', '::ffff:8.8.8.8', 'example.com']) {
      assert.ok(!isPrivateAddress(a), a);
    }
  });
});
