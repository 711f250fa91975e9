import { Readable, type Writable } from 'node:stream';
import type { BlobStream } from '../ports.js';

/**
 * Largest read from a store connection. libuv reads a socket 64 KiB at a time; reading up to
 * 1 MiB at once makes a proxied pull a quarter or less of the reads, writes and stream callbacks,
 * which is most of what Wharf spends per byte (bench/probes/s3-pull.ts).
 */
export const READ_SIZE = 1024 * 1024;
/** Bytes a streamed body buffers before its connection pauses (a slow client holds back the store). */
const BUFFERED = 2 * 1024 * 1024;
/** Read buffers kept for reuse once their write is done. */
const POOL_KEEP = 32;

/**
 * Read buffers lent to writes in flight. A pull that allocated each read afresh left 16 MiB of
 * garbage per 16 MiB blob, and the collections it set off (up to 20 ms each) were the slowest
 * part of a pull on an idle server.
 */
const pool: Buffer[] = [];

export function takeReadBuffer(): Buffer {
  return pool.pop() ?? Buffer.allocUnsafeSlow(READ_SIZE);
}

function giveBack(buffer: Buffer): void {
  if (pool.length < POOL_KEEP) pool.push(buffer);
}

/** The connection an ObjectBody is read from. */
export interface BodySource {
  pause(): void;
  resume(): void;
  /** The body needs the connection no more: `complete` when every byte was read from it (it may serve another request). */
  finish(complete: boolean): void;
}

/**
 * The body of one object answer, `length` bytes, read from a store connection into pooled buffers.
 * Sent with writeTo, the buffers go to the destination as they are and come back to the pool when
 * it has written them; read as a stream, each read is copied out. Until the caller has chosen one
 * way (it opens the body, then calls writeTo), reads wait as they are.
 */
export class ObjectBody {
  readonly stream: BlobStream;
  private remaining: number;
  private mode: 'undecided' | 'stream' | 'writeTo' = 'undecided';
  /** Reads received before the caller chose; `lent` as in receive(). */
  private waiting: Array<{ chunk: Buffer; lent: Buffer | null }> = [];
  private waitingBytes = 0;
  private destination: Writable | null = null;
  private inFlight = 0;
  private waitingForDrain = false;
  private settle: ((err?: Error) => void) | null = null;

  constructor(length: number, private readonly source: BodySource) {
    this.remaining = length;
    const stream: BlobStream = new Readable({
      highWaterMark: BUFFERED,
      read: () => {
        if (this.mode === 'undecided') this.streamWaiting();
        source.resume();
      },
      destroy: (err, callback) => {
        // Left before the end (the client went away): the rest is never read from this connection.
        if (this.remaining > 0) source.finish(false);
        callback(err);
      },
    });
    stream.writeTo = (destination) => this.writeTo(destination);
    this.stream = stream;
  }

  /** Whether the next read should go into a pooled buffer rather than the shared one. */
  get lending(): boolean {
    return this.remaining > 0 && this.mode !== 'stream';
  }

  get missing(): number {
    return this.remaining;
  }

  /**
   * Bytes of the body. `lent` is the pooled buffer they were read into, now this body's to give
   * back; without it they sit in memory that is read into again as soon as this returns.
   */
  receive(chunk: Buffer, lent: Buffer | null): void {
    if (chunk.length > this.remaining) {
      // More than the store announced: neither these bytes nor the connection can be trusted.
      this.source.finish(false);
      this.fail(new Error('the store sent more bytes than it announced'));
      return;
    }
    this.remaining -= chunk.length;
    let more = true;
    if (this.mode === 'writeTo') {
      more = this.write(this.destination!, lent ? chunk : Buffer.from(chunk), lent);
    } else if (this.mode === 'stream') {
      // The reader may hold a chunk for as long as it likes: it gets a copy.
      if (chunk.length > 0) more = this.stream.push(Buffer.from(chunk));
      if (lent) giveBack(lent);
      if (this.remaining === 0) this.stream.push(null);
    } else {
      this.waiting.push({ chunk: lent ? chunk : Buffer.from(chunk), lent });
      this.waitingBytes += chunk.length;
      more = this.waitingBytes < BUFFERED;
    }
    if (this.remaining === 0) this.source.finish(true);
    else if (!more) this.source.pause();
  }

  /** The connection failed or closed before the last byte; `null` when the reader was closed on purpose. */
  fail(err: Error | null): void {
    if (this.settle) this.end(err ?? new Error('the S3 reader was closed'));
    else if (err) this.stream.destroy(err);
    // Closed on purpose (the server stopping): ended early without an error of its own, which a
    // pipe still takes for a cut (premature close), and which nobody must handle.
    else this.stream.destroy();
  }

  private streamWaiting(): void {
    this.mode = 'stream';
    for (const { chunk, lent } of this.waiting.splice(0)) {
      if (chunk.length > 0) this.stream.push(lent ? Buffer.from(chunk) : chunk);
      if (lent) giveBack(lent);
    }
    if (this.remaining === 0) this.stream.push(null);
  }

  private writeTo(destination: Writable): Promise<void> {
    if (this.mode !== 'undecided' || this.stream.destroyed) {
      this.stream.destroy();
      return Promise.reject(new Error(this.mode === 'undecided' ? 'the store connection failed before the blob was sent' : 'the blob is being read as a stream already'));
    }
    this.mode = 'writeTo';
    return new Promise<void>((resolve, reject) => {
      this.settle = (err) => (err ? reject(err) : resolve());
      this.destination = destination;
      destination.once('close', this.closedEarly);
      for (const { chunk, lent } of this.waiting.splice(0)) this.write(destination, chunk, lent);
      if (this.remaining === 0 && this.inFlight === 0) this.end();
      else this.source.resume();
    });
  }

  private readonly closedEarly = (): void => {
    this.end(new Error('the destination closed before the blob was sent'));
  };

  private write(destination: Writable, chunk: Buffer, lent: Buffer | null): boolean {
    this.inFlight++;
    const more = destination.write(chunk, (err) => {
      this.inFlight--;
      if (lent) giveBack(lent);
      if (err) this.end(err);
      else if (this.remaining === 0 && this.inFlight === 0) this.end();
    });
    if (!more && !this.waitingForDrain) {
      this.waitingForDrain = true;
      destination.once('drain', () => {
        this.waitingForDrain = false;
        this.source.resume();
      });
    }
    return more;
  }

  private end(err?: Error): void {
    const settle = this.settle;
    if (!settle) return;
    this.settle = null;
    this.destination?.off('close', this.closedEarly);
    // writeTo releases the stream (and, when bytes are left, the connection).
    this.stream.destroy();
    settle(err);
  }
}
