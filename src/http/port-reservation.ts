import net from 'node:net';

export interface PortReservation {
  /** Frees the port for the HTTP server; safe to call more than once. */
  release(): Promise<void>;
}

/**
 * Binds the HTTP port at the very start and holds it while the rest starts, so a start that cannot
 * listen fails before it creates anything (above all the administrator, whose generated password
 * is shown only once), and no other program takes the port meanwhile. Released just before the
 * HTTP server binds it. Port 0 (any free port) cannot be taken: nothing to hold.
 */
export async function reservePort(host: string, port: number): Promise<PortReservation> {
  if (port === 0) return { release: async () => {} };
  // Held, not served: a client that connects meanwhile (a readiness probe, say) is cut off at
  // once and retries, instead of waiting on a socket nobody will ever answer.
  const server = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  let released: Promise<void> | undefined;
  return {
    release() {
      released ??= new Promise<void>((resolve) => server.close(() => resolve()));
      return released;
    },
  };
}
