import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { ProblemError } from '../../errors/problem.js';
import { manifestTooLarge, MAX_MANIFEST_BYTES } from '../../oci/manifest.js';

/**
 * Requests refused before their body is read. A client must get to read the refusal: one that asked
 * `Expect: 100-continue` is refused before it sends anything; one already sending has a bounded
 * amount drained (the connection then stays usable) or, past that, sees the answer, the end of the
 * connection, and a short lingering read before the close, so it never meets a reset instead.
 */

/** The largest JSON body of the management API (Fastify's bodyLimit for /api/). */
export const API_BODY_LIMIT = 1024 * 1024;
/** The largest form the token endpoint reads. */
export const TOKEN_FORM_LIMIT = 64 * 1024;
/** A refused body up to this size is read and discarded, and the connection kept. */
const DRAIN_LIMIT = 8 * 1024 * 1024;
/** Past the drain limit: how much more is read after the answer, and how long a pause ends it, before the close. */
const LINGER_MS = 2000;
const LINGER_BYTES = 8 * 1024 * 1024;

interface Refusal {
  status: number;
  contentType: string;
  body: string;
}

/** The refusal a body of `size` bytes gets at this URL before anything is read, if it is over that route's limit. */
export function oversizedBody(method: string, url: string, size: number): Refusal | undefined {
  const pathname = url.split('?')[0]!;
  if (method === 'PUT' && /^\/v2\/.+\/manifests\/[^/]+$/.test(pathname) && size > MAX_MANIFEST_BYTES) {
    return { status: 413, contentType: 'application/json; charset=utf-8', body: JSON.stringify(manifestTooLarge(size).toBody()) };
  }
  if (pathname.startsWith('/api/') && size > API_BODY_LIMIT) {
    const problem = new ProblemError('payload-too-large', `the request body is ${size} bytes; the API takes at most ${API_BODY_LIMIT}`, { limit: API_BODY_LIMIT });
    return { status: 413, contentType: 'application/problem+json', body: JSON.stringify(problem.toBody(pathname)) };
  }
  if (method === 'POST' && pathname === '/auth/token' && size > TOKEN_FORM_LIMIT) {
    return { status: 413, contentType: 'application/json', body: JSON.stringify({ error: 'invalid_request', error_description: `the form is ${size} bytes; at most ${TOKEN_FORM_LIMIT} are read` }) };
  }
  return undefined;
}

function declaredLength(req: IncomingMessage): number | undefined {
  const header = req.headers['content-length'];
  return header !== undefined && /^\d{1,15}$/.test(header) ? Number(header) : undefined;
}

/**
 * Takes over `Expect: 100-continue` from Node (which would send `100 Continue` to every request):
 * an oversized body is refused at once, with the connection closed, before the client sends it.
 */
export function refuseOversizedBeforeContinue(server: Server, log: Logger): void {
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    const size = declaredLength(req);
    const refusal = size === undefined ? undefined : oversizedBody(req.method ?? '', req.url ?? '', size);
    if (!refusal) {
      res.writeContinue();
      server.emit('request', req, res);
      return;
    }
    log.info({ method: req.method, url: req.url?.slice(0, 512), status: refusal.status, bytesIn: size }, 'refused before 100 Continue');
    res.writeHead(refusal.status, { 'Content-Type': refusal.contentType, 'Content-Length': Buffer.byteLength(refusal.body), Connection: 'close' });
    res.end(refusal.body);
  });
}

/**
 * Fastify onSend hook: an answer sent while the request body is still arriving. A body of known,
 * small size is drained and the connection kept; anything else closes the connection gracefully.
 * In callback form: it runs on every response, and an async hook would cost each one a promise.
 */
export function finishUnreadBody(request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: null, payload: unknown) => void): void {
  const req = request.raw;
  if (!req.complete && !req.destroyed && carriesBody(req)) keepAnswerReadable(req, reply);
  done(null, payload);
}

function keepAnswerReadable(req: IncomingMessage, reply: FastifyReply): void {
  const size = declaredLength(req);
  // Stop whatever read the body (a refused upload, a manifest past its limit) from holding it paused.
  req.removeAllListeners('data');
  if (size !== undefined && size <= DRAIN_LIMIT) {
    // Kept open unless the client asked to close (Connection: close; Node's client without an agent
    // does), in which case the close waits for the rest of the body too.
    reply.removeHeader('Connection');
    lingerOnClose(req.socket, req, DRAIN_LIMIT);
    req.resume();
    return;
  }
  reply.header('Connection', 'close');
  lingerOnClose(req.socket, req, LINGER_BYTES);
}

function carriesBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return length !== undefined ? length !== '0' : req.headers['transfer-encoding'] !== undefined;
}

/**
 * Node ends a `Connection: close` response with socket.destroySoon(): the socket is destroyed as soon
 * as the answer is written, and a client still sending gets a reset that can discard the answer
 * unread (EPIPE/ECONNRESET instead of the 413). This socket instead half-closes after the answer and
 * keeps discarding input for a moment, as web servers' lingering close does.
 */
function lingerOnClose(socket: Socket, req: IncomingMessage, maxBytes: number): void {
  let lingering = false;
  // A kept-alive connection goes back to Node's own close once this body is drained.
  req.once('end', () => { if (!lingering) Reflect.deleteProperty(socket, 'destroySoon'); });
  socket.destroySoon = function lingeringClose(this: Socket) {
    lingering = true;
    this.end();
    // Destroyed only once the answer is written out (destroy() would drop what is still queued).
    const close = (): void => {
      if (this.writableFinished) this.destroy();
      else this.once('finish', () => this.destroy());
    };
    if (req.complete) return close();
    let discarded = 0;
    // Closes when the client stops sending for LINGER_MS, or has sent maxBytes more.
    const idle = setTimeout(close, LINGER_MS);
    idle.unref();
    this.once('close', () => clearTimeout(idle));
    req.on('data', (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > maxBytes) close();
      else idle.refresh();
    });
    req.once('end', close);
    req.resume();
  };
}
