import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import { lazyValidatorFactory } from '../../src/http/plugins/lazy-validators.js';

/** The same routes on a Fastify with its default (eager) validators, or with the lazy ones. */
function app(lazy: boolean, broken = false): FastifyInstance {
  const fastify = Fastify(lazy ? { schemaController: { compilersFactory: { buildValidator: lazyValidatorFactory() } } } : {});
  fastify.get<{ Querystring: { n: number } }>('/page', {
    schema: { querystring: { type: 'object', properties: { n: { type: 'integer', minimum: 1 } }, required: ['n'] } },
  }, async (request) => ({ n: request.query.n, type: typeof request.query.n }));
  fastify.post('/tag', {
    schema: { body: { type: 'object', required: ['source', 'target'], additionalProperties: false, properties: { source: { type: 'string' }, target: { type: 'string' } } } },
  }, async (request) => request.body);
  if (broken) {
    fastify.post('/broken', { schema: { body: { type: 'object', properties: { a: { $ref: '#/definitions/missing' } } } } }, async () => ({}));
  }
  return fastify;
}

async function answers(fastify: FastifyInstance): Promise<Array<{ status: number; body: unknown }>> {
  const requests = [
    { method: 'GET' as const, url: '/page?n=5' },
    { method: 'GET' as const, url: '/page?n=x' },
    { method: 'GET' as const, url: '/page' },
    { method: 'POST' as const, url: '/tag', payload: { source: 'a', target: 'b' } },
    { method: 'POST' as const, url: '/tag', payload: { source: 'a' } },
    { method: 'POST' as const, url: '/tag', payload: { source: 'a', target: 'b', extra: 1 } },
  ];
  const out = [];
  for (const request of requests) {
    const res = await fastify.inject(request);
    out.push({ status: res.statusCode, body: res.json() });
  }
  return out;
}

describe('lazy route validators', () => {
  it('answer every request exactly as Fastify\'s eager validators do (coercion and errors)', async () => {
    const eager = await answers(app(false));
    const lazy = await answers(app(true));
    assert.deepEqual(lazy, eager);
    // The comparison is not vacuous: coercion happened and errors were reported.
    assert.deepEqual(lazy[0], { status: 200, body: { n: 5, type: 'number' } });
    assert.equal(lazy[1]!.status, 400);
    assert.match(JSON.stringify(lazy[1]!.body), /querystring\/n must be integer/);
    assert.equal(lazy[4]!.status, 400);
  });

  it('compile nothing before the first request: a broken schema starts, and fails its own route only', async () => {
    await assert.rejects(async () => { await app(false, true).ready(); }, /missing|resolve reference/i, 'Fastify compiles every schema before it listens');
    const lazy = app(true, true);
    await lazy.ready();
    const broken = await lazy.inject({ method: 'POST', url: '/broken', payload: { a: 1 } });
    assert.equal(broken.statusCode, 500);
    const fine = await lazy.inject({ method: 'GET', url: '/page?n=2' });
    assert.equal(fine.statusCode, 200);
  });
});
