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
  /** Renews the access token (auth.tokenTtl is minutes) until sign-out revokes it. */
  refreshToken?: string;
}

const KEY = 'wharf.console.session';

/** The tab's session: in sessionStorage, so it survives a reload and ends with the tab. */
export function loadSession(now = Date.now()): Session | undefined {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as Session | null;
    return s && (s.expiresAt > now || s.refreshToken) ? s : undefined;
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

/** Ends the session here with a word to the user (their password changed: its tokens no longer count). */
export function endSession(message: string): void {
  onExpired(message);
}

async function tokenRequest(form: Record<string, string>): Promise<{ access_token: string; expires_in: number; refresh_token?: string }> {
  const res = await fetch('/auth/token', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
  const body = await res.json().catch(() => ({})) as { access_token?: string; expires_in?: number; refresh_token?: string; error_description?: string };
  if (!res.ok || !body.access_token) throw new ApiError(res.status, body.error_description ?? `sign-in failed (HTTP ${res.status})`);
  return { access_token: body.access_token, expires_in: body.expires_in ?? 300, ...(body.refresh_token ? { refresh_token: body.refresh_token } : {}) };
}

export async function signIn(username: string, password: string): Promise<Session> {
  const t = await tokenRequest({ grant_type: 'password', username, password, access_type: 'offline' });
  return { token: t.access_token, expiresAt: Date.now() + t.expires_in * 1000, username, ...(t.refresh_token ? { refreshToken: t.refresh_token } : {}) };
}

/** Ends the session on the server too: the refresh token is revoked. */
export async function signOut(): Promise<void> {
  const session = loadSession();
  saveSession(undefined);
  if (session?.refreshToken) {
    await fetch('/auth/revoke', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: session.refreshToken }) }).catch(() => undefined);
  }
}

let refreshing: Promise<Session | undefined> | undefined;

/** A fresh access token from the refresh token; one renewal at a time for all requests waiting. */
function renew(session: Session): Promise<Session | undefined> {
  if (!session.refreshToken) return Promise.resolve(undefined);
  refreshing ??= tokenRequest({ grant_type: 'refresh_token', refresh_token: session.refreshToken })
    .then((t) => {
      const next = { ...session, token: t.access_token, expiresAt: Date.now() + t.expires_in * 1000 };
      saveSession(next);
      return next;
    }, () => undefined)
    .finally(() => { refreshing = undefined; });
  return refreshing;
}

function expired(): never {
  saveSession(undefined);
  onExpired('Your session has expired: sign in again.');
  throw new ApiError(401, 'Your session has expired: sign in again.');
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  let session = loadSession();
  if (!session) return expired();
  // Renew a little before the token runs out rather than have a request refused.
  if (session.expiresAt - Date.now() < 15_000) session = (await renew(session)) ?? expired();
  let res = await send(session, method, path, body);
  if (res.status === 401 && session.refreshToken) {
    session = (await renew(session)) ?? expired();
    res = await send(session, method, path, body);
  }
  if (res.status === 401) return expired();
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
    throw new ApiError(res.status, problem.detail ?? problem.title ?? `the registry answered HTTP ${res.status}`, problem.type);
  }
  return parsed as T;
}

async function send(session: Session, method: string, path: string, body: unknown): Promise<Response> {
  try {
    return await fetch(`/api/v1${path}`, {
      method,
      headers: { Authorization: `Bearer ${session.token}`, Accept: 'application/json', ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch {
    throw new ApiError(0, 'The registry cannot be reached: check the connection and try again.');
  }
}

export const enc = encodeURIComponent;
