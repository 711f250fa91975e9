import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { engines, startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from '../support/server.js';
import { apiJson, basic, pushImage, type PushedImage } from '../support/iam.js';
import { issueServerCertificate, makeCa, opensslMissing, servedCertificate, type ServerCertificate, type TestCa } from '../support/tls.js';
import { admissionReview, workload } from '../support/admission.js';
import { loadConfig } from '../../src/config/load.js';

/**
 * enforcement.listen: the admission webhook on a port of its own with its own certificate (the one
 * the cluster's caBundle trusts), and nothing else there; the registry's port then does not serve it.
 */

let work: string;
let ca: TestCa;
let served: ServerCertificate;
before(async () => {
  if (opensslMissing) return;
  work = mkdtempSync(path.join(os.tmpdir(), 'wharf-admission-tls-'));
  ca = await makeCa(work);
  served = await issueServerCertificate(ca, 'admission');
});
after(() => { if (work) rmSync(work, { recursive: true, force: true }); });

/** POST over HTTPS trusting only the test CA (node:https: the global fetch cannot be given a CA). */
function postJson(url: string, body: unknown, authorization: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: 'POST', ca: ca.cert, headers: { 'Content-Type': 'application/json', Authorization: authorization } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

for (const engine of engines()) {
  describe(`admission webhook on its own TLS listener [${engine}]`, { skip: opensslMissing }, () => {
    let server: TestServer;
    let image: PushedImage;
    const admin = basic({ username: 'admin', password: TEST_ADMIN_PASSWORD });

    before(async () => {
      server = await startTestServer(engine, {
        auth: { enabled: true }, scanner: { enabled: false },
        enforcement: { listen: '127.0.0.1:0', tlsCert: served.certFile, tlsKey: served.keyFile, registryHosts: 'registry.example.com' },
      });
      await apiJson(server.url, 'POST', '/namespaces', admin, { name: 'team-a' });
      await apiJson(server.url, 'PUT', '/policies/images/namespaces/team-a', admin, {});
      image = await pushImage(server.url, 'team-a/app', 'v1', admin);
    });
    after(async () => { await server?.stop(); });

    it('serves the webhook with its own certificate, judging images by enforcement.registryHosts', async () => {
      assert.match(server.admissionUrl ?? '', /^https:\/\/127\.0\.0\.1:\d+$/);
      const cert = await servedCertificate(server.admissionUrl!, ca.cert);
      assert.equal(cert.serialNumber, served.serialNumber);
      const review = admissionReview('Deployment', workload('Deployment', { containers: [{ name: 'web', image: 'registry.example.com/team-a/app:v1' }] }));
      const res = await postJson(`${server.admissionUrl}/admission/mutate`, review, admin);
      assert.equal(res.status, 200, res.body);
      const { response } = JSON.parse(res.body) as { response: { uid: string; allowed: boolean; patch: string } };
      assert.deepEqual([response.uid, response.allowed], [review.request.uid, true]);
      assert.deepEqual(JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8')), [
        { op: 'replace', path: '/spec/template/spec/containers/0/image', value: `registry.example.com/team-a/app:v1@${image.digest}` },
      ]);
    });

    it('serves nothing else there, and the registry\'s port no longer serves the webhook', async () => {
      const other = await postJson(`${server.admissionUrl}/api/v1/namespaces`, {}, admin);
      assert.equal(other.status, 404);
      assert.match(other.body, /only POST \/admission\/validate and \/admission\/mutate are served here/);
      const main = await fetch(`${server.url}/admission/validate`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: admin }, body: '{}' });
      assert.equal(main.status, 404);
    });
  });
}

describe('enforcement listener settings', () => {
  it('a certificate needs its key and a listener', () => {
    assert.throws(() => loadConfig({ env: {}, overrides: { enforcement: { tlsCert: '/x.crt' } } }), /enforcement\.tlsKey.*is required when enforcement\.tlsCert is set/s);
    assert.throws(() => loadConfig({ env: {}, overrides: { enforcement: { tlsCert: '/x.crt', tlsKey: '/x.key' } } }), /enforcement\.listen.*is required when enforcement\.tlsCert is set/s);
    assert.throws(() => loadConfig({ env: { WHARF_ENFORCEMENT_REGISTRY_HOSTS: 'ok.example.com, bad/host' } }), /"bad\/host" is not a host\[:port\]/);
    const config = loadConfig({ env: { WHARF_ENFORCEMENT_REGISTRY_HOSTS: 'Registry.Example.com:5000, r2.example.com', WHARF_ENFORCEMENT_EVALUATION_TIMEOUT: '3s', WHARF_ENFORCEMENT_FAIL_OPEN: 'true' } });
    assert.deepEqual(config.enforcement, { evaluationTimeout: 3, failOpen: true, registryHosts: ['registry.example.com:5000', 'r2.example.com'], listen: '', tlsCert: '', tlsKey: '' });
  });
});
