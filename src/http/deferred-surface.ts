import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * HTTP surfaces built after the port opens: the management API, its documentation, the admission
 * webhook and the web console. Registering their couple of hundred routes (Fastify compiles a
 * matcher per route) took longer than everything else a new replica does before it can answer
 * /v2/, so the registry's own routes open first and these follow: on their first request, or
 * shortly after the start, whichever comes first. A request that arrives meanwhile waits for them.
 */
export class DeferredSurface {
  private building: Promise<void> | undefined;
  private instance: FastifyInstance | undefined;
  private handler: Handler | undefined;
  private failure: Error | undefined;
  private closed = false;

  constructor(private readonly build: (capture: (handler: Handler) => void) => Promise<FastifyInstance>, private readonly log: Logger) {}

  /** Serves the request once the surfaces exist (at once when they do). */
  handle(req: IncomingMessage, res: ServerResponse): void {
    if (this.handler) {
      this.handler(req, res);
      return;
    }
    void this.ready().then(() => {
      if (this.handler) this.handler(req, res);
      else unavailable(res, this.failure ?? new Error('the server is closing'));
    });
  }

  /** Builds the surfaces if nobody has yet; never rejects (a failure answers 503 and is logged). */
  ready(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.building ??= (async () => {
      let captured: Handler | undefined;
      try {
        const instance = await this.build((handler) => { captured = handler; });
        await instance.ready();
        this.instance = instance;
        if (this.closed) {
          await instance.close();
          return;
        }
        this.handler = captured;
      } catch (err) {
        this.failure = err as Error;
        this.log.error({ err }, 'the management API, admission webhook and console could not be built: they answer 503');
      }
    })();
    return this.building;
  }

  /** After `ms`, unless a request asked first; the timer does not hold the process. */
  readySoon(ms: number): void {
    setTimeout(() => { void this.ready(); }, ms).unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.handler = undefined;
    if (this.building) await this.building;
    await this.instance?.close();
  }
}

function unavailable(res: ServerResponse, err: Error): void {
  if (res.headersSent) return;
  const body = JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: `this part of the server is unavailable: ${err.message}`, detail: null }] });
  res.writeHead(503, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Retry-After': '5' });
  res.end(body);
}
