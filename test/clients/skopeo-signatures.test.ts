import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { engines, startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from '../support/server.js';
import { spawn } from 'node:child_process';
import { describeRun, ensureBuilt, runCommand, WHARF_BIN, type CommandResult } from '../support/process.js';
import { OciLayout, singleLayerImage, type BuiltImage } from '../support/oci-layout.js';
import { api, apiJson, basic } from '../support/iam.js';
import type { SignatureVerdict } from '../../src/trust/verify-image.js';

/**
 * Red Hat simple signing with the real client: skopeo (containers/image) signs with Debian's gnupg
 * while copying into Wharf, finds the signature API from X-Registry-Supports-Signatures and stores the
 * signature there with no lookaside (registries.d) configuration; a copy out of Wharf under a policy.json
 * requiring signedBy that key succeeds, under one requiring another key it fails, and Wharf's own
 * verification says the same.
 */

const tools = await Promise.all([runCommand('skopeo', ['--version']), runCommand('gpg', ['--version'])].map((p) => p.then((r) => r.code === 0, () => false)));
const skip = tools.every(Boolean) ? false : 'skopeo and gpg are needed (Debian packages "skopeo" and "gnupg")';

interface Key { fingerprint: string; publicKeyFile: string; armored: string }

function runCommandWithInput(args: string[], input: string, env: NodeJS.ProcessEnv): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

for (const engine of engines()) {
  describe(`skopeo --sign-by into Wharf's signature API [${engine}]`, { skip }, () => {
    let server: TestServer;
    let host: string;
    let work: string;
    let gnupgHome: string;
    let image: BuiltImage;
    let layout: OciLayout;
    let ci: Key;
    let other: Key;
    const admin = basic({ username: 'admin', password: TEST_ADMIN_PASSWORD });
    const creds = `admin:${TEST_ADMIN_PASSWORD}`;

    const env = () => ({ ...process.env, GNUPGHOME: gnupgHome });
    async function run(command: string, args: string[]): Promise<CommandResult> {
      return runCommand(command, args, { env: env(), timeoutMs: 120_000 });
    }
    async function ok(command: string, args: string[]): Promise<CommandResult> {
      const result = await run(command, args);
      assert.equal(result.code, 0, describeRun(command, args, result));
      return result;
    }

    async function makeKey(name: string): Promise<Key> {
      const uid = `${name} <${name}@wharf.example>`;
      await ok('gpg', ['--batch', '--passphrase', '', '--quick-gen-key', uid, 'default', 'default', 'never']);
      const listed = await ok('gpg', ['--batch', '--with-colons', '--list-keys', uid]);
      const fingerprint = listed.stdout.split('\n').find((l) => l.startsWith('fpr:'))!.split(':')[9]!;
      const armored = (await ok('gpg', ['--batch', '--armor', '--export', fingerprint])).stdout;
      const publicKeyFile = path.join(work, `${name}.asc`);
      writeFileSync(publicKeyFile, armored);
      return { fingerprint, publicKeyFile, armored };
    }

    function policyRequiring(key: Key): string {
      const file = path.join(work, `policy-${path.basename(key.publicKeyFile)}.json`);
      writeFileSync(file, JSON.stringify({
        default: [{ type: 'reject' }],
        transports: { docker: { [`${host}/signing`]: [{ type: 'signedBy', keyType: 'GPGKeys', keyPath: key.publicKeyFile }] } },
      }));
      return file;
    }

    before(async () => {
      await ensureBuilt();
      server = await startTestServer(engine, { auth: { enabled: true } });
      host = new URL(server.url).host;
      work = mkdtempSync(path.join(os.tmpdir(), 'wharf-signing-'));
      gnupgHome = path.join(work, 'gnupg');
      mkdirSync(gnupgHome, { mode: 0o700 });
      // No lookaside configuration anywhere: an empty registries.d replaces the system's.
      mkdirSync(path.join(work, 'registries.d'));
      writeFileSync(path.join(work, 'accept.json'), JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
      layout = new OciLayout(path.join(work, 'layout'));
      image = singleLayerImage(layout, 'v1');
      ci = await makeKey('ci');
      other = await makeKey('other');
    });
    after(async () => {
      await server?.stop();
      // gpg-agent started for the throwaway keyring ends with it.
      if (gnupgHome) await runCommand('gpgconf', ['--kill', 'gpg-agent'], { env: env() }).catch(() => undefined);
      if (work) rmSync(work, { recursive: true, force: true });
    });

    it('signs while copying in, stores the signature through /extensions/v2/, and a signedBy pull verifies it; another key\'s policy refuses the image', async () => {
      const registriesD = ['--registries.d', path.join(work, 'registries.d')];
      await ok('skopeo', [...registriesD, '--policy', path.join(work, 'accept.json'), 'copy', '--dest-tls-verify=false', '--dest-creds', creds,
        '--sign-by', ci.fingerprint, `oci:${layout.dir}:v1`, `docker://${host}/signing/app:v1`]);

      const digest = image.root.digest;
      const stored = await server.metadata.db.selectFrom('image_signatures').select(['name', 'manifest_digest']).execute();
      assert.equal(stored.length, 1, 'skopeo stored one signature through the signature API');
      assert.equal(stored[0]!.manifest_digest, digest);
      assert.match(stored[0]!.name, new RegExp(`^${digest}@[0-9a-f]{32}$`));

      const out = path.join(work, 'pulled');
      await ok('skopeo', [...registriesD, '--policy', policyRequiring(ci), 'copy', '--src-tls-verify=false', '--src-creds', creds,
        `docker://${host}/signing/app:v1`, `dir:${out}`]);
      // dir: keeps what it copied: the manifest and the signature skopeo read from Wharf.
      assert.ok(existsSync(path.join(out, 'signature-1')), 'the signature came along with the image');
      const refused = await run('skopeo', [...registriesD, '--policy', policyRequiring(other), 'copy', '--src-tls-verify=false', '--src-creds', creds,
        `docker://${host}/signing/app:v1`, `dir:${path.join(work, 'refused')}`]);
      assert.notEqual(refused.code, 0, 'a policy requiring another key refuses the image');
      assert.match(refused.stderr, /signature|rejected|not accepted/i, refused.stderr);

      // Wharf agrees: with only the other key trusted, the signature is by an unknown key; with ci's, it verifies.
      await apiJson(server.url, 'POST', '/trust/keys', admin, { name: 'other', kind: 'gpg', publicKey: other.armored });
      const before = await apiJson<{ verified: boolean; signatures: SignatureVerdict[] }>(server.url, 'GET', `/images/${encodeURIComponent('signing/app:v1')}/signatures`, admin);
      assert.equal(before.verified, false);
      assert.match(before.signatures[0]!.reason ?? '', new RegExp(`^signed by an unknown key 0x${ci.fingerprint.slice(-16)}`));
      await apiJson(server.url, 'POST', '/trust/keys', admin, { name: 'ci', kind: 'gpg', publicKey: ci.armored, namespace: 'signing' });
      const after = await apiJson<{ verified: boolean; verifiedBy: string[]; signatures: SignatureVerdict[] }>(server.url, 'GET', `/images/${encodeURIComponent('signing/app:v1')}/signatures`, admin);
      assert.deepEqual([after.verified, after.verifiedBy], [true, ['ci']]);
      assert.equal(after.signatures[0]!.identity, `${host}/signing/app:v1`);
      assert.equal(after.signatures[0]!.signer, 'ci <ci@wharf.example>');

      // A second signing copy adds a signature rather than replacing the first (containers/image reads the list first).
      await ok('skopeo', [...registriesD, '--policy', path.join(work, 'accept.json'), 'copy', '--dest-tls-verify=false', '--dest-creds', creds,
        '--sign-by', other.fingerprint, `oci:${layout.dir}:v1`, `docker://${host}/signing/app:v1`]);
      const both = await apiJson<{ verifiedBy: string[] }>(server.url, 'GET', `/images/${encodeURIComponent('signing/app:v1')}/signatures`, admin);
      assert.deepEqual(both.verifiedBy, ['ci', 'other']);
      assert.equal((await api(server.url, 'GET', `/images/${encodeURIComponent('signing/app:v1')}/signatures`)).status, 401);
    });

    it('the wharf CLI adds, lists and removes trusted keys, inspects the signatures, and shows the Signed column', async () => {
      const cliEnv = { PATH: process.env.PATH ?? '', HOME: work, WHARF_CLI_CONFIG: path.join(work, 'cli.json') };
      const wharf = async (...args: string[]) => {
        const result = await runCommand(process.execPath, [WHARF_BIN, ...args], { env: cliEnv, timeoutMs: 60_000 });
        assert.equal(result.code, 0, describeRun('wharf', args, result));
        return result.stdout;
      };
      const login = await runCommandWithInput([WHARF_BIN, 'login', server.url, '-u', 'admin', '--password-stdin'], `${TEST_ADMIN_PASSWORD}\n`, cliEnv);
      assert.equal(login.code, 0, login.stderr);
      await ok('skopeo', ['--policy', path.join(work, 'accept.json'), 'copy', '--dest-tls-verify=false', '--dest-creds', creds,
        '--sign-by', ci.fingerprint, `oci:${layout.dir}:v1`, `docker://${host}/clisign/app:v1`]);
      assert.match(await wharf('trust', 'key', 'add', 'ci-cli', '--file', ci.publicKeyFile, '--namespace', 'clisign'), new RegExp(`^Trusted gpg key ci-cli \\(${ci.fingerprint}\\) for namespace clisign\\.`));
      assert.match(await wharf('trust', 'key', 'list'), /ci-cli +gpg +namespace clisign/);
      const inspected = await wharf('trust', 'inspect', `${host}/clisign/app:v1`);
      assert.match(inspected, new RegExp(`clisign/app@${image.root.digest}: verified by ci-cli`));
      assert.match(inspected, /simple-signing +signature +signature-api +yes +ci-cli +ci <ci@wharf.example>/);
      assert.match(await wharf('image', 'list', '--restrict', 'clisign'), /Signed\n.*yes \(ci-cli\)\n/);
      assert.match(await wharf('trust', 'key', 'rm', 'ci-cli'), /Removed trusted key ci-cli/);
      assert.match(await wharf('image', 'list', '--restrict', 'clisign'), /unverified \(1\)\n/);
      const json = JSON.parse(await wharf('trust', 'inspect', 'clisign/app:v1', '--format', 'json')) as { verified: boolean; signatures: SignatureVerdict[] };
      assert.equal(json.verified, false);
      assert.match(json.signatures[0]!.reason ?? '', /^signed by an unknown key 0x/);
    });
  });
}
