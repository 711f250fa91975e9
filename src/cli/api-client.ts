import { readLogin, writeLogin, type StoredLogin } from './config-file.js';
import { CliError, UsageError, type CliContext } from './context.js';

/** A problem+json answer of the API (or another error answer), with what the user should do next. */
export class ApiError extends CliError {
  constructor(readonly status: number, readonly type: string, message: string) {
    super(message, 1);
    this.name = 'ApiError';
  }
}

/**
 * "localhost:5000", "https://registry.example.com/" → a base URL. Without a scheme, loopback hosts
 * get http:// and every other host https://, as docker assumes.
 */
export function registryUrl(text: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `${/^(localhost|127\.|\[::1\])/.test(text) ? 'http' : 'https'}://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(`"${text}" is not a registry URL: write e.g. http://localhost:5000 or https://registry.example.com`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`"${text}" is not an http:// or https:// URL`);
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}

export interface Tokens {
  accessToken: string;
  refreshToken: string;
  accessTokenExpires: string;
}

/** Node's codes for a server certificate the client does not trust (chain, name or dates). */
const UNTRUSTED_CERTIFICATE = new Set(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID']);

/** Explains a failed fetch (nothing listening, DNS, TLS) and what to check. */
function unreachable(url: string, err: unknown): CliError {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code && UNTRUSTED_CERTIFICATE.has(cause.code)) {
    return new CliError(`the certificate of the registry at ${url} is not trusted (${cause.message ?? cause.code}): if it comes from a private CA, give that CA's certificate with NODE_EXTRA_CA_CERTS=/path/to/ca.crt, or add it to the system's trust store`);
  }
  const why = cause?.code === 'ECONNREFUSED' ? 'connection refused'
    : cause?.code === 'ENOTFOUND' ? 'unknown host'
      : cause?.message ?? (err as Error).message;
  // A plain-HTTP request to a TLS port is cut off without an answer.
  const hint = url.startsWith('http:') && (cause?.code === 'ECONNRESET' || cause?.code === 'UND_ERR_SOCKET') ? '; if it serves HTTPS, use an https:// URL' : '';
  return new CliError(`cannot reach the registry at ${url} (${why}): check that it is running and the URL is right (wharf login <url>)${hint}`);
}

async function send(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(120_000) });
  } catch (err) {
    throw unreachable(new URL(url).origin, err);
  }
}

/** POST /auth/token (the OAuth2 form): a password grant at login, a refresh grant later. */
export async function requestToken(baseUrl: string, form: Record<string, string>, now: number): Promise<Tokens> {
  const res = await send(`${baseUrl}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams(form).toString(),
  });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON: not a Wharf token endpoint
  }
  if (!res.ok || typeof body.access_token !== 'string') {
    if (res.status === 404 || (res.ok && typeof body.access_token !== 'string')) {
      throw new CliError(`${baseUrl} does not look like a Wharf registry (POST /auth/token answered ${res.status}): check the URL`);
    }
    const reason = typeof body.error_description === 'string' ? body.error_description : `${res.status} ${res.statusText}`;
    throw new ApiError(res.status, typeof body.error === 'string' ? body.error : 'token', reason);
  }
  const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : 300;
  return {
    accessToken: body.access_token,
    refreshToken: typeof body.refresh_token === 'string' ? body.refresh_token : (form.refresh_token ?? ''),
    accessTokenExpires: new Date(now + expiresIn * 1000).toISOString(),
  };
}

/** Query values; undefined, null and false are left out. */
export type Query = Record<string, string | number | boolean | undefined | null>;

/**
 * The management API (/api/v1) as the logged-in principal. The access token is renewed with the
 * refresh token when it has expired (or the API says it has), and the renewed one is stored.
 */
export class ApiClient {
  private constructor(private readonly ctx: CliContext, private login: StoredLogin) {}

  /** The client for the stored login; not logged in is an error that says to log in. */
  static fromStoredLogin(ctx: CliContext): ApiClient {
    const login = readLogin(ctx.configPath);
    if (!login) throw new CliError('not logged in: run wharf login <registry-url> (e.g. wharf login http://localhost:5000)');
    return new ApiClient(ctx, login);
  }

  get url(): string {
    return this.login.url;
  }

  /** host[:port] of the registry, as image references start. */
  get host(): string {
    return new URL(this.login.url).host;
  }

  get username(): string {
    return this.login.username;
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>('GET', path, { query });
  }

  post<T>(path: string, body?: unknown, query?: Query): Promise<T> {
    return this.request<T>('POST', path, { body, query });
  }

  put<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('PUT', path, { body });
  }

  patch<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('PATCH', path, { body });
  }

  delete<T = void>(path: string, query?: Query): Promise<T> {
    return this.request<T>('DELETE', path, { query });
  }

  async request<T>(method: string, path: string, options: { query?: Query; body?: unknown } = {}): Promise<T> {
    if (Date.parse(this.login.accessTokenExpires) - 30_000 < this.ctx.now()) await this.refresh();
    let res = await this.send(method, path, options);
    if (res.status === 401) {
      await this.refresh();
      res = await this.send(method, path, options);
    }
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (!res.ok) throw this.problem(method, path, res, body);
    return body as T;
  }

  private send(method: string, path: string, options: { query?: Query; body?: unknown }): Promise<Response> {
    const url = new URL(`${this.login.url}/api/v1${path}`);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined && value !== null && value !== false) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = { authorization: `Bearer ${this.login.accessToken}`, accept: 'application/json, application/problem+json' };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    return send(url.toString(), { method, headers, ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}) });
  }

  private async refresh(): Promise<void> {
    let tokens: Tokens;
    try {
      tokens = await requestToken(this.login.url, { grant_type: 'refresh_token', refresh_token: this.login.refreshToken }, this.ctx.now());
    } catch (err) {
      if (err instanceof ApiError && (err.status === 401 || err.status === 400)) {
        throw new CliError(`your login to ${this.login.url} has expired or was revoked: run wharf login ${this.login.url}`);
      }
      throw err;
    }
    this.login = { ...this.login, ...tokens };
    writeLogin(this.ctx.configPath, this.login);
  }

  private problem(method: string, path: string, res: Response, body: unknown): ApiError {
    const problem = (body ?? {}) as { type?: string; title?: string; detail?: string; errors?: Array<{ message?: string }> };
    const type = typeof problem.type === 'string' ? problem.type.replace(/^.*\//, '') : String(res.status);
    let message = problem.detail ?? problem.errors?.[0]?.message ?? problem.title ?? `${res.status} ${res.statusText}`;
    if (res.status === 404 && /^no API route/.test(message)) {
      message = `the registry at ${this.login.url} does not offer ${method} /api/v1${path.split('?')[0]}: it may run an older Wharf; upgrade it`;
    } else if (res.status === 401) {
      message = `${message} (run wharf login ${this.login.url})`;
    }
    return new ApiError(res.status, type, message);
  }
}
