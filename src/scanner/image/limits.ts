/**
 * Bounds on what one image analysis may consume. A layer is untrusted input (anyone with push
 * rights can upload a tar bomb); each limit stops the analysis with a ScanError rather than let
 * memory, time or CPU grow without bound.
 */
export interface ScanLimits {
  /** Tar entries over all layers of one image. */
  maxEntries: number;
  /** Bytes of one entry's path after pax/GNU long names are applied. */
  maxPathLength: number;
  /** Components of one entry's path. */
  maxPathDepth: number;
  /** Bytes after decompression over all layers of one image. */
  maxDecompressedBytes: number;
  /**
   * Bytes of one kept file (package database, manifest, os-release). A package database over
   * the cap is an error (the package list would be incomplete); other kept files over it are
   * skipped with a warning; Go binaries of any size are scanned for build info as they stream.
   */
  maxKeptFileBytes: number;
  /** Bytes of all kept files together. */
  maxKeptTotalBytes: number;
  /** zstd window (the decoder's history buffer) a frame may ask for; zstd's own default limit is 128 MiB. */
  maxZstdWindowBytes: number;
}

const MiB = 1024 * 1024;

export const defaultScanLimits: Readonly<ScanLimits> = Object.freeze({
  maxEntries: 1_000_000,
  maxPathLength: 4096,
  maxPathDepth: 256,
  maxDecompressedBytes: 32 * 1024 * MiB,
  maxKeptFileBytes: 16 * MiB,
  maxKeptTotalBytes: 512 * MiB,
  maxZstdWindowBytes: 128 * MiB,
});

export function resolveLimits(overrides: Partial<ScanLimits> = {}): ScanLimits {
  return { ...defaultScanLimits, ...overrides };
}
