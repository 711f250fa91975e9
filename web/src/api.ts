/**
 * The console's only way to the registry: /auth/token to sign in (as `wharf login` does) and
 * /api/v1 for everything else, with the access token as a Bearer. A 401 ends the session: the
 * console goes back to the sign-in page and says why.
 */

export interface Session {
  token: string;
  /** Epoch milliseconds the access token stops being accepted. */
  expiresAt: number;
  username: string;
}

const KEY = 'wharf.console.session';

export function loadSession(now = Date.now()): Session | undefined {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as Session | null;
    return s && s.expiresAt > now ? s : undefined;
  } catch {
    return undefined;
  }
}

export function saveSession(session: Session | undefined): void {
  if (session) sessionStorage.setItem(KEY, JSON.stringify(session));
  else sessionStorage.removeItem(KEY);
}

/** An error the API answered (problem+json), with the text to show the person. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly type?: string) {
    super(message);
  }
}

let onExpired: (message: string) => void = () => {};
/** Who is told when the API refuses the session (the app shell, which signs out). */
export function whenSessionExpires(handler: (message: string) => void): void {
  onExpired = handler;
}

export async function signIn(username: string, password: string): Promise<Session> {
  const res = await fetch('/auth/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username, password }),
  });
  const body = await res.json().catch(() => ({})) as { access_token?: string; expires_in?: number; error_description?: string };
  if (!res.ok || !body.access_token) {
    throw new ApiError(res.status, body.error_description ?? `sign-in failed (HTTP ${res.status})`);
  }
  return { token: body.access_token, expiresAt: Date.now() + (body.expires_in ?? 300) * 1000, username };
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const session = loadSession();
  if (!session) {
    onExpired('Your session has expired: sign in again.');
    throw new ApiError(401, 'Your session has expired: sign in again.');
  }
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      headers: { Authorization: `Bearer ${session.token}`, Accept: 'application/json', ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch {
    throw new ApiError(0, 'The registry cannot be reached: check the connection and try again.');
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const problem = (parsed ?? {}) as { detail?: string; title?: string; type?: string };
    const message = problem.detail ?? problem.title ?? `the registry answered HTTP ${res.status}`;
    if (res.status === 401) {
      saveSession(undefined);
      onExpired('Your session has expired: sign in again.');
    }
    throw new ApiError(res.status, message, problem.type);
  }
  return parsed as T;
}

export const enc = encodeURIComponent;
