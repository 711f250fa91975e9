import { RegistryError } from '../../oci/errors.js';
import type { ByteRange } from '../../storage/ports.js';

/**
 * Parses a single `Range: bytes=` request (RFC 9110) against a blob of `size` bytes.
 * Returns undefined for no header or a form this server ignores (another unit, or multiple ranges:
 * the whole blob is served, which RFC 9110 allows); throws 416 when the range cannot be satisfied.
 */
export function parseRangeHeader(header: string | undefined, size: number): ByteRange | undefined {
  if (!header) return undefined;
  // RFC 9110 §14.2: a range unit the server does not understand is ignored, not refused.
  if (!/^bytes=/i.test(header.trim())) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) {
    if (/^bytes=[\d\s,-]+$/.test(header.trim())) return undefined;
    throw unsatisfiable(header, size);
  }
  const [, first, last] = match;
  let start: number;
  let end: number;
  if (first === '' && last === '') throw unsatisfiable(header, size);
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0) throw unsatisfiable(header, size);
    start = Math.max(size - suffix, 0);
    end = size - 1;
  } else {
    start = Number(first);
    end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
    if (last !== '' && Number(last) < start) throw unsatisfiable(header, size);
  }
  if (start >= size) throw unsatisfiable(header, size);
  return { start, end };
}

function unsatisfiable(header: string, size: number): RegistryError {
  return new RegistryError('RANGE_INVALID', `Range "${header.slice(0, 60)}" cannot be satisfied by a blob of ${size} bytes`, { size }, {
    status: 416,
    headers: { 'Content-Range': `bytes */${size}` },
  });
}
