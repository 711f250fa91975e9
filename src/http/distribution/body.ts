import type { IncomingMessage } from 'node:http';
import { RegistryError } from '../../oci/errors.js';

/** Reads a small request body whole, refusing more than `limit` bytes with the given error. */
export async function readBody(req: IncomingMessage, limit: number, tooLarge: (size: number) => RegistryError): Promise<Buffer> {
  const declared = contentLength(req);
  if (declared !== undefined && declared > limit) throw tooLarge(declared);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      req.destroy();
      throw tooLarge(size);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, size);
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
