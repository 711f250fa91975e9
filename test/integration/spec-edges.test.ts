import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { engines, startTestServer, type TestServer } from '../support/server.js';
import { pushImage } from '../support/http.js';

for (const engine of engines()) {
  describe(`requests at the edges [${engine}]`, () => {
    let server: TestServer;
    before(async () => { server = await startTestServer(engine); });
    after(async () => { await server.stop(); });

    it('answers a request Node cannot parse (a raw non-ASCII byte in the path) in the registry error format', async () => {
      const port = Number(new URL(server.url).port);
      const raw = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1', () => socket.write(Buffer.concat([
          Buffer.from('GET /v2/a'), Buffer.from([0xc3, 0xbc]), Buffer.from('/tags/list HTTP/1.1\r\nHost: x\r\n\r\n'),
        ])));
        let data = '';
        socket.on('data', (chunk) => { data += chunk.toString(); });
        socket.on('close', () => resolve(data));
        socket.on('error', reject);
      });
      assert.match(raw, /^HTTP\/1\.1 400 /);
      assert.match(raw, /content-type: application\/json/i);
      const body = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as { errors: Array<{ code: string; message: string }> };
      assert.equal(body.errors.length, 1);
      assert.match(body.errors[0]!.message, /malformed HTTP request/);
    });

    it('lists in the catalog only repositories that hold content, not ones with just an upload', async () => {
      const started = await fetch(`${server.url}/v2/edges/uploading/blobs/uploads/`, { method: 'POST' });
      assert.equal(started.status, 202);
      await pushImage(server.url, 'edges/pushed', 'v1');
      const catalog = await (await fetch(`${server.url}/v2/_catalog`)).json() as { repositories: string[] };
      assert.ok(catalog.repositories.includes('edges/pushed'));
      assert.ok(!catalog.repositories.includes('edges/uploading'));
    });
  });
}
