import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Agent, fetch } from 'undici';
import { engines, startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from '../support/server.js';
import { describeRun, runCommand, spawnWharf, WHARF_BIN, type WharfProcess } from '../support/process.js';
import { issueServerCertificate, makeCa, opensslMissing, servedCertificate, type ServerCertificate, type TestCa } from '../support/tls.js';
import { OciLayout, blobPath, reachableDigests, resolveTag, singleLayerImage, multiLayerImage } from '../support/oci-layout.js';

/**
 * Native TLS with real programs: skopeo pushing to and pulling from Wharf over HTTPS with a private
 * CA given by --cert-dir, and the `wharf serve` binary refusing a certificate it cannot serve and
 * picking up a renewed one on SIGHUP.
 */

const skopeoVersion = await runCommand('skopeo', ['--version']).then((r) => (r.code === 0 ? r.stdout.trim() : undefined), () => undefined);

let work: string;
let ca: TestCa;
let served: ServerCertificate;
/** A directory holding only the CA certificate, as /etc/containers/certs.d/<host:port>/ would. */
let certDir: string;
before(async () => {
  if (opensslMissing) return;
  work = mkdtempSync(path.join(os.tmpdir(), 'wharf-tls-clients-'));
  ca = await makeCa(work);
  served = await issueServerCertificate(ca, 'server');
  certDir = path.join(work, 'certs.d');
  mkdirSync(certDir);
  copyFileSync(ca.certFile, path.join(certDir, 'ca.crt'));
});
after(() => { if (work) rmSync(work, { recursive: true, force: true }); });

for (const engine of engines()) {
  describe(`${skopeoVersion ?? 'skopeo'} against Wharf over HTTPS [${engine}]`, { skip: opensslMissing || (skopeoVersion ? false : 'skopeo is not installed (Debian package "skopeo")') }, () => {
    let server: TestServer;
    let host: string;
    let layout: OciLayout;
    before(async () => {
      server = await startTestServer(engine, { http: { tlsCert: served.certFile, tlsKey: served.keyFile } });
      host = new URL(server.url).host;
      layout = new OciLayout(path.join(work, `layout-${engine}`));
    });
    after(async () => { await server?.stop(); });

    it('copies an image in with --dest-cert-dir and back out with --src-cert-dir, byte for byte', async () => {
      const image = multiLayerImage(layout, 'multi', 2);
      const push = ['copy', '--preserve-digests', '--dest-cert-dir', certDir, `oci:${layout.dir}:${image.tag}`, `docker://${host}/tls/multi:${image.tag}`];
      const pushed = await runCommand('skopeo', push, { timeoutMs: 120_000 });
      assert.equal(pushed.code, 0, describeRun('skopeo', push, pushed));

      const out = path.join(work, `out-${engine}`);
      const pull = ['copy', '--preserve-digests', '--src-cert-dir', certDir, `docker://${host}/tls/multi:${image.tag}`, `oci:${out}:${image.tag}`];
      const pulled = await runCommand('skopeo', pull, { timeoutMs: 120_000 });
      assert.equal(pulled.code, 0, describeRun('skopeo', pull, pulled));
      assert.equal(resolveTag(out, image.tag).digest, image.root.digest, 'the pulled tag names the pushed manifest');
      const original = reachableDigests(layout.dir, image.root.digest);
      assert.deepEqual(reachableDigests(out, image.root.digest), original, 'same graph of blobs');
      for (const digest of original) {
        assert.ok(readFileSync(blobPath(out, digest)).equals(readFileSync(blobPath(layout.dir, digest))), `${digest} is byte-identical after the round trip`);
      }
    });

    it('without the CA, skopeo refuses the certificate (the connection really is verified TLS)', async () => {
      const image = singleLayerImage(layout, 'single');
      const empty = path.join(work, `no-ca-${engine}`);
      mkdirSync(empty, { recursive: true });
      const push = ['copy', '--dest-cert-dir', empty, `oci:${layout.dir}:${image.tag}`, `docker://${host}/tls/single:${image.tag}`];
      const result = await runCommand('skopeo', push, { timeoutMs: 120_000 });
      assert.notEqual(result.code, 0, describeRun('skopeo', push, result));
      assert.match(result.stderr, /x509: certificate signed by unknown authority|certificate is not trusted/, describeRun('skopeo', push, result));
    });
  });
}

describe('logging in to Wharf over HTTPS (authentication on)', { skip: opensslMissing }, () => {
  let server: TestServer;
  let home: string;
  before(async () => {
    server = await startTestServer('sqlite', { http: { tlsCert: served.certFile, tlsKey: served.keyFile }, auth: { enabled: true } });
    home = path.join(work, 'home');
    mkdirSync(home, { recursive: true });
  });
  after(async () => { await server?.stop(); });

  /** `wharf <args>` with the administrator's password on standard input (runCommand gives none). */
  const wharf = (args: string[], env: Record<string, string> = {}) => runCommand('sh', ['-c', 'printf \'%s\\n\' "$PW" | "$NODE" "$@"', 'sh', WHARF_BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: home, WHARF_CLI_CONFIG: path.join(home, 'wharf.json'), PW: TEST_ADMIN_PASSWORD, NODE: process.execPath, ...env },
    timeoutMs: 60_000,
  }).then((result) => ({ ...result, what: describeRun('wharf', args, result) }));

  it('the token realm clients are sent to is https://', async () => {
    const agent = new Agent({ connect: { ca: ca.cert } });
    try {
      const res = await fetch(`${server.url}/v2/`, { dispatcher: agent });
      assert.equal(res.status, 401);
      assert.match(res.headers.get('www-authenticate') ?? '', new RegExp(`realm="${server.url.replace(/\./g, '\\.')}/`));
    } finally {
      await agent.close();
    }
  });

  it('wharf login trusts a private CA given with NODE_EXTRA_CA_CERTS, and says so when it is missing', async () => {
    const untrusted = await wharf(['login', server.url, '-u', 'admin', '--password-stdin']);
    assert.equal(untrusted.code, 1, untrusted.what);
    assert.match(untrusted.stderr, /the certificate of the registry at https:\/\/127\.0\.0\.1:\d+ is not trusted .*NODE_EXTRA_CA_CERTS=/, untrusted.what);

    const plain = await wharf(['login', server.url.replace('https:', 'http:'), '-u', 'admin', '--password-stdin']);
    assert.equal(plain.code, 1, plain.what);
    assert.match(plain.stderr, /cannot reach the registry at http:\/\/127\.0\.0\.1:\d+ .*if it serves HTTPS, use an https:\/\/ URL/, plain.what);

    const login = await wharf(['login', server.url, '-u', 'admin', '--password-stdin'], { NODE_EXTRA_CA_CERTS: ca.certFile });
    assert.equal(login.code, 0, login.what);
    const whoami = await wharf(['whoami'], { NODE_EXTRA_CA_CERTS: ca.certFile });
    assert.equal(whoami.code, 0, whoami.what);
    assert.match(whoami.stdout, /admin/);
  });
});

/** `wharf serve` with the given settings; never reaches the point of listening in these tests. */
function serve(env: Record<string, string>) {
  const args = [WHARF_BIN, 'serve'];
  return runCommand(process.execPath, args, {
    env: { PATH: process.env.PATH ?? '', WHARF_HTTP_HOST: '127.0.0.1', WHARF_HTTP_PORT: '0', WHARF_SCANNER_ENABLED: 'false', WHARF_STORAGE_DATA_DIR: path.join(work, 'never'), ...env },
    timeoutMs: 120_000,
  }).then((result) => ({ ...result, what: describeRun('wharf', args.slice(1), result) }));
}

describe('wharf serve with http.tlsCert and http.tlsKey', { skip: opensslMissing }, () => {
  it('a certificate without its key is refused before the start, naming the missing setting', async () => {
    const result = await serve({ WHARF_HTTP_TLS_CERT: served.certFile });
    assert.equal(result.code, 2, result.what);
    assert.match(result.stderr, /http\.tlsKey \(WHARF_HTTP_TLS_KEY\): is required when http\.tlsCert is set: HTTPS needs both the certificate and its private key/, result.what);
  });

  it('a key that does not match the certificate is refused at start with what to do, and nothing is created', async () => {
    const other = await issueServerCertificate(ca, 'stranger');
    const result = await serve({ WHARF_HTTP_TLS_CERT: served.certFile, WHARF_HTTP_TLS_KEY: other.keyFile });
    assert.equal(result.code, 1, result.what);
    assert.match(result.stderr, /^wharf: http\.tlsKey \(WHARF_HTTP_TLS_KEY\) \S+stranger\.key is not the private key of the certificate in http\.tlsCert \(WHARF_HTTP_TLS_CERT\) \S+server\.crt .*Give the key the certificate was issued for/m, result.what);
    assert.doesNotMatch(result.stderr, /ERR_OSSL|KEY_VALUES_MISMATCH/, 'not the bare OpenSSL error');
    assert.equal(existsSync(path.join(work, 'never')), false, 'not even the data directory was created');
  });

  it('SIGHUP serves a renewed certificate to new connections without a restart; a broken renewal keeps the one in use', async () => {
    // The files the server is configured with, replaced the way certbot and cert-manager do: by rename.
    const live = path.join(work, 'live');
    mkdirSync(live, { recursive: true });
    const certFile = path.join(live, 'tls.crt');
    const keyFile = path.join(live, 'tls.key');
    const first = await issueServerCertificate(ca, 'first');
    copyFileSync(first.certFile, certFile);
    copyFileSync(first.keyFile, keyFile);
    const replace = (cert: string, key: string) => {
      copyFileSync(cert, `${certFile}.new`);
      copyFileSync(key, `${keyFile}.new`);
      renameSync(`${keyFile}.new`, keyFile);
      renameSync(`${certFile}.new`, certFile);
    };

    let wharf: WharfProcess | undefined;
    try {
      wharf = await spawnWharf({ WHARF_HTTP_TLS_CERT: certFile, WHARF_HTTP_TLS_KEY: keyFile, WHARF_STORAGE_DATA_DIR: path.join(work, 'hup-data'), WHARF_SCANNER_ENABLED: 'false' }, [], ca.cert);
      assert.match(wharf.url, /^https:/);
      assert.match(wharf.output(), /Wharf listening on https:\/\/127\.0\.0\.1:\d+/);
      // The test certificates are valid for two days: the start warns that this one runs out soon.
      assert.match(wharf.output(), /the TLS certificate expires on [^"]+, in [12] day\(s\): renew it/);
      assert.equal((await servedCertificate(wharf.url, ca.cert)).serialNumber, first.serialNumber);

      const renewed = await issueServerCertificate(ca, 'renewed');
      assert.notEqual(renewed.serialNumber, first.serialNumber);
      replace(renewed.certFile, renewed.keyFile);
      wharf.child.kill('SIGHUP');
      await until(() => wharf!.output().includes('reloaded the TLS certificate on SIGHUP'), 'the reload is logged', wharf);
      const now = await servedCertificate(wharf.url, ca.cert);
      assert.equal(now.serialNumber, renewed.serialNumber, 'a new connection gets the renewed certificate');
      assert.equal(now.fingerprint256, renewed.fingerprint256);

      // A renewal half done (the new certificate, the old key) is refused; the renewed pair stays.
      const next = await issueServerCertificate(ca, 'next');
      replace(next.certFile, first.keyFile);
      wharf.child.kill('SIGHUP');
      await until(() => wharf!.output().includes('the new TLS certificate was refused'), 'the refusal is logged', wharf);
      assert.match(wharf.output(), /is not the private key of the certificate/);
      assert.equal((await servedCertificate(wharf.url, ca.cert)).serialNumber, renewed.serialNumber, 'still serving the last good certificate');
      assert.equal(wharf.child.exitCode, null, 'wharf is still running');
    } finally {
      if (wharf && wharf.child.exitCode === null) {
        wharf.child.kill('SIGTERM');
        await wharf.exited;
      }
    }
  });
});

/** Polls `condition` until it holds (the server is slow on a loaded machine), failing after a minute. */
async function until(condition: () => boolean, what: string, wharf: WharfProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`${what}: not within 60 s\n${wharf.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
