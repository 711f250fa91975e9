import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { engines, startTestServer, type TestServer } from '../support/server.js';

for (const engine of engines()) {
  describe(`base endpoint [${engine}]`, () => {
    let server: TestServer;
    before(async () => { server = await startTestServer(engine); });
    after(async () => { await server.stop(); });

    it('GET /v2/ answers 200 with the API version header', async () => {
      const res = await fetch(`${server.url}/v2/`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
    });
  });
}
