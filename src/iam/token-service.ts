import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK, type JWTPayload, decodeProtectedHeader } from 'jose';
import type { Database, PrincipalKind } from '../metadata/schema.js';
import * as tokens from '../metadata/tokens.js';
import { randomToken, safeEqual, sha256Hex } from './secrets.js';

/** One entry of the token's `access` claim (Docker token authentication). */
export interface AccessEntry {
  type: string;
  name: string;
  actions: string[];
}

export interface TokenClaims {
  sub: string;
  acct: number | null;
  /** The API key the token was obtained with, checked for revocation on every use. */
  akid: number | null;
  /** A user's session stamp when the token was issued: a token outlives no password change. */
  sst: string | null;
  access: AccessEntry[];
  exp: number;
}

export interface IssuedToken {
  token: string;
  expiresIn: number;
  issuedAt: string;
}

type Key = Awaited<ReturnType<typeof importJWK>>;

interface LoadedKey {
  kid: string;
  privateKey: Key;
  publicKey: Key;
  publicJwk: JWK;
  retiredAt: number | null;
}

const ALG = 'ES256';
const ISSUER = 'wharf';

/**
 * ES256 registry tokens. Signing keys live in the metadata store so every replica signs and verifies
 * with the same set; rotation adds a key and retires the old one, which verifies until its tokens expire.
 */
export class TokenService {
  private keys = new Map<string, LoadedKey>();
  private active: LoadedKey | undefined;
  private initializing: Promise<void> | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: { service: string; tokenTtl: number; refreshTokenTtl: number },
    private readonly now: () => number,
  ) {}

  get service(): string {
    return this.options.service;
  }

  /** Loads the signing keys, creating the first on a new registry; once, whoever asks first (a start, or the first token). */
  init(): Promise<void> {
    this.initializing ??= (async () => {
      await this.reload();
      if (!this.active) await this.rotate();
    })().catch((err: unknown) => {
      this.initializing = undefined;
      throw err;
    });
    return this.initializing;
  }

  private async reload(): Promise<void> {
    const rows = await tokens.listSigningKeys(this.db);
    const keys = new Map<string, LoadedKey>();
    for (const row of rows) {
      const existing = this.keys.get(row.kid);
      if (existing) {
        keys.set(row.kid, { ...existing, retiredAt: row.retired_at });
        continue;
      }
      const publicJwk = JSON.parse(row.public_jwk) as JWK;
      keys.set(row.kid, {
        kid: row.kid,
        privateKey: await importJWK(JSON.parse(row.private_jwk) as JWK, ALG),
        publicKey: await importJWK(publicJwk, ALG),
        publicJwk,
        retiredAt: row.retired_at,
      });
    }
    this.keys = keys;
    this.active = [...keys.values()].filter((k) => k.retiredAt === null).at(-1);
  }

  /** Creates a new signing key and retires the older ones. */
  async rotate(): Promise<string> {
    const { privateKey, publicKey } = await generateKeyPair(ALG, { extractable: true });
    const kid = randomUUID();
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: ALG, use: 'sig' };
    const now = this.now();
    await tokens.insertSigningKey(this.db, {
      kid, private_jwk: JSON.stringify(await exportJWK(privateKey)), public_jwk: JSON.stringify(publicJwk), created_at: now, retired_at: null,
    });
    await tokens.retireSigningKeysBefore(this.db, { kid, created_at: now }, now);
    // Keys retired long enough ago have no live token left to verify.
    await tokens.deleteSigningKeysRetiredBefore(this.db, now - this.options.tokenTtl * 1000 * 2);
    await this.reload();
    return kid;
  }

  /** Public keys for verifiers (JWKS). */
  jwks(): { keys: JWK[] } {
    return { keys: [...this.keys.values()].map((k) => k.publicJwk) };
  }

  async issue(subject: string, accountId: number | null, apiKeyId: number | null, access: AccessEntry[], session: string | null = null): Promise<IssuedToken> {
    if (!this.active) await this.init();
    const key = this.active!;
    const now = this.now();
    const iat = Math.floor(now / 1000);
    const token = await new SignJWT({ access, acct: accountId, akid: apiKeyId, ...(session === null ? {} : { sst: session }) })
      .setProtectedHeader({ alg: ALG, kid: key.kid, typ: 'JWT' })
      .setIssuer(ISSUER)
      .setSubject(subject)
      .setAudience(this.options.service)
      .setIssuedAt(iat)
      .setNotBefore(iat - 1)
      .setExpirationTime(iat + this.options.tokenTtl)
      .setJti(randomUUID())
      .sign(key.privateKey);
    return { token, expiresIn: this.options.tokenTtl, issuedAt: new Date(iat * 1000).toISOString() };
  }

  /** Verifies signature, issuer, audience and lifetime; undefined for any token that fails. */
  async verify(token: string): Promise<TokenClaims | undefined> {
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      return undefined;
    }
    if (!kid) return undefined;
    let key = this.keys.get(kid);
    if (!key) {
      // Another replica may have rotated.
      await this.reload();
      key = this.keys.get(kid);
      if (!key) return undefined;
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key.publicKey, {
        algorithms: [ALG], issuer: ISSUER, audience: this.options.service, currentDate: new Date(this.now()),
      }));
    } catch {
      return undefined;
    }
    if (typeof payload.sub !== 'string' || typeof payload.exp !== 'number') return undefined;
    return {
      sub: payload.sub,
      acct: typeof payload.acct === 'number' ? payload.acct : null,
      akid: typeof payload.akid === 'number' ? payload.akid : null,
      sst: typeof payload.sst === 'string' ? payload.sst : null,
      access: Array.isArray(payload.access) ? payload.access as AccessEntry[] : [],
      exp: payload.exp,
    };
  }

  /** A refresh token, `wrt_<id>_<secret>`, stored hashed. */
  async issueRefreshToken(kind: PrincipalKind, principalId: number, accountId: number, apiKeyId: number | null): Promise<string> {
    const id = randomToken(12);
    const secret = randomToken(32);
    const now = this.now();
    await tokens.insertRefreshToken(this.db, {
      id, secret_hash: sha256Hex(secret), principal_kind: kind, principal_id: principalId, account_id: accountId,
      api_key_id: apiKeyId, created_at: now, expires_at: now + this.options.refreshTokenTtl * 1000, revoked_at: null,
    });
    return `wrt_${id}_${secret}`;
  }

  /** Ends a genuine refresh token (a sign-out); anything else is ignored, as RFC 7009 asks. */
  async revokeRefreshToken(text: string): Promise<void> {
    const match = /^wrt_([A-Za-z0-9_-]{16})_([A-Za-z0-9_-]{43})$/.exec(text);
    if (!match) return;
    const row = await tokens.findRefreshToken(this.db, match[1]!);
    if (!row || !safeEqual(row.secret_hash, sha256Hex(match[2]!))) return;
    await tokens.revokeRefreshToken(this.db, row.id, this.now());
  }

  /** The principal a refresh token stands for, when it is genuine, unexpired and unrevoked. */
  async redeemRefreshToken(text: string): Promise<{ kind: PrincipalKind; principalId: number; apiKeyId: number | null } | undefined> {
    const match = /^wrt_([A-Za-z0-9_-]{16})_([A-Za-z0-9_-]{43})$/.exec(text);
    if (!match) return undefined;
    const row = await tokens.findRefreshToken(this.db, match[1]!);
    if (!row || !safeEqual(row.secret_hash, sha256Hex(match[2]!))) return undefined;
    if (row.revoked_at !== null || row.expires_at <= this.now()) return undefined;
    return { kind: row.principal_kind, principalId: row.principal_id, apiKeyId: row.api_key_id };
  }
}
