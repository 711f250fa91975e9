/**
 * The one catalogue of registry error codes (OCI Distribution Spec, "Error Codes"),
 * each registered once with its HTTP status and default message, as in
 * Distribution's api/errcode. Domain code throws RegistryError; the HTTP layer maps it.
 */
export const ERROR_CODES = {
  BLOB_UNKNOWN: { status: 404, message: 'blob unknown to registry' },
  BLOB_UPLOAD_INVALID: { status: 400, message: 'blob upload invalid' },
  BLOB_UPLOAD_UNKNOWN: { status: 404, message: 'blob upload unknown to registry' },
  DIGEST_INVALID: { status: 400, message: 'provided digest did not match uploaded content' },
  // The spec names the code but not its status (end-7 lists 404/413 for other failures); 400 is
  // what Distribution answers and what clients (containers/image, containerd) are written against.
  MANIFEST_BLOB_UNKNOWN: { status: 400, message: 'manifest references a manifest or blob unknown to registry' },
  MANIFEST_INVALID: { status: 400, message: 'manifest invalid' },
  MANIFEST_UNKNOWN: { status: 404, message: 'manifest unknown to registry' },
  NAME_INVALID: { status: 400, message: 'invalid repository name' },
  NAME_UNKNOWN: { status: 404, message: 'repository name not known to registry' },
  SIZE_INVALID: { status: 400, message: 'provided length did not match content length' },
  UNAUTHORIZED: { status: 401, message: 'authentication required' },
  DENIED: { status: 403, message: 'requested access to the resource is denied' },
  UNSUPPORTED: { status: 405, message: 'the operation is unsupported' },
  TOOMANYREQUESTS: { status: 429, message: 'too many requests' },
  // Not in the spec's table, but used by Distribution and understood by clients.
  TAG_INVALID: { status: 400, message: 'manifest tag did not match URI' },
  PAGINATION_NUMBER_INVALID: { status: 400, message: 'invalid number of results requested' },
  RANGE_INVALID: { status: 416, message: 'invalid content range' },
  // Distribution's code for 503: a dependency (here the metadata database) is down for a moment.
  UNAVAILABLE: { status: 503, message: 'service unavailable' },
  UNKNOWN: { status: 500, message: 'unknown error' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class RegistryError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: unknown;
  /** Extra response headers the error must carry (Range on 416, WWW-Authenticate on 401, ...). */
  readonly headers: Record<string, string>;

  /** `cause`: the failure behind this answer (a disk error, say), kept for the log. */
  constructor(code: ErrorCode, message?: string, detail?: unknown, options?: { status?: number; headers?: Record<string, string>; cause?: unknown }) {
    super(message ?? ERROR_CODES[code].message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RegistryError';
    this.code = code;
    this.status = options?.status ?? ERROR_CODES[code].status;
    this.detail = detail ?? null;
    this.headers = options?.headers ?? {};
  }

  toBody(): { errors: Array<{ code: string; message: string; detail: unknown }> } {
    return { errors: [{ code: this.code, message: this.message, detail: this.detail }] };
  }
}

export function registryError(code: ErrorCode, message?: string, detail?: unknown): RegistryError {
  return new RegistryError(code, message, detail);
}
