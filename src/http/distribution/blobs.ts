import type { OutgoingHttpHeaders } from 'node:http';
import { byMethod, type Handler, type HandlerContext } from './handler.js';
import { parseRangeHeader } from './range.js';

type BlobRoute = { family: 'blobs'; name: string; digest: string };

async function pull({ registry, principal, route, request, reply }: HandlerContext<BlobRoute>): Promise<void> {
  const blob = await registry.blobs.stat(route.name, route.digest);
  const range = parseRangeHeader(request.headers.range, blob.size);
  const puller = { accountId: principal.kind === 'anonymous' ? null : principal.accountId };
  if (request.method === 'GET' && blob.size > 0) {
    // storage.s3Redirect: the client fetches the bytes from the store (its Range header with it).
    const location = await registry.blobs.redirect(route.name, blob, puller, range);
    if (location) {
      await reply.code(307).header('Location', location).header('Docker-Content-Digest', blob.digest).header('Content-Length', 0).send();
      return;
    }
  }
  reply.header('Docker-Content-Digest', blob.digest)
    .header('ETag', `"${blob.digest}"`)
    .header('Accept-Ranges', 'bytes')
    .header('Cache-Control', 'max-age=31536000')
    .type('application/octet-stream');
  if (range) {
    reply.code(206).header('Content-Range', `bytes ${range.start}-${range.end}/${blob.size}`).header('Content-Length', range.end - range.start + 1);
  } else {
    reply.code(200).header('Content-Length', blob.size);
  }
  if (request.method === 'HEAD' || blob.size === 0) {
    await reply.send();
    return;
  }
  const stream = await registry.blobs.open(route.name, blob, puller, range);
  if (!stream.writeTo) {
    await reply.send(stream);
    return;
  }
  // The driver sends the bytes itself (cheaper than piping its stream): the reply is taken over
  // after the headers; the request is still logged when the response finishes.
  reply.hijack();
  reply.raw.writeHead(reply.statusCode, reply.getHeaders() as OutgoingHttpHeaders);
  try {
    await stream.writeTo(reply.raw);
    reply.raw.end();
  } catch (err) {
    // The status line is gone: a cut connection is all that can tell the client.
    request.log.warn({ err: { message: (err as Error).message }, digest: blob.digest }, 'blob download ended early');
    reply.raw.destroy();
  }
}

async function remove({ registry, route, reply }: HandlerContext<BlobRoute>): Promise<void> {
  await registry.blobs.delete(route.name, route.digest);
  await reply.code(202).header('Content-Length', 0).send();
}

export const blobs: Handler<BlobRoute> = byMethod({ GET: pull, HEAD: pull, DELETE: remove });
