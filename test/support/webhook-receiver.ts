import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedDelivery {
  headers: IncomingHttpHeaders;
  body: string;
  json: unknown;
}

/**
 * A real HTTP receiver of webhook deliveries. `answer` decides each response: a status, or 'hold' to
 * keep the request open until `release()` (a receiver that hangs).
 */
export interface WebhookReceiver {
  url: string;
  port: number;
  /** Every request that arrived, in arrival order (answered or not). */
  received: ReceivedDelivery[];
  answer: (delivery: ReceivedDelivery, index: number) => number | 'hold';
  /** Answers every held request with 200. */
  release(): void;
  held(): number;
  close(): Promise<void>;
}

/** Starts a receiver on `port` (0: a free one) on the loopback. */
export async function startReceiver(port = 0): Promise<WebhookReceiver> {
  const holding: ServerResponse[] = [];
  const receiver: WebhookReceiver = {
    url: '',
    port: 0,
    received: [],
    answer: () => 200,
    release() {
      for (const res of holding.splice(0)) res.writeHead(200).end();
    },
    held: () => holding.length,
    close: () => new Promise<void>((resolve) => {
      receiver.release();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const delivery = { headers: req.headers, body, json };
      receiver.received.push(delivery);
      const status = receiver.answer(delivery, receiver.received.length - 1);
      if (status === 'hold') holding.push(res);
      else res.writeHead(status, { 'Content-Type': 'text/plain' }).end(status >= 300 ? `receiver says ${status}` : 'ok');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  receiver.port = (server.address() as AddressInfo).port;
  receiver.url = `http://127.0.0.1:${receiver.port}/hook`;
  return receiver;
}
