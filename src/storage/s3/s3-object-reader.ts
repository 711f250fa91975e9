import net from 'node:net';
import type { BlobStream, ByteRange } from '../ports.js';
import { ObjectBody, READ_SIZE, takeReadBuffer } from './s3-object-body.js';

/** A response head larger than this is not an S3 store's answer to a GET. */
const MAX_HEAD = 64 * 1024;
/**
 * Idle connections kept for reuse (a rollout reads from the store on one connection per client
 * at once), and how long each is kept: under the idle timeouts of stores and load balancers, and a
 * connection the store closed first is replaced on its next use anyway.
 */
const MAX_IDLE = 256;
const IDLE_MS = 15_000;

/**
 * Connections read into this one buffer unless a body lends its own (ObjectBody.writeTo). What is
 * read into it is copied out in the same callback, before the next read can start (reads run one
 * at a time on the event loop), so one buffer serves all.
 */
const readBuffer = Buffer.allocUnsafe(READ_SIZE);

/** What the store answered other than the object's bytes: its status (404 for a missing object). */
export class StoreAnswer extends Error {
  constructor(readonly status: number) {
    super(`the store answered ${status}`);
    this.name = 'StoreAnswer';
  }
}

/** One connection to the store and the response it is reading now. */
class StoreConnection {
  readonly socket: net.Socket;
  /** Called with each read while a response is being received (`lent`: see ObjectBody.receive). */
  receive: ((chunk: Buffer, lent: Buffer | null) => void) | null = null;
  /** The body being read, which may want its next read in a buffer of its own. */
  body: ObjectBody | null = null;
  /** Called when the connection ends or fails while a response is being received. */
  lost: ((err: Error) => void) | null = null;
  reused = false;
  private idleTimer: NodeJS.Timeout | undefined;

  /** `origin` is the host and port (URL.host) the connection goes to. */
  constructor(readonly origin: string, host: string, port: number, private readonly timeoutMs: number, onClose: (c: StoreConnection) => void) {
    this.socket = net.connect({
      host,
      port,
      noDelay: true,
      onread: {
        // Asked after each read for the buffer of the next one.
        buffer: () => (this.body?.lending ? takeReadBuffer() : readBuffer),
        callback: (n, buffer) => {
          const lent = buffer === readBuffer ? null : buffer as Buffer;
          // Bytes nobody asked for would be taken for the next answer: such a connection is dropped.
          if (!this.receive) {
            this.socket.destroy();
            return false;
          }
          this.receive((buffer as Buffer).subarray(0, n), lent);
          return true;
        },
      },
    });
    const fail = (err: Error): void => {
      const lost = this.lost;
      this.receive = null;
      this.lost = null;
      lost?.(err);
    };
    this.socket.on('error', fail);
    this.socket.on('end', () => fail(new Error('the store closed the connection')));
    this.socket.on('timeout', () => this.socket.destroy(new Error(`the store sent nothing for ${timeoutMs / 1000} s`)));
    this.socket.on('close', () => {
      clearTimeout(this.idleTimer);
      fail(new Error('the store closed the connection'));
      onClose(this);
    });
  }

  /** Waits for the store's bytes (connecting, or a response that is being read) at most the timeout. */
  watch(on: boolean): void {
    this.socket.setTimeout(on ? this.timeoutMs : 0);
  }

  idle(onExpired: () => void): void {
    this.receive = null;
    this.lost = null;
    this.body = null;
    this.watch(false);
    this.idleTimer = setTimeout(onExpired, IDLE_MS).unref();
  }

  take(): void {
    clearTimeout(this.idleTimer);
    this.reused = true;
  }
}

interface Head { status: number; length: number | null; keepAlive: boolean; chunked: boolean }

function parseHead(text: string): Head | null {
  const lines = text.split('\r\n');
  const status = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0] ?? '');
  if (!status) return null;
  let length: number | null = null;
  let keepAlive = status[1] === '1';
  let chunked = false;
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') {
      if (!/^\d{1,15}$/.test(value)) return null;
      length = Number(value);
    } else if (name === 'transfer-encoding') chunked = true;
    else if (name === 'connection') keepAlive = !/close/i.test(value);
  }
  return { status: Number(status[2]), length, keepAlive, chunked };
}

/**
 * GETs objects of an S3 store over plain HTTP by presigned URL, on kept-alive connections, and
 * streams their bodies with large reads. Only what a blob pull needs: a 200 or 206 with a
 * Content-Length is streamed; any other answer is a StoreAnswer carrying its status, and a
 * connection that fails before the answer a plain Error, for the caller to take another way.
 * The URL holds a signature: it is never put in an error or a log.
 */
export class S3ObjectReader {
  /** Idle connections, the most recently used last. */
  private readonly idle: StoreConnection[] = [];
  private readonly open = new Set<StoreConnection>();
  private closed = false;

  constructor(private readonly timeoutMs: number) {}

  /** Destroys every connection; reads under way fail. */
  close(): void {
    this.closed = true;
    for (const connection of this.open) connection.socket.destroy();
    this.idle.length = 0;
  }

  /**
   * The object's bytes (or the range), once the store has answered with them. A reused connection
   * that the store had closed meanwhile is retried once on a new one.
   */
  async get(url: URL, range?: ByteRange): Promise<BlobStream> {
    if (this.closed) throw new Error('the S3 reader is closed');
    const connection = this.connection(url);
    try {
      return await this.exchange(connection, url, range);
    } catch (err) {
      if (!connection.reused || err instanceof StoreAnswer || (err as { answered?: boolean }).answered) throw err;
      return this.exchange(this.connect(url), url, range);
    }
  }

  private connection(url: URL): StoreConnection {
    // One bucket on one endpoint: the newest idle connection is nearly always to the same host.
    for (let i = this.idle.length - 1; i >= 0; i--) {
      const reusable = this.idle[i]!;
      if (reusable.origin !== url.host) continue;
      this.idle.splice(i, 1);
      reusable.take();
      return reusable;
    }
    return this.connect(url);
  }

  private connect(url: URL): StoreConnection {
    // An IPv6 address is bracketed in a URL, not in a socket's host.
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const connection = new StoreConnection(url.host, host, Number(url.port || 80), this.timeoutMs, (c) => {
      this.open.delete(c);
      const at = this.idle.indexOf(c);
      if (at >= 0) this.idle.splice(at, 1);
    });
    this.open.add(connection);
    return connection;
  }

  private release(connection: StoreConnection): void {
    if (this.closed || this.idle.length >= MAX_IDLE) {
      connection.socket.destroy();
      return;
    }
    connection.idle(() => connection.socket.destroy());
    this.idle.push(connection);
  }

  private exchange(connection: StoreConnection, url: URL, range?: ByteRange): Promise<BlobStream> {
    const { socket } = connection;
    return new Promise<BlobStream>((resolve, reject) => {
      /** The start of a head that did not fit in one read (rare: a head is a few hundred bytes). */
      let partial: Buffer | null = null;
      let finished = false;
      let keepAlive = false;
      connection.watch(true);

      const fail = (err: Error): void => {
        connection.receive = null;
        connection.lost = null;
        socket.destroy();
        reject(Object.assign(err, { answered: true }));
      };
      connection.lost = (err) => reject(err);
      connection.receive = (chunk) => {
        const head = partial ? Buffer.concat([partial, chunk]) : chunk;
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) {
          if (head.length > MAX_HEAD) fail(new Error('the store sent an answer head larger than 64 KiB'));
          // Copied: the shared read buffer is read into again as soon as this returns.
          else partial = Buffer.from(head);
          return;
        }
        const parsed = parseHead(head.subarray(0, end).toString('latin1'));
        if (!parsed) return fail(new Error('the store sent an answer that is not HTTP/1.x'));
        if ((parsed.status !== 200 && parsed.status !== 206) || parsed.length === null || parsed.chunked) {
          // Not the bytes: the connection is left unread, so it is not reused.
          connection.receive = null;
          connection.lost = null;
          socket.destroy();
          return reject(Object.assign(new StoreAnswer(parsed.status), { answered: true }));
        }
        keepAlive = parsed.keepAlive;
        const body = new ObjectBody(parsed.length, {
          pause: () => {
            socket.pause();
            connection.watch(false);
          },
          resume: () => {
            if (finished || !socket.isPaused()) return;
            connection.watch(true);
            socket.resume();
          },
          finish: (complete) => {
            if (finished) return;
            finished = true;
            connection.receive = null;
            connection.lost = null;
            connection.body = null;
            if (complete && keepAlive) this.release(connection);
            else socket.destroy();
          },
        });
        connection.body = body;
        connection.lost = (err) => body.fail(this.closed ? null : new Error(`${err.message} with ${body.missing} bytes of the object still to come`));
        connection.receive = (bytes, lent) => body.receive(bytes, lent);
        resolve(body.stream);
        // The body's first bytes came with the head, into the shared buffer: copied once, into a
        // pooled buffer (at most one read's worth: the head's end is not in `partial`).
        const first = head.subarray(end + 4);
        const buffer = takeReadBuffer();
        first.copy(buffer);
        body.receive(buffer.subarray(0, first.length), buffer);
      };

      const rangeHeader = range ? `Range: bytes=${range.start}-${range.end}\r\n` : '';
      socket.write(`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n${rangeHeader}\r\n`);
      if (socket.isPaused()) socket.resume();
    });
  }
}
