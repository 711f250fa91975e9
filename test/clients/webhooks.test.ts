import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { basic, pushImage, send } from '../support/iam.js';
import { eventually } from '../support/http.js';
import { describeRun, ensureBuilt, freePort, runCommand, spawnWharf, WHARF_BIN, type CommandResult, type WharfProcess } from '../support/process.js';
import { startReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';
import { verifyDelivery } from '../../src/events/signature.js';

/**
 * The real `wharf serve` and `wharf webhook` binaries: a push acknowledged while the receiver is down
 * is delivered exactly once after a kill -9 of the server and a restart, signed; the CLI manages the
 * subscription and shows the delivery log.
 */

const ADMIN_PASSWORD = 'test-admin-password-0123';
const WAIT_MS = 60_000;

interface Delivery { id: number; eventType: string; repository: string; state: string; attempts: number; responseStatus: number | null; lastError: string | null }

describe('webhooks across a kill -9 of wharf serve', () => {
  let work: string;
  let env: Record<string, string>;
  let wharf: WharfProcess | undefined;
  let receiver: WebhookReceiver | undefined;

  function cli(args: string[], input?: string): Promise<CommandResult & { what: string }> {
    const argv = [WHARF_BIN, ...args];
    return runCommand('sh', ['-c', `exec "$0" "$@"${input === undefined ? '' : ' <<EOF\n' + input + '\nEOF'}`, process.execPath, ...argv], {
      env: { PATH: process.env.PATH ?? '', HOME: work, WHARF_CLI_CONFIG: path.join(work, 'cli.json') }, timeoutMs: 60_000,
    }).then((result) => ({ ...result, what: describeRun('wharf', args, result) }));
  }

  async function deliveries(id: number): Promise<Delivery[]> {
    const result = await cli(['webhook', 'deliveries', String(id), '--format', 'json']);
    assert.equal(result.code, 0, result.what);
    return JSON.parse(result.stdout) as Delivery[];
  }

  before(async () => {
    await ensureBuilt();
    work = mkdtempSync(path.join(os.tmpdir(), 'wharf-webhooks-'));
    env = {
      WHARF_STORAGE_DATA_DIR: path.join(work, 'data'), WHARF_DATABASE_ENGINE: 'sqlite', WHARF_LOG_LEVEL: 'warn',
      WHARF_AUTH_ENABLED: 'true', WHARF_SCANNER_ENABLED: 'false',
      WHARF_WEBHOOKS_RETRY_BACKOFF: '200ms', WHARF_WEBHOOKS_POLL_INTERVAL: '100ms', WHARF_WEBHOOKS_TIMEOUT: '5s', WHARF_WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true',
    };
    wharf = await spawnWharf(env);
    // The restart listens where the CLI logged in.
    env.WHARF_HTTP_PORT = new URL(wharf.url).port;
  });
  after(async () => {
    if (wharf && wharf.child.exitCode === null && wharf.child.signalCode === null) {
      wharf.child.kill('SIGKILL');
      await wharf.exited;
    }
    await receiver?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('shows examples in the --help of every webhook command', async () => {
    for (const command of [['webhook'], ['webhook', 'add'], ['webhook', 'list'], ['webhook', 'rm'], ['webhook', 'test'], ['webhook', 'deliveries']]) {
      const result = await cli([...command, '--help']);
      assert.equal(result.code, 0, result.what);
      assert.match(result.stdout, new RegExp(`^Usage: wharf ${command.join(' ')}`, 'm'));
      assert.match(result.stdout, /\nExamples:\n {2}wharf webhook /, result.what);
    }
    const bad = await cli(['webhook', 'add', 'https://x.example/', '--payload', 'xml']);
    assert.equal(bad.code, 2, bad.what);
    assert.match(bad.stderr, /argument 'xml' is invalid.*choices/s);
  });

  it('an event acknowledged while the receiver is down arrives exactly once after kill -9 and a restart, signed', async () => {
    const login = await cli(['login', wharf!.url, '-u', 'admin', '--password-stdin'], ADMIN_PASSWORD);
    assert.equal(login.code, 0, login.what);
    // The receiver's port is chosen now and nothing listens on it yet: the receiver is down.
    const port = await freePort();
    const receiverUrl = `http://127.0.0.1:${port}/hook`;
    const added = await cli(['webhook', 'add', receiverUrl, '--repositories', 'hooks/**', '--events', 'push', '--format', 'json']);
    assert.equal(added.code, 0, added.what);
    const hook = JSON.parse(added.stdout) as { id: number; secret: string };

    const table = await cli(['webhook', 'add', receiverUrl, '--events', 'delete']);
    assert.equal(table.code, 0, table.what);
    assert.match(table.stdout, /^Webhook \d+ sends delete of every namespace \(\*\*\) to http:\/\/127\.0\.0\.1:\d+\/hook\.$/m);
    assert.match(table.stdout, /Signing secret: whsec_[A-Za-z0-9_-]{43}/);
    assert.match(table.stdout, /shown only this once/);
    const second = Number(/^Webhook (\d+)/.exec(table.stdout)![1]);
    const listed = await cli(['webhook', 'list']);
    assert.equal(listed.code, 0, listed.what);
    assert.match(listed.stdout, /^ID\s{3,}URL\s{3,}Namespace\s{3,}Repositories\s{3,}Events\s{3,}Payload\s{3,}Created$/m);
    assert.match(listed.stdout, new RegExp(`^${hook.id}\\s{3,}${receiverUrl.replace(/[./]/g, '\\$&')}\\s{3,}\\(all\\)\\s{3,}hooks/\\*\\*\\s{3,}push\\s{3,}distribution`, 'm'));
    const removed = await cli(['webhook', 'rm', String(second)]);
    assert.equal(removed.code, 0, removed.what);
    assert.equal(removed.stdout, `Removed webhook ${second}.\n`);
    const notThere = await cli(['webhook', 'rm', String(second)]);
    assert.equal(notThere.code, 1, notThere.what);
    assert.match(notThere.stderr, /webhook \d+ is not one of your account's webhooks/);

    const tested = await cli(['webhook', 'test', String(hook.id)]);
    assert.equal(tested.code, 1, tested.what);
    assert.match(tested.stderr, /the test event was not delivered: could not reach the receiver: ECONNREFUSED/);

    const admin = basic({ username: 'admin', password: ADMIN_PASSWORD });
    const image = await pushImage(wharf!.url, 'hooks/app', 'v1', admin);
    await eventually(async () => (await deliveries(hook.id)).some((d) => d.eventType === 'push' && d.attempts >= 1), 'a failed try of the push event', WAIT_MS);
    const before = (await deliveries(hook.id)).find((d) => d.eventType === 'push')!;
    assert.equal(before.state, 'pending');
    assert.match(String(before.lastError), /ECONNREFUSED/);

    wharf!.child.kill('SIGKILL');
    assert.equal((await wharf!.exited).signal, 'SIGKILL');
    receiver = await startReceiver(port);
    wharf = await spawnWharf(env);

    await eventually(async () => receiver!.received.length >= 1, 'the delivery after the restart', WAIT_MS);
    await eventually(async () => (await deliveries(hook.id)).some((d) => d.eventType === 'push' && d.state === 'delivered'), 'the log shows it delivered', WAIT_MS);
    // Another push after the first is delivered: when it arrives, nothing else is on its way before it.
    const later = await pushImage(wharf.url, 'hooks/app', 'v2', admin);
    await eventually(async () => receiver!.received.length >= 2, 'the later push', WAIT_MS);
    const digests = receiver.received.map((d) => (d.json as { events: Array<{ target: { digest: string } }> }).events[0]!.target.digest);
    assert.deepEqual(digests, [image.digest, later.digest], 'the push acknowledged before the kill arrived exactly once, then the later one');
    for (const delivery of receiver.received) {
      assert.ok(verifyDelivery(hook.secret, String(delivery.headers['x-wharf-timestamp']), delivery.body, String(delivery.headers['x-wharf-signature'])), 'signed with the secret shown at creation');
    }
    const log = await cli(['webhook', 'deliveries', String(hook.id)]);
    assert.equal(log.code, 0, log.what);
    assert.match(log.stdout, /^ID\s{3,}Event\s{3,}Repository\s{3,}State\s{3,}Attempts\s{3,}Answer\s{3,}Created\s{3,}Last error$/m);
    assert.match(log.stdout, /\spush\s{3,}hooks\/app\s{3,}delivered\s{3,}\d+\s{3,}200\s/);
    assert.match(log.stdout, /webhook\.test\s{3,}webhook-test\s{3,}failed\s{3,}1\s{3,}-\s{3,}.*ECONNREFUSED/);
    const ok = await send(wharf.url, { method: 'GET', path: '/v2/' }, admin);
    assert.equal(ok.status, 200);
  });
});
