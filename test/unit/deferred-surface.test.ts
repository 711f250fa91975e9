import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { pino } from 'pino';
import { DeferredSurface } from '../../src/http/deferred-surface.js';
import { servedFirst } from '../../src/http/app.js';

/** A server whose every request goes to the surface, and a way to ask it something. */
async function serve(surface: DeferredSurface): Promise<{ get: (path: string) => Promise<{ status: number; body: string }>; close: () => Promise<void> }> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => surface.handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    async get(path) {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      return { status: res.status, body: await res.text() };
    },
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

const silent = pino({ level: 'silent' });

describe('surfaces built after the port opens', () => {
  it('a request that arrives while they are being built waits, then gets its answer', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    let builds = 0;
    const surface = new DeferredSurface(async (capture) => {
      builds++;
      await gate;
      const app = Fastify({ serverFactory: (handler) => { capture(handler); return createServer(); } });
      app.get('/api/v1/hello', async () => ({ hello: 'world' }));
      return app;
    }, silent);
    const http = await serve(surface);
    try {
      let answered = false;
      const first = http.get('/api/v1/hello').finally(() => { answered = true; });
      const second = http.get('/api/v1/hello');
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(answered, false, 'no answer before the surface exists');
      release();
      assert.deepEqual(await first, { status: 200, body: '{"hello":"world"}' });
      assert.equal((await second).status, 200);
      assert.equal(builds, 1, 'built once for every waiting request');
      assert.equal((await http.get('/nowhere')).status, 404);
    } finally {
      await http.close();
      await surface.close();
    }
  });

  it('a surface that cannot be built answers 503 in the registry\'s error format, and the failure is not retried per request', async () => {
    let builds = 0;
    const surface = new DeferredSurface(async () => {
      builds++;
      throw new Error('a broken plugin');
    }, silent);
    const http = await serve(surface);
    try {
      for (let i = 0; i < 2; i++) {
        const res = await http.get('/api/v1/images');
        assert.equal(res.status, 503);
        const body = JSON.parse(res.body) as { errors: Array<{ code: string; message: string }> };
        assert.equal(body.errors[0]!.code, 'UNAVAILABLE');
        assert.match(body.errors[0]!.message, /a broken plugin/);
      }
      assert.equal(builds, 1);
    } finally {
      await http.close();
      await surface.close();
    }
  });

  it('readySoon builds without a request, and close() closes what was built', async () => {
    let closed = false;
    const surface = new DeferredSurface(async (capture) => {
      const app = Fastify({ serverFactory: (handler) => { capture(handler); return createServer(); } });
      app.addHook('onClose', async () => { closed = true; });
      return app;
    }, silent);
    surface.readySoon(1);
    await surface.ready();
    await surface.close();
    assert.equal(closed, true);
  });

  it('the registry answers its own paths before the rest is built; everything else waits for it', () => {
    for (const path of ['/v2', '/v2/', '/v2/team/app/manifests/latest', '/v2/_catalog?n=10', '/extensions/v2/team/app/signatures/sha256:00', '/auth/token?service=x', '/auth/revoke', '/auth/jwks.json', '/.well-known/jwks.json', '/livez', '/readyz', '/healthz', '/metrics']) {
      assert.equal(servedFirst(path), true, path);
    }
    for (const path of ['/', '/api/v1/images', '/api/v1/docs', '/admission/validate', '/assets/index.js', '/images/team', '/v2x', '/metrics/x', '/auth/other']) {
      assert.equal(servedFirst(path), false, path);
    }
  });
});
