import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import http from 'node:http';
import { Readable, Writable } from 'node:stream';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { S3BlobStore } from '../../src/storage/s3/s3-blob-store.js';
import { createS3Client, type S3Settings } from '../../src/storage/s3/s3-client.js';
import { parseDigest } from '../../src/oci/digest.js';
import { emptyPrefix, s3StorageOverrides, s3TestSettings } from '../support/s3.js';
import { startTestServer } from '../support/server.js';
import { digestOf, pushBlob, randomBlob, repoName } from '../support/http.js';

const MiB = 1024 * 1024;

/**
 * A TCP relay in front of the store (radosgw): it sees every request Wharf sends, counts
 * connections, and can cut a connection after some bytes of the store's answers or drop them all
 * (as a store that closes idle connections does).
 */
async function storeRelay(target: string, listenOn = '127.0.0.1') {
  const upstream = new URL(target);
  const pairs = new Set<{ client: Socket; store: Socket }>();
  const requests: string[] = [];
  let connections = 0;
  let cutAfter: number | null = null;
  const server = createServer((client) => {
    connections++;
    const store = connect(Number(upstream.port), upstream.hostname);
    const pair = { client, store };
    pairs.add(pair);
    let answered = 0;
    client.on('data', (chunk: Buffer) => {
      const line = chunk.subarray(0, 2000).toString('latin1');
      if (/^(GET|HEAD|PUT|POST|DELETE) /.test(line)) requests.push(line.slice(0, line.indexOf('\r\n\r\n') >>> 0));
      store.write(chunk);
    });
    store.on('data', (chunk: Buffer) => {
      if (cutAfter !== null && answered + chunk.length > cutAfter) {
        client.write(chunk.subarray(0, cutAfter - answered), () => client.destroy());
        store.destroy();
        return;
      }
      answered += chunk.length;
      client.write(chunk);
    });
    const end = (): void => {
      client.destroy();
      store.destroy();
      pairs.delete(pair);
    };
    for (const socket of [client, store]) {
      socket.on('close', end);
      socket.on('error', () => undefined);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, listenOn, resolve));
  return {
    endpoint: `http://${listenOn.includes(':') ? `[${listenOn}]` : listenOn}:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
    /** The GET request heads seen, first line and headers. */
    gets: () => requests.filter((r) => r.startsWith('GET ')),
    cut(bytes: number | null): void { cutAfter = bytes; },
    dropAll(): void { for (const { client, store } of pairs) { client.destroy(); store.destroy(); } },
    async close(): Promise<void> {
      this.dropAll();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function commit(store: S3BlobStore, id: string, data: Buffer): Promise<string> {
  await store.createUpload(id);
  await store.appendUpload(id, 0, Readable.from([data]));
  await store.sealUpload(id, data.length);
  await store.commitUpload(id, data.length, parseDigest(digestOf(data)));
  return digestOf(data);
}

async function readAll(stream: Readable): Promise<Buffer> {
  return Buffer.concat(await stream.toArray());
}

describe('S3 proxied reads: blob bytes by presigned URL over kept-alive connections', () => {
  const settings = s3TestSettings();
  after(async () => { await emptyPrefix(settings); });

  /** A store reached through a relay, closed with the relay when the test ends. */
  async function relayed(t: { after(fn: () => Promise<void> | void): void }, overrides: Partial<S3Settings> = {}, listenOn?: string) {
    const relay = await storeRelay(settings.endpoint, listenOn);
    const store = new S3BlobStore({ ...settings, endpoint: relay.endpoint, ...overrides });
    t.after(async () => {
      store.close();
      await relay.close();
    });
    return { relay, store };
  }

  it('reads whole blobs, ranges and empty blobs by presigned URL, not by signed GetObject; a missing blob is ENOENT', async (t) => {
    const { relay, store } = await relayed(t);
    const data = randomBlob(3 * MiB + 123);
    const digest = await commit(store, 'u-proxied', data);
    const empty = await commit(store, 'u-proxied-empty', Buffer.alloc(0));
    const before = relay.gets().length;
    assert.ok((await readAll(await store.read(digest))).equals(data));
    for (const range of [{ start: 0, end: 0 }, { start: MiB - 1, end: 2 * MiB + 1 }, { start: 17, end: data.length - 1 }]) {
      assert.ok((await readAll(await store.read(digest, range))).equals(data.subarray(range.start, range.end + 1)), `range ${JSON.stringify(range)}`);
    }
    assert.equal((await readAll(await store.read(empty))).length, 0);
    const missing = digestOf(Buffer.from('never stored'));
    await assert.rejects(store.read(missing), (err: NodeJS.ErrnoException) => err.code === 'ENOENT' && err.message.includes(missing) && !/X-Amz/i.test(err.message));
    const gets = relay.gets().slice(before);
    assert.equal(gets.length, 6);
    for (const get of gets) {
      assert.match(get, /X-Amz-Signature=/, 'presigned');
      assert.doesNotMatch(get, /^authorization:/im, 'no signed headers: the SDK did not send it');
    }
    assert.match(gets[1]!, /^range: bytes=0-0$/im);
  });

  it('reads from a store at an IPv6 address', async (t) => {
    const { relay, store } = await relayed(t, {}, '::1');
    assert.match(relay.endpoint, /^http:\/\/\[::1\]:\d+$/);
    const data = randomBlob(200_000);
    const digest = await commit(store, 'u-ipv6', data);
    const before = relay.gets().length;
    assert.ok((await readAll(await store.read(digest, { start: 1, end: 150_000 }))).equals(data.subarray(1, 150_001)));
    assert.match(relay.gets()[before] ?? '', /X-Amz-Signature=/, 'read by presigned URL, not by the SDK after a failed connection');
  });

  it('a reader that starts late and reads slowly gets every byte in order (the store connection pauses and resumes)', async (t) => {
    const { store } = await relayed(t);
    const data = randomBlob(9 * MiB + 7);
    const digest = await commit(store, 'u-slow', data);
    for (const range of [undefined, { start: 3, end: 6 * MiB }]) {
      const stream = await store.read(digest, range);
      // Nobody reads for a while: the body waits (up to its buffer) and the connection pauses.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const chunks: Buffer[] = [];
      for await (const chunk of stream) {
        chunks.push(chunk as Buffer);
        if (chunks.length % 4 === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const expected = range ? data.subarray(range.start, range.end + 1) : data;
      assert.ok(Buffer.concat(chunks).equals(expected), `range ${JSON.stringify(range)}`);
    }
    // And writeTo after the same wait.
    const stream = await store.read(digest);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const received: Buffer[] = [];
    await stream.writeTo!(new Writable({ write(chunk: Buffer, _enc, callback) { received.push(Buffer.from(chunk)); setImmediate(callback); } }));
    assert.ok(Buffer.concat(received).equals(data));
  });

  it('signs a new blob\'s URL once when many pulls of it arrive at once', async (t) => {
    const relay = await storeRelay(settings.endpoint);
    const client = createS3Client({ ...settings, endpoint: relay.endpoint });
    let signings = 0;
    client.middlewareStack.add((next, context) => async (args) => {
      if (context.commandName === 'GetObjectCommand') signings++;
      return next(args);
    }, { step: 'initialize' });
    const store = new S3BlobStore({ ...settings, endpoint: relay.endpoint }, client);
    t.after(async () => {
      store.close();
      await relay.close();
    });
    const data = randomBlob(300_000);
    const digest = await commit(store, 'u-herd', data);
    // The upload's staging reads its state with GetObject: only what follows counts.
    signings = 0;
    const reads = await Promise.all(Array.from({ length: 20 }, async () => readAll(await store.read(digest))));
    for (const bytes of reads) assert.ok(bytes.equals(data));
    assert.equal(signings, 1, 'one presigned URL for 20 reads at once');
    assert.equal(relay.gets().filter((g) => g.includes('X-Amz-Signature=')).length, 20);
  });

  it('reuses its connections to the store between reads, and replaces one the store closed while it was idle', async (t) => {
    const { relay, store } = await relayed(t);
    const data = randomBlob(2 * MiB);
    const digest = await commit(store, 'u-reuse', data);
    assert.ok((await readAll(await store.read(digest))).equals(data));
    const opened = relay.connections();
    for (let i = 0; i < 5; i++) assert.ok((await readAll(await store.read(digest))).equals(data));
    assert.equal(relay.connections(), opened, 'five sequential reads opened no connection');
    // The store drops idle connections (radosgw after its idle timeout): the next read still succeeds.
    relay.dropAll();
    assert.ok((await readAll(await store.read(digest, { start: 5, end: 9 }))).equals(data.subarray(5, 10)));
    assert.ok((await readAll(await store.read(digest))).equals(data));
  });

  it('a connection the store cuts mid-body fails the read with an error, never a short end', async (t) => {
    const { relay, store } = await relayed(t);
    const data = randomBlob(4 * MiB);
    const digest = await commit(store, 'u-cut', data);
    relay.dropAll();
    relay.cut(MiB);
    const stream = await store.read(digest);
    let received = 0;
    await assert.rejects((async () => { for await (const chunk of stream) received += (chunk as Buffer).length; })(), (err: Error) => {
      assert.match(err.message, /closed the connection .*bytes of the object still to come/);
      assert.doesNotMatch(err.message, /X-Amz|Signature|Credential/i, 'no presigned URL in the error');
      return true;
    });
    assert.ok(received < data.length, `received ${received} of ${data.length}`);
    relay.cut(null);
    // The next read goes on a new connection and is whole.
    assert.ok((await readAll(await store.read(digest))).equals(data));
  });

  it('an object deleted while it is read gives the reader every byte or an error, never a short end', async (t) => {
    const { store } = await relayed(t);
    const data = randomBlob(24 * MiB);
    const digest = await commit(store, 'u-deleted', data);
    const stream = await store.read(digest);
    const chunks: Buffer[] = [];
    const outcome = await (async () => {
      try {
        for await (const chunk of stream) {
          if (chunks.length === 0) await store.delete(digest);
          chunks.push(chunk as Buffer);
        }
        return 'ended';
      } catch (err) {
        return (err as Error).message;
      }
    })();
    const received = Buffer.concat(chunks);
    if (outcome === 'ended') assert.ok(received.equals(data), `ended after ${received.length} of ${data.length} bytes`);
    else assert.ok(received.length < data.length && data.subarray(0, received.length).equals(received), outcome);
    await assert.rejects(store.read(digest), (err: NodeJS.ErrnoException) => err.code === 'ENOENT');
  });

  it('falls back to a signed GetObject when the store refuses the presigned URL (expired, or credentials rotated)', async (t) => {
    const data = randomBlob(100_000);
    let presignedGets = 0;
    let signedGets = 0;
    // A store that takes only header-signed requests.
    const fake = http.createServer((req, res) => {
      if (req.method === 'GET' && req.url?.includes('X-Amz-Signature=')) {
        presignedGets++;
        res.writeHead(403, { 'content-type': 'application/xml' }).end('<Error><Code>AccessDenied</Code></Error>');
      } else if (req.method === 'GET' && req.headers.authorization) {
        signedGets++;
        res.writeHead(200, { 'content-length': data.length }).end(data);
      } else {
        res.writeHead(400).end();
      }
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    const warnings: Array<{ details: object; message: string }> = [];
    const store = new S3BlobStore({ ...settings, endpoint: `http://127.0.0.1:${(fake.address() as AddressInfo).port}` }, undefined, { warn: (details, message) => warnings.push({ details, message }) });
    t.after(async () => {
      store.close();
      fake.closeAllConnections();
      await new Promise((resolve) => fake.close(resolve));
    });
    const digest = digestOf(data);
    assert.ok((await readAll(await store.read(digest))).equals(data));
    assert.deepEqual([presignedGets, signedGets], [1, 1]);
    // The refused URL is not kept: the next read signs a new one.
    assert.ok((await readAll(await store.read(digest))).equals(data));
    assert.deepEqual([presignedGets, signedGets], [2, 2]);
    // The operator hears of it once, not once per read.
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!.message, /presigned URL failed and went through the S3 SDK/);
    assert.deepEqual((warnings[0]!.details as { fallbacks: number }).fallbacks, 1);
  });

  it('a registry pull the store cuts mid-body cuts the client\'s response too (no short 200); a blob gone from the bucket answers BLOB_UNKNOWN', async (t) => {
    const relay = await storeRelay(settings.endpoint);
    // The storage path does not depend on the metadata engine: SQLite only.
    const server = await startTestServer('sqlite', { storage: s3StorageOverrides({ ...settings, endpoint: relay.endpoint }) });
    t.after(async () => {
      await server.stop();
      await relay.close();
    });
    const name = repoName('s3proxied');
    const data = randomBlob(6 * MiB);
    const digest = await pushBlob(server.url, name, data);
    const whole = await fetch(`${server.url}/v2/${name}/blobs/${digest}`);
    assert.equal(whole.status, 200);
    assert.ok(Buffer.from(await whole.arrayBuffer()).equals(data));

    relay.dropAll();
    relay.cut(2 * MiB);
    const cut = await fetch(`${server.url}/v2/${name}/blobs/${digest}`);
    assert.equal(cut.status, 200);
    assert.equal(cut.headers.get('content-length'), String(data.length));
    await assert.rejects(cut.arrayBuffer(), 'the client sees a broken response, not a complete one');
    relay.cut(null);

    const client = createS3Client(settings);
    try {
      await client.send(new DeleteObjectCommand({ Bucket: settings.bucket, Key: `${settings.prefix}blobs/sha256/${digest.slice('sha256:'.length)}` }));
    } finally {
      client.destroy();
    }
    const gone = await fetch(`${server.url}/v2/${name}/blobs/${digest}`);
    assert.equal(gone.status, 404);
    assert.equal(((await gone.json()) as { errors: Array<{ code: string }> }).errors[0]!.code, 'BLOB_UNKNOWN');
  });
});
