import type { Kysely } from 'kysely';
import type { Database, PrincipalKind } from '../metadata/schema.js';
import { findApiKeyByPrefix, findApiKey, touchApiKey } from '../metadata/api-keys.js';
import { findServiceId, findUser, findUserByName } from '../metadata/principals.js';
import type { AuditLog } from './audit-log.js';
import type { LoginThrottle } from './login-throttle.js';
import { parsePrincipalRef, type AuthenticatedPrincipal, type Principal } from './principal.js';
import { parseApiKey, safeEqual, sha256Hex, verifyPassword } from './secrets.js';
import type { TokenClaims, TokenService } from './token-service.js';

/** The username that says "the password is an API key" (IBM Cloud's convention). */
export const API_KEY_USERNAME = 'iamapikey';

export type AuthFailure = 'invalid-credentials' | 'rate-limited';

export class AuthenticationError extends Error {
  constructor(readonly reason: AuthFailure, message: string, readonly retryAfter = 0) {
    super(message);
    this.name = 'AuthenticationError';
  }
}

/** The user's session stamp: derived from the password hash, so it changes with every password change. */
function sessionStamp(passwordHash: string): string {
  return sha256Hex(`session\u0000${passwordHash}`).slice(0, 22);
}

/** How long a verified password stays verified, so Basic auth on every request costs one argon2 per minute. */
const VERIFIED_TTL_MS = 60_000;

/** Resolves credentials (password, API key, token, refresh token) to a principal. */
export class Authenticator {
  private readonly verified = new Map<string, { userId: number; hash: string; until: number }>();
  private lastTouch = new Map<number, number>();
  private creatingAccounts: Promise<void> | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly tokens: TokenService,
    private readonly throttle: LoginThrottle,
    private readonly audit: AuditLog,
    private readonly now: () => number,
  ) {}

  /**
   * Credentials wait until `creation` settles: the start creates the first administrator after the
   * port opens (hashing its password is not on the path of the first answer), and a login in that
   * moment must find it. A creation that fails stops the start; logins then go on without it.
   */
  waitForAccounts(creation: Promise<unknown>): void {
    const settled = creation.then(() => undefined, () => undefined);
    this.creatingAccounts = settled;
    void settled.then(() => {
      if (this.creatingAccounts === settled) this.creatingAccounts = undefined;
    });
  }

  async loadPrincipal(kind: PrincipalKind, id: number, apiKeyId: number | null): Promise<AuthenticatedPrincipal | undefined> {
    if (kind === 'user') {
      const user = await findUser(this.db, id);
      return user && { kind: 'user', id: user.id, accountId: user.account_id, name: user.username, owner: user.owner === 1, apiKeyId, session: sessionStamp(user.password_hash) };
    }
    const service = await findServiceId(this.db, id);
    return service && { kind: 'service', id: service.id, accountId: service.account_id, name: service.name, apiKeyId };
  }

  /**
   * Username + password, `iamapikey` + API key, or any username + that principal's API key.
   *
   * Failed attempts are throttled per subject and source (see LoginThrottle). While a source waits, no
   * password from it is checked, not even a correct one: answering would let the attacker go on
   * guessing. A user behind the same address (a shared NAT) waits seconds to minutes, never more than
   * auth.loginMaxBackoff, and is untouched from any other address; a token or refresh token already
   * issued keeps working. A correct API key is never throttled: its secret cannot be guessed, so
   * answering it tells an attacker nothing, and a pipeline cannot be locked out by someone who only
   * knows the key's public prefix.
   */
  async basic(username: string, secret: string, source: string): Promise<AuthenticatedPrincipal> {
    // A new registry's administrator may still be being created (it is, just after the port opens).
    if (this.creatingAccounts) await this.creatingAccounts;
    const principal = await this.verifyBasic(username, secret, source);
    // Clients sending Basic credentials on every request log in on every request: batched, one row
    // per principal and address for each flush interval.
    this.audit.recordBatched({
      accountId: principal.accountId, actor: principal, action: 'login', resource: 'registry', outcome: 'success', source,
      detail: { credential: principal.apiKeyId === null ? 'password' : 'api key' },
    });
    return principal;
  }

  private async verifyBasic(username: string, secret: string, source: string): Promise<AuthenticatedPrincipal> {
    const apiKey = parseApiKey(secret);
    if (apiKey) {
      const principal = await this.byApiKey(secret, username);
      if (principal) return principal;
      // Limited per key (its public prefix), not per `iamapikey`: a bad key elsewhere locks out no other key.
      const wait = await this.throttle.attempt(`apikey ${apiKey.prefix}`, source);
      if (wait > 0) throw this.rateLimited(username, source, wait);
      throw await this.invalid(username, source);
    }
    const user = username === API_KEY_USERNAME ? undefined : await findUserByName(this.db, username);
    if (user && this.recentlyVerified(user, username, secret)) {
      const wait = await this.throttle.waitFor(username, source);
      if (wait > 0) throw this.rateLimited(username, source, wait);
      const principal = await this.loadPrincipal('user', user.id, null);
      if (principal) return principal;
    }
    const wait = await this.throttle.attempt(username, source);
    if (wait > 0) throw this.rateLimited(username, source, wait);
    const principal = await this.byPassword(user, username, secret);
    if (!principal) throw await this.invalid(username, source);
    await this.throttle.succeeded(username, source);
    return principal;
  }

  private rateLimited(username: string, source: string, waitMs: number): AuthenticationError {
    const seconds = Math.max(1, Math.ceil(waitMs / 1000));
    this.audit.record({ accountId: null, actor: `login ${username.slice(0, 100)}`, action: 'login', resource: 'registry', outcome: 'deny', source, detail: { reason: 'rate limited' } });
    return new AuthenticationError('rate-limited', `too many failed logins for this user from your address: try again in ${seconds} seconds`, seconds);
  }

  private async invalid(username: string, source: string): Promise<AuthenticationError> {
    const user = await findUserByName(this.db, username);
    this.audit.record({ accountId: user?.account_id ?? null, actor: `login ${username.slice(0, 100)}`, action: 'login', resource: 'registry', outcome: 'failure', source, detail: { reason: 'invalid credentials' } });
    return new AuthenticationError('invalid-credentials', 'invalid username, password or API key');
  }

  private recentlyVerified(user: { id: number; password_hash: string }, username: string, password: string): boolean {
    const cached = this.verified.get(sha256Hex(`${username}\u0000${password}`));
    return cached !== undefined && cached.userId === user.id && cached.hash === user.password_hash && cached.until > this.now();
  }

  private async byPassword(user: { id: number; password_hash: string } | undefined, username: string, password: string): Promise<AuthenticatedPrincipal | undefined> {
    if (username === API_KEY_USERNAME) return undefined;
    if (!(await verifyPassword(user?.password_hash, password)) || !user) return undefined;
    this.verified.set(sha256Hex(`${username}\u0000${password}`), { userId: user.id, hash: user.password_hash, until: this.now() + VERIFIED_TTL_MS });
    if (this.verified.size > 10_000) this.verified.delete(this.verified.keys().next().value!);
    return this.loadPrincipal('user', user.id, null);
  }

  private async byApiKey(key: string, username: string): Promise<AuthenticatedPrincipal | undefined> {
    const parsed = parseApiKey(key)!;
    const row = await findApiKeyByPrefix(this.db, parsed.prefix);
    // Compare even when no row matched, so timing does not tell a wrong prefix from a wrong secret.
    const matches = safeEqual(row?.secret_hash ?? sha256Hex('no such key'), sha256Hex(key));
    if (!row || !matches || row.revoked_at !== null) return undefined;
    const principal = await this.loadPrincipal(row.principal_kind, row.principal_id, row.id);
    if (!principal) return undefined;
    if (username !== API_KEY_USERNAME && username !== principal.name) return undefined;
    this.touch(row.id);
    return principal;
  }

  /** Records last use at most once a minute per key. */
  private touch(apiKeyId: number): void {
    const now = this.now();
    if ((this.lastTouch.get(apiKeyId) ?? 0) > now - 60_000) return;
    this.lastTouch.set(apiKeyId, now);
    void touchApiKey(this.db, apiKeyId, now).catch(() => undefined);
  }

  /** A registry token: the principal it was issued to and what it grants; undefined when not valid now. */
  async bearer(token: string): Promise<{ principal: Principal; claims: TokenClaims } | undefined> {
    const claims = await this.tokens.verify(token);
    if (!claims) return undefined;
    if (claims.sub === 'anonymous') return { principal: { kind: 'anonymous' }, claims };
    const ref = parsePrincipalRef(claims.sub);
    if (!ref) return undefined;
    if (claims.akid !== null && !(await this.apiKeyUsable(claims.akid))) return undefined;
    const principal = await this.loadPrincipal(ref.kind, ref.id, claims.akid);
    if (!principal) return undefined;
    // A user's token ends with the password it was issued under.
    if (principal.kind === 'user' && (claims.sst === null || !safeEqual(claims.sst, principal.session))) return undefined;
    return { principal, claims };
  }

  private async apiKeyUsable(id: number): Promise<boolean> {
    const key = await findApiKey(this.db, id);
    return key !== undefined && key.revoked_at === null;
  }

  async refresh(refreshToken: string): Promise<AuthenticatedPrincipal | undefined> {
    const redeemed = await this.tokens.redeemRefreshToken(refreshToken);
    if (!redeemed) return undefined;
    if (redeemed.apiKeyId !== null && !(await this.apiKeyUsable(redeemed.apiKeyId))) return undefined;
    return this.loadPrincipal(redeemed.kind, redeemed.principalId, redeemed.apiKeyId);
  }

  /** Forgets cached password verifications (after a password change). */
  forgetUser(userId: number): void {
    for (const [key, value] of this.verified) if (value.userId === userId) this.verified.delete(key);
  }
}
