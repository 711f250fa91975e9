import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from '../support/server.js';
import { type CommandResult, describeRun, ensureBuilt, runCommand, wharfCli } from '../support/process.js';
import { OciLayout, singleLayerImage, type BuiltImage } from '../support/oci-layout.js';

/**
 * Immutable tags as users meet them: rules set with the real `wharf` binary, pushes by skopeo
 * (containers/image) whose re-push of the same image passes and whose overwrite is refused with a
 * message a person can act on.
 */

const skopeoVersion = await runCommand('skopeo', ['--version']).then((r) => (r.code === 0 ? r.stdout.trim() : undefined), () => undefined);
const NS = 'frozen-team';

describe('immutable tags with skopeo and the wharf CLI', { skip: skopeoVersion ? false : 'skopeo is not installed (Debian package "skopeo")' }, () => {
  let server: TestServer;
  let host: string;
  let work: string;
  let layout: OciLayout;
  let first: BuiltImage;
  let second: BuiltImage;

  const { run: wharf, ok } = wharfCli(() => work);

  function push(image: BuiltImage, tag: string, repo = 'app'): Promise<CommandResult> {
    return runCommand('skopeo', ['copy', '--dest-tls-verify=false', '--dest-creds', `admin:${TEST_ADMIN_PASSWORD}`, `oci:${layout.dir}:${image.tag}`, `docker://${host}/${NS}/${repo}:${tag}`], { timeoutMs: 60_000 });
  }

  before(async () => {
    await ensureBuilt();
    server = await startTestServer('sqlite', { auth: { enabled: true } });
    host = new URL(server.url).host;
    work = mkdtempSync(path.join(os.tmpdir(), 'wharf-immutable-'));
    layout = new OciLayout(path.join(work, 'layout'));
    first = singleLayerImage(layout, 'first');
    second = singleLayerImage(layout, 'second');
    await ok(['login', server.url, '-u', 'admin', '--password-stdin'], TEST_ADMIN_PASSWORD);
    await ok(['namespace', 'add', NS]);
  });

  after(async () => {
    await server?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('shows examples in the --help of each immutability command', async () => {
    for (const command of [['immutability'], ['immutability', 'get'], ['immutability', 'set'], ['immutability', 'clear']]) {
      const { stdout } = await ok([...command, '--help']);
      assert.match(stdout, new RegExp(`^Usage: wharf ${command.join(' ')}`, 'm'));
      assert.match(stdout, /\nExamples:\n {2}wharf immutability /, `examples in the help of wharf ${command.join(' ')}`);
    }
  });

  it('wharf immutability set/get/clear shows the rules and refuses a malformed one', async () => {
    const set = await ok(['immutability', 'set', NS, 'v*', 'frozen*:**']);
    const lines = set.stdout.trimEnd().split('\n');
    assert.equal(lines[0], `Tags of ${NS} that cannot be moved or deleted once they exist:`);
    assert.deepEqual(lines.slice(2).map((l) => l.split(/ {3,}/)), [['**', 'v*'], ['frozen*', '**']]);
    const json = JSON.parse((await ok(['immutability', 'get', NS, '--format', 'json'])).stdout) as { rules: unknown };
    assert.deepEqual(json.rules, [{ repository: '**', tags: 'v*' }, { repository: 'frozen*', tags: '**' }]);
    const bad = await wharf(['immutability', 'set', NS, 'a:b:c']);
    assert.equal(bad.code, 2, describeRun('wharf', ['immutability', 'set'], bad));
    assert.match(bad.stderr, /"a:b:c" is not a rule: give TAGS/);
    const badGlob = await wharf(['immutability', 'set', NS, 'v{1']);
    assert.equal(badGlob.code, 1, describeRun('wharf', ['immutability', 'set'], badGlob));
    assert.match(badGlob.stderr, /"v\{1" opens a brace it never closes/);
    assert.deepEqual((JSON.parse((await ok(['immutability', 'get', NS, '--format', 'json'])).stdout) as { rules: unknown }).rules, json.rules, 'a refused change changes nothing');
  });

  it('skopeo re-pushes the same image to an immutable tag; an overwrite is refused with a readable message', async () => {
    await ok(['immutability', 'set', NS, 'v*']);
    const pushed = await push(first, 'v1');
    assert.equal(pushed.code, 0, describeRun('skopeo', ['copy', 'first', 'v1'], pushed));
    const again = await push(first, 'v1');
    assert.equal(again.code, 0, describeRun('skopeo', ['copy', 'first', 'v1 again'], again));
    const overwrite = await push(second, 'v1');
    assert.notEqual(overwrite.code, 0, 'the overwrite fails');
    assert.match(overwrite.stderr, new RegExp(`tag v1 of ${NS}/app is immutable and already points at sha256:[0-9a-f]{64}: push the image under a new tag instead`));
    assert.match(overwrite.stderr, /immutability rule: tags 'v\*'/);
    const [inspect] = JSON.parse((await ok(['image', 'inspect', `${NS}/app:v1`])).stdout) as Array<{ digest: string }>;
    assert.equal(inspect!.digest, first.root.digest, 'the tag still names the first image');
    const newTag = await push(second, 'v2');
    assert.equal(newTag.code, 0, describeRun('skopeo', ['copy', 'second', 'v2'], newTag));
  });

  it('wharf image rm of an immutable tag or its image fails and says why; clearing the rules lets it go', async () => {
    const untag = await wharf(['image', 'rm', `${NS}/app:v1`]);
    assert.equal(untag.code, 1, describeRun('wharf', ['image', 'rm'], untag));
    assert.match(untag.stderr, new RegExp(`tag v1 of ${NS}/app is immutable and cannot be deleted`));
    const byDigest = await wharf(['image', 'rm', `${NS}/app@${first.root.digest}`]);
    assert.equal(byDigest.code, 1, describeRun('wharf', ['image', 'rm'], byDigest));
    assert.match(byDigest.stderr, /is held by immutable tag v1 and cannot be deleted.*wharf immutability set/);
    assert.match((await ok(['immutability', 'clear', NS])).stdout, new RegExp(`^No immutable tags in ${NS}`));
    assert.match((await ok(['image', 'rm', `${NS}/app:v1`])).stdout, /^Untagged /);
  });
});
