import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createHash, randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { Agent, fetch } from 'undici';
import { pino } from 'pino';
import { engines, startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from '../support/server.js';
import { loadConfig } from '../../src/config/load.js';
import { startServer } from '../../src/server.js';
import { issueServerCertificate, makeCa, opensslMissing, servedCertificate, type ServerCertificate, type TestCa } from '../support/tls.js';
import { StartupError } from '../../src/errors/startup.js';
import { runCommand } from '../support/process.js';

/**
 * Wharf serving HTTPS itself (http.tlsCert, http.tlsKey): the registry API over TLS with a private
 * CA, TLS 1.2 at least, and a certificate and key that cannot be served refused at start.
 */

let work: string;
let ca: TestCa;
let served: ServerCertificate;
before(async () => {
  if (opensslMissing) return;
  work = mkdtempSync(path.join(os.tmpdir(), 'wharf-tls-'));
  ca = await makeCa(work);
  served = await issueServerCertificate(ca, 'server');
});
after(() => { if (work) rmSync(work, { recursive: true, force: true }); });

const sha256 = (data: Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

for (const engine of engines()) {
  describe(`HTTPS served by Wharf [${engine}]`, { skip: opensslMissing }, () => {
    let server: TestServer;
    let agent: Agent;
    before(async () => {
      server = await startTestServer(engine, { http: { tlsCert: served.certFile, tlsKey: served.keyFile } });
      agent = new Agent({ connect: { ca: ca.cert } });
    });
    after(async () => {
      await agent?.close();
      await server?.stop();
    });

    it('reports an https:// URL and serves the configured certificate, trusted through the private CA', async () => {
      assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const cert = await servedCertificate(server.url, ca.cert);
      assert.equal(cert.serialNumber, served.serialNumber);
      assert.equal(cert.fingerprint256, served.fingerprint256);
      const res = await fetch(`${server.url}/v2/`, { dispatcher: agent });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
    });

    it('takes a blob upload and serves the blob back unchanged over HTTPS', async () => {
      const blob = randomBytes(300_000);
      const digest = sha256(blob);
      const started = await fetch(`${server.url}/v2/tls/blobs/blobs/uploads/`, { method: 'POST', dispatcher: agent });
      assert.equal(started.status, 202);
      const location = new URL(started.headers.get('location')!, server.url);
      location.searchParams.set('digest', digest);
      const put = await fetch(location, { method: 'PUT', body: blob, headers: { 'Content-Type': 'application/octet-stream' }, dispatcher: agent });
      assert.equal(put.status, 201, await put.text());
      const got = await fetch(`${server.url}/v2/tls/blobs/blobs/${digest}`, { dispatcher: agent });
      assert.equal(got.status, 200);
      assert.ok(Buffer.from(await got.arrayBuffer()).equals(blob));
    });

    it('refuses a client that offers only TLS 1.1 or older', async () => {
      // The client allows the old versions (security level 0), so only the server can be refusing.
      const { hostname, port } = new URL(server.url);
      const err = await new Promise<Error>((resolve, reject) => {
        const socket = tls.connect({ host: hostname, port: Number(port), ca: ca.cert, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }, () => {
          socket.end();
          reject(new Error(`a ${socket.getProtocol()} handshake succeeded`));
        });
        socket.once('error', resolve);
      });
      assert.equal((err as NodeJS.ErrnoException).code, 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', 'the server answered with a protocol_version alert');
    });

    it('a client without the private CA refuses the certificate', async () => {
      await assert.rejects(fetch(`${server.url}/v2/`), (err: Error) => /self.signed|unable to (get|verify)|UNABLE_TO/i.test(`${String((err.cause as NodeJS.ErrnoException | undefined)?.code)} ${String((err.cause as Error | undefined)?.message)}`));
    });
  });
}

describe('a certificate and key that cannot be served stop the start', { skip: opensslMissing }, () => {
  // Straight to startServer: nothing may be created (the data directory included) before the refusal.
  const start = async (tlsCert: string, tlsKey: string) => {
    const dataDir = path.join(work, 'data');
    const config = loadConfig({ env: {}, overrides: { http: { host: '127.0.0.1', port: 0, tlsCert, tlsKey }, storage: { dataDir }, log: { level: 'silent' }, auth: { adminPassword: TEST_ADMIN_PASSWORD } } });
    try {
      const server = await startServer(config, pino({ level: 'silent' }));
      await server.close();
      throw new Error('the server started');
    } finally {
      assert.equal(existsSync(dataDir), false, 'nothing was created');
    }
  };

  it('a key that is not the certificate\'s: named, with what to do', async () => {
    const other = await issueServerCertificate(ca, 'other');
    await assert.rejects(start(served.certFile, other.keyFile), (err: Error) => err instanceof StartupError
      && /^http\.tlsKey \(WHARF_HTTP_TLS_KEY\) \S+other\.key is not the private key of the certificate in http\.tlsCert \(WHARF_HTTP_TLS_CERT\) \S+server\.crt \(subject CN=server\)\. Give the key the certificate was issued for/.test(err.message));
  });

  it('a file that does not exist, a file that is not PEM, a directory, an encrypted key, an unreadable key', async () => {
    const missing = path.join(work, 'missing.crt');
    await assert.rejects(start(missing, served.keyFile), /^StartupError: http\.tlsCert \(WHARF_HTTP_TLS_CERT\) \S+missing\.crt cannot be read: the file does not exist \(ENOENT\)\./);
    const der = path.join(work, 'server.der');
    writeFileSync(der, new X509Certificate(readFileSync(served.certFile)).raw);
    await assert.rejects(start(der, served.keyFile), /^StartupError: http\.tlsCert \(WHARF_HTTP_TLS_CERT\) \S+server\.der is not a PEM certificate .*openssl x509 -inform der/);
    await assert.rejects(start(served.certFile, served.certFile), /^StartupError: http\.tlsKey \(WHARF_HTTP_TLS_KEY\) \S+server\.crt is not a PEM private key/);
    await assert.rejects(start(served.certFile, work), /^StartupError: http\.tlsKey \(WHARF_HTTP_TLS_KEY\) \S+ cannot be read: it is a directory \(EISDIR\)/);
    const encrypted = path.join(work, 'encrypted.key');
    const pkey = await runCommand('openssl', ['pkey', '-in', served.keyFile, '-aes256', '-passout', 'pass:secret-passphrase', '-out', encrypted]);
    assert.equal(pkey.code, 0, pkey.stderr);
    await assert.rejects(start(served.certFile, encrypted), /^StartupError: http\.tlsKey \(WHARF_HTTP_TLS_KEY\) \S+encrypted\.key is encrypted with a passphrase, which Wharf cannot be given\. Decrypt it with `openssl pkey/);
    if (process.getuid?.() !== 0) {
      const locked = path.join(work, 'locked.key');
      copyFileSync(served.keyFile, locked);
      chmodSync(locked, 0o000);
      await assert.rejects(start(served.certFile, locked), /^StartupError: http\.tlsKey \(WHARF_HTTP_TLS_KEY\) \S+locked\.key cannot be read: permission denied \(EACCES\)/);
    }
  });
});
