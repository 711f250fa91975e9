import type { IncomingMessage, Server } from 'node:http';
import type { Logger } from 'pino';

/**
 * Aborts requests whose body stops arriving: a client that sends nothing for `idleMs` loses its
 * connection, so it cannot hold a socket (and an upload's lock) forever. Only silence counts, never
 * the total time: a multi-GiB upload over a slow but steady link is never cut. An aborted chunk is
 * not counted, so the upload session stays where it was and the client resumes from its Range.
 *
 * Progress is read from the socket's byte count, so nothing here consumes or pauses the body.
 */
export function abortIdleBodies(server: Server, idleMs: number, log: Logger): void {
  if (idleMs <= 0) return;
  const watched = new Map<IncomingMessage, { bytesRead: number; since: number }>();
  server.on('request', (req: IncomingMessage) => {
    if (req.complete || !carriesBody(req)) return;
    watched.set(req, { bytesRead: req.socket.bytesRead, since: Date.now() });
    const forget = (): void => { watched.delete(req); };
    req.once('end', forget);
    req.once('close', forget);
  });
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [req, progress] of watched) {
      const bytesRead = req.socket.bytesRead;
      if (bytesRead !== progress.bytesRead) {
        progress.bytesRead = bytesRead;
        progress.since = now;
      } else if (now - progress.since >= idleMs) {
        watched.delete(req);
        log.warn({ method: req.method, url: req.url?.slice(0, 512), idleSeconds: idleMs / 1000 }, 'request body idle too long (http.requestIdleTimeout): connection closed');
        req.socket.destroy();
      }
    }
  }, Math.min(Math.max(idleMs / 4, 50), 5000));
  sweep.unref();
  server.once('close', () => clearInterval(sweep));
}

function carriesBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return length !== undefined ? length !== '0' : req.headers['transfer-encoding'] !== undefined;
}
