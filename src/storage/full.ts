import { RegistryError } from '../oci/errors.js';

/**
 * What each layer says when it is out of space: the filesystem (ENOSPC, or EDQUOT for a user's
 * disk quota), SQLite (SQLITE_FULL) and PostgreSQL (SQLSTATE 53100, disk_full).
 */
const OUT_OF_SPACE = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL', '53100']);

/** True when `err`, or an error it wraps (`cause`), is a write refused for lack of space. */
export function isStorageFull(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof RegistryError && e.status === 507) return true;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && OUT_OF_SPACE.has(code)) return true;
  }
  return false;
}

/**
 * The answer to a write refused for lack of space: 507 Insufficient Storage with the spec's
 * UNKNOWN code. Clients print the status line of a 5xx answer without reading its body (skopeo,
 * podman and docker say "received unexpected HTTP status: 507 Insufficient Storage"), so the
 * status itself must tell the user what happened; the message says what to do next.
 */
export function storageFullError(cause: unknown, message = 'storage is full: the registry has no space left to store this; try again once space has been freed'): RegistryError {
  return new RegistryError('UNKNOWN', message, null, { status: 507, cause });
}
