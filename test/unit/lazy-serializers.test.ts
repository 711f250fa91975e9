import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import { lazySerializerFactory } from '../../src/http/plugins/lazy-serializers.js';

const imageSchema = {
  type: 'object',
  properties: { name: { type: 'string' }, size: { type: 'integer' }, tags: { type: 'array', items: { type: 'string' } }, created: { type: 'string', format: 'date-time' } },
  required: ['name'],
};

/** The same routes on a Fastify with its default (eager) serializers, or with the lazy ones. */
function app(lazy: boolean, broken = false): FastifyInstance {
  const fastify = Fastify(lazy ? { schemaController: { compilersFactory: { buildSerializer: lazySerializerFactory() } } } : {});
  fastify.addSchema({ $id: 'image', ...imageSchema });
  // The response schema drops what it does not name and coerces what it does: both must survive.
  fastify.get('/image', { schema: { response: { 200: { $ref: 'image#' } } } }, async () => ({ name: 'ns/app', size: '42', tags: ['a', 'b'], secret: 'not listed', created: new Date(0) }));
  fastify.get('/list', { schema: { response: { 200: { type: 'object', properties: { images: { type: 'array', items: { $ref: 'image#' } }, next: { type: 'string', nullable: true } } } } } },
    async () => ({ images: [{ name: 'x', size: 1.0, extra: true }, { name: 'y' }], next: null }));
  fastify.get('/error', { schema: { response: { 200: { $ref: 'image#' }, '4xx': { type: 'object', properties: { title: { type: 'string' } } } } } },
    async (_request, reply) => reply.code(404).send({ title: 'missing', detail: 'dropped' }));
  if (broken) fastify.get('/broken', { schema: { response: { 200: { $ref: 'missing#' } } } }, async () => ({}));
  return fastify;
}

async function answers(fastify: FastifyInstance): Promise<Array<{ status: number; body: string }>> {
  const out = [];
  for (const url of ['/image', '/list', '/error']) {
    const res = await fastify.inject({ method: 'GET', url });
    out.push({ status: res.statusCode, body: res.body });
  }
  return out;
}

describe('lazy response serializers', () => {
  it('reply byte for byte as Fastify\'s eager serializers do (unlisted fields dropped, values coerced)', async () => {
    const eager = await answers(app(false));
    const lazy = await answers(app(true));
    assert.deepEqual(lazy, eager);
    // The comparison is not vacuous: the schema shaped the bodies.
    assert.deepEqual(JSON.parse(lazy[0]!.body), { name: 'ns/app', size: 42, tags: ['a', 'b'], created: '1970-01-01T00:00:00.000Z' });
    assert.deepEqual(JSON.parse(lazy[2]!.body), { title: 'missing' });
    assert.equal(lazy[2]!.status, 404);
  });

  it('generate nothing before the first reply: a broken response schema starts, and fails its own route only', async () => {
    await assert.rejects(async () => { await app(false, true).ready(); }, /missing|resolve|reference/i, 'Fastify builds every serializer before it listens');
    const lazy = app(true, true);
    await lazy.ready();
    const broken = await lazy.inject({ method: 'GET', url: '/broken' });
    assert.equal(broken.statusCode, 500);
    const fine = await lazy.inject({ method: 'GET', url: '/image' });
    assert.equal(fine.statusCode, 200);
  });
});
