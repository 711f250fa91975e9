/**
 * Why an image could not be analysed. A scan job stores `code` and `message` as the image's
 * scan error status; the message names the layer (and file) and says what to do next.
 */
export type ScanErrorCode =
  /** The layer is not a tar archive, or not in the compression its media type declares. */
  | 'invalid-archive'
  /** The gzip/zstd stream or the tar archive ends early. */
  | 'truncated'
  /** A limit of ScanLimits was exceeded (entries, bytes, path length or depth, zstd window): a tar bomb or an absurd image. */
  | 'limit-exceeded'
  /** A package database the scanner must read whole is bigger than the per-file cap. */
  | 'file-too-large'
  /** A package database is not in the format its package manager writes (a corrupt rpmdb.sqlite). */
  | 'invalid-database'
  /** The layer's bytes could not be read from storage. */
  | 'layer-unreadable';

export class ScanError extends Error {
  override readonly name = 'ScanError';
  constructor(
    readonly code: ScanErrorCode,
    message: string,
    readonly layer?: string,
    readonly path?: string,
  ) {
    super(message);
  }
}

/** The short form of a digest for messages: sha256:0123456789ab. */
export function shortDigest(digest: string): string {
  const colon = digest.indexOf(':');
  return colon >= 0 ? digest.slice(0, colon + 13) : digest.slice(0, 12);
}
