import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createAccount } from '../../src/iam/accounts.js';
import { findNamespace } from '../../src/metadata/namespaces.js';
import { engines, startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from '../support/server.js';
import { describeRun, runCommand, type CommandResult } from '../support/process.js';
import { OciLayout, blobPath, reachableDigests, resolveTag, singleLayerImage, type BuiltImage } from '../support/oci-layout.js';

/**
 * Logging in with real clients (issue 5): `skopeo login` and `podman login` with a password and with
 * `iamapikey` + an API key store credentials in a throwaway auth file, and later pushes and pulls use
 * them through Wharf's Docker token flow. A service ID with Writer on one namespace pushes there and
 * nowhere else; another tenant's Manager sees A's image exactly as a repository that does not exist;
 * anonymous clients see nothing until the namespace is public-pull, and then may pull but never push.
 */

const skopeoVersion = await runCommand('skopeo', ['--version']).then((r) => (r.code === 0 ? r.stdout.trim() : undefined), () => undefined);
const skipSkopeo = skopeoVersion ? false : 'skopeo is not installed (Debian package "skopeo")';

function storageFlags(dir: string): string[] {
  return ['--root', path.join(dir, 'root'), '--runroot', path.join(dir, 'run'), '--storage-driver', 'vfs', '--events-backend', 'none'];
}
async function podmanUnavailable(): Promise<string | undefined> {
  const probe = path.join(os.tmpdir(), `wharf-podman-probe-${randomBytes(6).toString('hex')}`);
  try {
    const result = await runCommand('podman', [...storageFlags(probe), 'info', '--format', '{{.Store.GraphDriverName}}'], { timeoutMs: 60_000 });
    if (result.code !== 0) return `podman info fails in this sandbox: ${(result.stderr || result.stdout).trim().split('\n').slice(-3).join(' | ')}`;
    return result.stdout.trim() === 'vfs' ? undefined : `podman info reports storage driver "${result.stdout.trim()}", not vfs`;
  } catch (err) {
    return `podman is not installed (Debian package "podman"): ${(err as Error).message}`;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}
const podmanSkip = skipSkopeo ? 'skopeo is needed too' : (await podmanUnavailable()) ?? false;

const basic = (username: string, password: string): string => `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

/** skopeo's last `level=fatal msg="..."` line without its timestamp, with the given names replaced. */
function failureText(result: CommandResult, replace: Record<string, string> = {}): string {
  const text = result.stderr.replace(/time="[^"]*" /g, '').trim();
  return Object.entries(replace).reduce((t, [from, to]) => t.split(from).join(to), text);
}

for (const engine of engines()) {
  describe(`${skopeoVersion ?? 'skopeo'} / podman login against Wharf with authentication [${engine}]`, { skip: skipSkopeo }, () => {
    let server: TestServer;
    let host: string;
    let work: string;
    let layout: OciLayout;
    let image: BuiltImage;
    let other: BuiltImage;
    const adminAuth = basic('admin', TEST_ADMIN_PASSWORD);
    let files = 0;
    const newFile = (name: string): string => path.join(work, `${name}-${++files}`);
    /** An auth file with no credentials at all (podman refuses an --authfile that does not exist). */
    let anonymousAuth: string;

    /** skopeo with its auth file pinned to `authfile` (flag and REGISTRY_AUTH_FILE), never the real home's. */
    async function skopeo(authfile: string, ...args: string[]): Promise<CommandResult> {
      const [command, ...rest] = args;
      return runCommand('skopeo', [command!, '--authfile', authfile, ...rest], { timeoutMs: 60_000, env: { ...process.env, REGISTRY_AUTH_FILE: authfile } });
    }
    async function skopeoOk(authfile: string, ...args: string[]): Promise<CommandResult> {
      const result = await skopeo(authfile, ...args);
      assert.equal(result.code, 0, describeRun('skopeo', args, result));
      return result;
    }
    async function skopeoFails(authfile: string, ...args: string[]): Promise<CommandResult> {
      const result = await skopeo(authfile, ...args);
      assert.notEqual(result.code, 0, `expected failure: ${describeRun('skopeo', args, result)}`);
      return result;
    }
    async function login(username: string, password: string): Promise<string> {
      const authfile = newFile('auth.json');
      const result = await skopeoOk(authfile, 'login', '--tls-verify=false', '-u', username, '-p', password, host);
      assert.match(result.stdout, /Login Succeeded/);
      const stored = JSON.parse(readFileSync(authfile, 'utf8')) as { auths: Record<string, { auth: string }> };
      assert.equal(Buffer.from(stored.auths[host]!.auth, 'base64').toString(), `${username}:${password}`, 'skopeo login stored the credentials in the given auth file');
      return authfile;
    }
    const push = (authfile: string, ref: string) => skopeo(authfile, 'copy', '--preserve-digests', '--dest-tls-verify=false', `oci:${layout.dir}:${image.tag}`, `docker://${host}/${ref}`);
    const pull = (authfile: string, ref: string) => skopeo(authfile, 'copy', '--preserve-digests', '--src-tls-verify=false', `docker://${host}/${ref}`, `oci:${newFile('out')}:${image.tag}`);

    /** Pulls `ref` into a fresh layout and checks it is the built image, blob for blob. */
    async function pullIdentical(authfile: string, ref: string): Promise<void> {
      const out = newFile('out');
      await skopeoOk(authfile, 'copy', '--preserve-digests', '--src-tls-verify=false', `docker://${host}/${ref}`, `oci:${out}:${image.tag}`);
      assert.equal(resolveTag(out, image.tag).digest, image.root.digest, 'pulled manifest digest is the pushed one');
      const digests = reachableDigests(out, image.root.digest);
      assert.deepEqual(digests, [...image.digests].sort());
      for (const digest of digests) {
        assert.ok(readFileSync(blobPath(out, digest)).equals(readFileSync(blobPath(layout.dir, digest))), `${digest} byte-identical`);
      }
    }
    async function pushOk(authfile: string, ref: string): Promise<void> {
      const result = await push(authfile, ref);
      assert.equal(result.code, 0, describeRun('skopeo', ['copy', '…', ref], result));
    }

    async function api(method: string, route: string, authorization: string, body?: unknown, status = method === 'POST' ? 201 : 200): Promise<unknown> {
      const res = await fetch(`${server.url}/api/v1${route}`, {
        method, headers: { Authorization: authorization, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      assert.equal(res.status, status, `${method} ${route}: ${text}`);
      return text ? JSON.parse(text) : undefined;
    }

    before(async () => {
      server = await startTestServer(engine, { auth: { enabled: true } });
      host = new URL(server.url).host;
      work = path.join(os.tmpdir(), `wharf-login-${randomBytes(6).toString('hex')}`);
      mkdirSync(work);
      anonymousAuth = path.join(work, 'no-auth.json');
      writeFileSync(anonymousAuth, JSON.stringify({ auths: {} }));
      layout = new OciLayout(path.join(work, 'layout'));
      image = singleLayerImage(layout, 'app');
      other = singleLayerImage(layout, 'other');
      for (const name of ['logins', 'ci-ns', 'other-ns', 'public-ns']) await api('POST', '/namespaces', adminAuth, { name });
    });
    after(async () => {
      await server?.stop();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    it('skopeo login with a password, then copy in and out with the stored credentials; a wrong password fails to log in', async () => {
      const authfile = await login('admin', TEST_ADMIN_PASSWORD);
      await pushOk(authfile, 'logins/password:1');
      await pullIdentical(authfile, 'logins/password:1');

      const wrongFile = newFile('auth.json');
      const wrong = await skopeoFails(wrongFile, 'login', '--tls-verify=false', '-u', 'admin', '-p', 'not-the-password', host);
      assert.match(failureText(wrong), /unauthorized|invalid username\/password/i);
      assert.ok(!existsSync(wrongFile) || !readFileSync(wrongFile, 'utf8').includes(host), 'nothing stored for a refused login');

      // Without credentials nothing gets in.
      const anonymous = await push(anonymousAuth, 'logins/password:2');
      assert.notEqual(anonymous.code, 0);
      assert.match(failureText(anonymous), /unauthorized|authentication required/i);

      // skopeo logout forgets them: the same auth file no longer pushes.
      await skopeoOk(authfile, 'logout', host);
      assert.ok(!readFileSync(authfile, 'utf8').includes(host), 'logout removed the entry');
      const loggedOut = await push(authfile, 'logins/password:3');
      assert.notEqual(loggedOut.code, 0);
      assert.match(failureText(loggedOut), /unauthorized|authentication required/i);
    });

    it('skopeo login as iamapikey with an API key, push and pull; once the key is revoked the next copy fails', async () => {
      const key = await api('POST', '/iam/api-keys', adminAuth, { description: 'skopeo login test' }) as { id: number; apiKey: string };
      const authfile = await login('iamapikey', key.apiKey);
      await pushOk(authfile, 'logins/apikey:1');
      await pullIdentical(authfile, 'logins/apikey:1');

      await api('DELETE', `/iam/api-keys/${key.id}`, adminAuth, undefined, 204);
      const pushAfter = await push(authfile, 'logins/apikey:2');
      assert.notEqual(pushAfter.code, 0, 'push with a revoked key fails');
      assert.match(failureText(pushAfter), /unauthorized|invalid username\/password/i);
      const pullAfter = await pull(authfile, 'logins/apikey:1');
      assert.notEqual(pullAfter.code, 0, 'pull with a revoked key fails');
      assert.match(failureText(pullAfter), /unauthorized|invalid username\/password/i);
      const again = await skopeoFails(newFile('auth.json'), 'login', '--tls-verify=false', '-u', 'iamapikey', '-p', key.apiKey, host);
      assert.match(failureText(again), /unauthorized|invalid username\/password/i);
    });

    it('a service ID with Writer on ci-ns pushes there, lists its tags, and is denied push and pull on other-ns of the same account', async () => {
      await pushOk(await login('admin', TEST_ADMIN_PASSWORD), 'other-ns/app:1');
      const service = await api('POST', '/iam/service-ids', adminAuth, { name: 'ci-bot', description: 'pipeline' }) as { id: number };
      await api('POST', '/iam/policies', adminAuth, { subject: `service:${service.id}`, role: 'Writer', namespace: 'ci-ns' });
      const key = await api('POST', '/iam/api-keys', adminAuth, { description: 'ci-bot key', serviceId: service.id }) as { apiKey: string };
      const authfile = await login('iamapikey', key.apiKey);

      await pushOk(authfile, 'ci-ns/app:1');
      await pushOk(authfile, 'ci-ns/app:2');
      const tags = JSON.parse((await skopeoOk(authfile, 'list-tags', '--tls-verify=false', `docker://${host}/ci-ns/app`)).stdout) as { Tags: string[] };
      assert.deepEqual([...tags.Tags].sort(), ['1', '2']);
      await pullIdentical(authfile, 'ci-ns/app:1');

      const pushOther = await push(authfile, 'other-ns/app:1');
      assert.notEqual(pushOther.code, 0, 'push to other-ns is refused');
      assert.match(failureText(pushOther), /denied|unauthorized|forbidden/i);
      const pushNew = await push(authfile, 'other-ns/newrepo:1');
      assert.notEqual(pushNew.code, 0, 'push to a new repository of other-ns is refused');
      assert.match(failureText(pushNew), /denied|unauthorized|forbidden/i);
      const pullOther = await pull(authfile, 'other-ns/app:1');
      assert.notEqual(pullOther.code, 0, 'pull from other-ns is refused');
      assert.match(failureText(pullOther), /denied|unauthorized|forbidden/i);
      const listOther = await skopeo(authfile, 'list-tags', '--tls-verify=false', `docker://${host}/other-ns/app`);
      assert.notEqual(listOther.code, 0, 'tags of other-ns are not listed');

      // Nothing landed in other-ns.
      const res = await fetch(`${server.url}/v2/other-ns/app/tags/list`, { headers: { Authorization: adminAuth } });
      assert.deepEqual((await res.json() as { tags: string[] }).tags, ['1']);
    });

    it('another account\'s Manager cannot pull account A\'s image: skopeo fails exactly as for a repository that does not exist', async () => {
      await pushOk(await login('admin', TEST_ADMIN_PASSWORD), 'logins/secret:1');
      await createAccount(server.metadata.db, { name: 'tenant-b', ownerUsername: 'bowner', ownerPassword: 'bowner-password-0123' }, Date.now());
      const bOwner = basic('bowner', 'bowner-password-0123');
      const manager = await api('POST', '/iam/users', bOwner, { username: 'bmanager', password: 'bmanager-password-0123' }) as { id: number };
      await api('POST', '/iam/policies', bOwner, { subject: `user:${manager.id}`, role: 'Manager' });
      const authfile = await login('bmanager', 'bmanager-password-0123');

      // Same-length names, so not even a length in a message differs.
      const existing = 'logins/secret';
      const missing = 'nosuch/secret';
      const cases: Array<[string, (repo: string) => Promise<CommandResult>]> = [
        ['copy', (repo) => pull(authfile, `${repo}:1`)],
        ['inspect', (repo) => skopeo(authfile, 'inspect', '--tls-verify=false', `docker://${host}/${repo}:1`)],
        ['inspect --raw by digest', (repo) => skopeo(authfile, 'inspect', '--raw', '--tls-verify=false', `docker://${host}/${repo}@${image.root.digest}`)],
        ['list-tags', (repo) => skopeo(authfile, 'list-tags', '--tls-verify=false', `docker://${host}/${repo}`)],
      ];
      for (const [what, run] of cases) {
        const a = await run(existing);
        const none = await run(missing);
        assert.notEqual(a.code, 0, `${what} of A's image fails for B: ${a.stdout}`);
        assert.equal(a.code, none.code, `${what}: same exit status`);
        assert.equal(failureText(a, { [existing]: '<repo>' }), failureText(none, { [missing]: '<repo>' }), `${what}: same message`);
        // A Manager could create namespaces, so for B's Manager A's repository is one that does not exist.
        assert.match(failureText(a), /unknown|not known|not found/i);
      }
      // Nor can B's Manager push into A's namespace.
      const intrude = await push(authfile, 'logins/secret:2');
      assert.notEqual(intrude.code, 0);
      assert.match(failureText(intrude), /denied|unauthorized|forbidden/i);
    });

    it('skopeo\'s first push to a free name creates the namespace in the Manager\'s account; a name the rules forbid is refused with the rule', async () => {
      const authfile = await login('admin', TEST_ADMIN_PASSWORD);
      // skopeo looks for each blob (HEAD) before uploading it: that look finds nothing and creates nothing.
      await pushOk(authfile, 'fresh-skopeo/app:1');
      assert.equal((await findNamespace(server.metadata.db, 'fresh-skopeo'))?.account_id, (await findNamespace(server.metadata.db, 'logins'))?.account_id);
      await pullIdentical(authfile, 'fresh-skopeo/app:1');
      const refused = await push(authfile, 'ab/app:1');
      assert.notEqual(refused.code, 0);
      // (skopeo prints the message inside a quoted string, so its own quotes come escaped.)
      assert.match(failureText(refused), /name invalid: namespace name \\?"ab\\?" must be at least 4 characters long/);
      assert.equal(await findNamespace(server.metadata.db, 'ab'), undefined);
    });

    it('anonymous skopeo sees nothing in a private namespace; once it is public-pull it may inspect and copy out, never push', async () => {
      await pushOk(await login('admin', TEST_ADMIN_PASSWORD), 'public-ns/app:1');
      const ref = `docker://${host}/public-ns/app:1`;
      const hidden = await skopeoFails(anonymousAuth, 'inspect', '--tls-verify=false', ref);
      assert.match(failureText(hidden), /unauthorized|authentication required|denied|forbidden/i);
      assert.notEqual((await pull(anonymousAuth, 'public-ns/app:1')).code, 0);

      assert.deepEqual(await api('PATCH', '/namespaces/public-ns', adminAuth, { publicPull: true }), { name: 'public-ns', publicPull: true });
      const info = JSON.parse((await skopeoOk(anonymousAuth, 'inspect', '--tls-verify=false', ref)).stdout) as { Digest: string };
      assert.equal(info.Digest, image.root.digest);
      await pullIdentical(anonymousAuth, 'public-ns/app:1');
      const tags = JSON.parse((await skopeoOk(anonymousAuth, 'list-tags', '--tls-verify=false', `docker://${host}/public-ns/app`)).stdout) as { Tags: string[] };
      assert.deepEqual(tags.Tags, ['1']);

      // Pushing the same image under a new tag gets as far as the manifest (its blobs are already
      // there and readable); a different image fails at its first blob.
      const anonymousTag = await push(anonymousAuth, 'public-ns/app:2');
      assert.notEqual(anonymousTag.code, 0, 'anonymous push to a public-pull namespace fails');
      assert.match(failureText(anonymousTag), /unauthorized|authentication required|denied|forbidden/i);
      const anonymousImage = await skopeo(anonymousAuth, 'copy', '--dest-tls-verify=false', `oci:${layout.dir}:${other.tag}`, `docker://${host}/public-ns/app:1`);
      assert.notEqual(anonymousImage.code, 0, 'anonymous push of another image over an existing tag fails');
      assert.match(failureText(anonymousImage), /unauthorized|authentication required|denied|forbidden/i);
      const afterPush = await fetch(`${server.url}/v2/public-ns/app/tags/list`);
      assert.deepEqual((await afterPush.json() as { tags: string[] }).tags, ['1'], 'no tag was added');
      const manifest = await fetch(`${server.url}/v2/public-ns/app/manifests/1`, { method: 'HEAD', headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
      assert.equal(manifest.headers.get('docker-content-digest'), image.root.digest, 'the tag still names the pushed image');
      // Other namespaces stay private.
      assert.notEqual((await skopeo(anonymousAuth, 'inspect', '--tls-verify=false', `docker://${host}/logins/password:1`)).code, 0);
    });

    describe('podman login', { skip: podmanSkip }, () => {
      let storage: string;
      async function podman(...args: string[]): Promise<CommandResult> {
        return runCommand('podman', [...storageFlags(storage), ...args], { timeoutMs: 90_000 });
      }
      async function podmanOk(...args: string[]): Promise<string> {
        const result = await podman(...args);
        assert.equal(result.code, 0, describeRun('podman', args, result));
        return result.stdout.trim();
      }
      async function podmanLogin(username: string, password: string): Promise<string> {
        const authfile = newFile('podman-auth.json');
        const out = await podmanOk('login', '--tls-verify=false', '--authfile', authfile, '-u', username, '-p', password, host);
        assert.match(out, /Login Succeeded/);
        return authfile;
      }

      before(async () => {
        storage = path.join(work, 'storage');
      });
      after(async () => {
        if (storage) await podman('rmi', '--all', '--force').catch(() => undefined);
      });

      it('podman login with a password and as iamapikey; each pushes and pulls back the same image', async () => {
        const key = await api('POST', '/iam/api-keys', adminAuth, { description: 'podman login test' }) as { apiKey: string };
        const withPassword = await podmanLogin('admin', TEST_ADMIN_PASSWORD);
        const withKey = await podmanLogin('iamapikey', key.apiKey);
        const wrong = await podman('login', '--tls-verify=false', '--authfile', newFile('podman-auth.json'), '-u', 'admin', '-p', 'not-the-password', host);
        assert.notEqual(wrong.code, 0);
        assert.match(wrong.stderr, /unauthorized|invalid username\/password/i);

        await podmanOk('pull', `oci:${layout.dir}:${image.tag}`);
        const configHex = image.config!.digest.slice('sha256:'.length);
        for (const [authfile, repo] of [[withPassword, `${host}/logins/podman-password`], [withKey, `${host}/logins/podman-apikey`]] as const) {
          const ref = `${repo}:1`;
          await podmanOk('tag', configHex, ref);
          const digestFile = newFile('digest');
          await podmanOk('push', '--tls-verify=false', '--authfile', authfile, '--digestfile', digestFile, ref);
          const pushed = readFileSync(digestFile, 'utf8').trim();
          assert.match(pushed, /^sha256:[a-f0-9]{64}$/);
          const anonymous = await podman('push', '--tls-verify=false', '--authfile', anonymousAuth, configHex, `docker://${repo}:anon`);
          assert.notEqual(anonymous.code, 0, 'podman push without credentials fails');
          assert.match(anonymous.stderr, /unauthorized|authentication required/i);
          await podmanOk('rmi', '--all', '--force');

          await podmanOk('pull', '--tls-verify=false', '--authfile', authfile, ref);
          const inspected = JSON.parse(await podmanOk('image', 'inspect', ref)) as Array<{ Id: string; Digest: string }>;
          assert.equal(inspected[0]!.Id, configHex, 'pulled back the same image (config digest)');
          assert.equal(inspected[0]!.Digest, pushed, 'pulled the manifest podman pushed');
          await podmanOk('rmi', '--all', '--force');
          await podmanOk('pull', `oci:${layout.dir}:${image.tag}`);
        }
      });
    });
  });
}
