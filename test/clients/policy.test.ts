import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from '../support/server.js';
import { describeRun, ensureBuilt, wharfCli } from '../support/process.js';
import { basic, pushImage, type PushedImage } from '../support/iam.js';
import { admissionReview, workload } from '../support/admission.js';

/**
 * `wharf policy` with the real binary: policies set from options and from a file, shown back, and
 * `wharf policy check` answering with the admission webhook's own message and exit status.
 */
describe('wharf policy (image policies) with the real binary', () => {
  let server: TestServer;
  let host: string;
  let work: string;
  let image: PushedImage;
  const admin = basic({ username: 'admin', password: TEST_ADMIN_PASSWORD });

  const { run: wharf, ok } = wharfCli(() => work);

  before(async () => {
    await ensureBuilt();
    server = await startTestServer('sqlite', { auth: { enabled: true }, scanner: { enabled: false } });
    host = new URL(server.url).host;
    work = mkdtempSync(path.join(os.tmpdir(), 'wharf-policy-'));
    await ok(['login', server.url, '-u', 'admin', '--password-stdin'], TEST_ADMIN_PASSWORD);
    await ok(['namespace', 'add', 'team-a']);
    image = await pushImage(server.url, 'team-a/app', 'v1', admin);
  });
  after(async () => {
    await server?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('shows examples in the --help of each policy command', async () => {
    for (const command of [['policy'], ['policy', 'get'], ['policy', 'set'], ['policy', 'rm'], ['policy', 'check']]) {
      const { stdout } = await ok([...command, '--help']);
      assert.match(stdout, /\nExamples:\n {2}wharf policy /, `examples in the help of wharf ${command.join(' ')}`);
    }
  });

  it('sets a policy from options and from a file, shows it, and refuses a bad one', async () => {
    const set = await ok(['policy', 'set', '--namespace', 'team-a', '--signed-by', 'ci-key', '--max-severity', 'medium', '--max-scan-age', '7', '--require-digest']);
    assert.deepEqual(set.stdout.trimEnd().split('\n').slice(1), [
      '  - signed: a signature by ci-key must verify',
      '  - Vulnerability Advisor: no open issue above medium, scanned within 7 days',
      '  - images named by digest (the mutating webhook pins tags of this registry)',
    ]);
    assert.match(set.stdout, /^Image policy of the namespace team-a \(set by user admin, /);
    const file = path.join(work, 'policy.json');
    writeFileSync(file, JSON.stringify({ namespaces: ['team-a'] }));
    await ok(['policy', 'set', '--account', '--file', file]);
    const json = JSON.parse((await ok(['policy', 'get', '--account', '--format', 'json'])).stdout) as { scope: string; policy: unknown };
    assert.deepEqual([json.scope, json.policy], ['account', { namespaces: ['team-a'] }]);
    const listed = (await ok(['policy', 'get'])).stdout;
    assert.match(listed, /account +repositories of this registry: only team-a/);
    assert.match(listed, /namespace team-a +signed: a signature by ci-key must verify; /);

    const notOperator = await wharf(['policy', 'set', '--account', '--allow-registry', 'docker.io']);
    assert.equal(notOperator.code, 1);
    assert.match(notOperator.stderr, /registries is a rule of the cluster-wide default only \(wharf policy set --cluster\)/);
    const two = await wharf(['policy', 'set', '--account', '--cluster']);
    assert.equal(two.code, 2);
    assert.match(two.stderr, /name one place/);
    const none = await wharf(['policy', 'rm']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /say which policy: wharf policy rm --cluster/);
  });

  it('wharf policy check says what the admission webhook says, and exits 1 on a denial', async () => {
    await ok(['policy', 'set', '--namespace', 'team-a', '--require-digest']);
    const tag = `${host}/team-a/app:v1`;
    const denied = await wharf(['policy', 'check', tag]);
    assert.equal(denied.code, 1, describeRun('wharf', ['policy', 'check'], denied));
    const res = await fetch(`${server.url}/admission/validate`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: admin }, body: JSON.stringify(admissionReview('Pod', workload('Pod', { containers: [{ name: 'web', image: tag }] }))) });
    const webhook = ((await res.json()) as { response: { status: { message: string } } }).response.status.message;
    assert.equal(`wharf: ${webhook.replace(/^container "web": /, '')}\n`, denied.stderr, 'the same message as the webhook');
    assert.match(denied.stderr, new RegExp(`\\[requireDigest\\] images must be named by digest: write ${host}/team-a/app@${image.digest}`));

    const allowed = await ok(['policy', 'check', `${host}/team-a/app@${image.digest}`]);
    assert.equal(allowed.stdout, `image ${host}/team-a/app@${image.digest} is allowed by namespace team-a\n`);
    const hub = await wharf(['policy', 'check', 'team-a/app:v1']);
    assert.equal(hub.code, 1);
    assert.match(hub.stderr, new RegExp(`images from docker\\.io are not allowed.*\\(an image without a host is on Docker Hub: this registry's images are ${host}/<namespace>/<repository>\\)`));
    const json = JSON.parse((await wharf(['policy', 'check', tag, '--format', 'json'])).stdout) as { allowed: boolean; failures: Array<{ rule: string }> };
    assert.deepEqual([json.allowed, json.failures.map((f) => f.rule)], [false, ['requireDigest']]);
  });
});
