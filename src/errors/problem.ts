/**
 * Errors of the management API, answered as RFC 9457 problem+json. Each type is a stable slug that
 * clients may branch on; the title is fixed per type, the detail says what to do next.
 */
export const PROBLEM_TYPES = {
  'bad-request': { status: 400, title: 'The request is not valid' },
  unauthorized: { status: 401, title: 'Authentication required' },
  forbidden: { status: 403, title: 'Not allowed' },
  'not-found': { status: 404, title: 'Not found' },
  conflict: { status: 409, title: 'Conflict with the current state' },
  'too-many-requests': { status: 429, title: 'Too many requests' },
  'quota-exceeded': { status: 403, title: 'Quota exceeded' },
  'payload-too-large': { status: 413, title: 'Request body too large' },
  internal: { status: 500, title: 'Internal error' },
  'storage-full': { status: 507, title: 'Storage full' },
  unavailable: { status: 503, title: 'Service unavailable' },
} as const;

export type ProblemType = keyof typeof PROBLEM_TYPES;

export class ProblemError extends Error {
  readonly type: ProblemType;
  readonly status: number;
  readonly extra: Record<string, unknown>;

  constructor(type: ProblemType, detail: string, extra: Record<string, unknown> = {}) {
    super(detail);
    this.name = 'ProblemError';
    this.type = type;
    this.status = PROBLEM_TYPES[type].status;
    this.extra = extra;
  }

  toBody(instance?: string): Record<string, unknown> {
    return {
      type: `/api/v1/problems/${this.type}`,
      title: PROBLEM_TYPES[this.type].title,
      status: this.status,
      detail: this.message,
      ...(instance ? { instance } : {}),
      ...this.extra,
    };
  }
}
