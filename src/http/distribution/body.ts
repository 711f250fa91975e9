import type { IncomingMessage } from 'node:http';
import { RegistryError } from '../../oci/errors.js';

/**
 * Reads a small request body whole, refusing more than `limit` bytes with the given error.
 * Past the limit it stops reading but leaves the connection open, so the refusal can still be
 * answered (the error reply closes the connection).
 */
export async function readBody(req: IncomingMessage, limit: number, tooLarge: (size: number) => RegistryError): Promise<Buffer> {
  const declared = contentLength(req);
  if (declared !== undefined && declared > limit) throw tooLarge(declared);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        settled = true;
        req.off('data', onData);
        req.pause();
        reject(tooLarge(size));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => {
      if (!settled) resolve(Buffer.concat(chunks, size));
      settled = true;
    });
    // Kept after settling: an unhandled 'error' on the request would crash the process.
    req.on('error', (err) => {
      if (!settled) reject(err);
      settled = true;
    });
  });
}

export function contentLength(req: IncomingMessage): number | undefined {
  const header = req.headers['content-length'];
  if (header === undefined) return undefined;
  if (!/^\d{1,15}$/.test(header)) throw new RegistryError('SIZE_INVALID', `Content-Length "${header.slice(0, 20)}" is not a number`, null);
  return Number(header);
}

/** True when the request carries a body (a length above zero, or chunked transfer). */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return length !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}
