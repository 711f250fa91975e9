import type { PrincipalKind } from '../metadata/schema.js';

/** Who a request acts as. Every request resolves to exactly one. */
export type Principal =
  | { kind: 'anonymous' }
  /**
   * `session` changes whenever the user's password does: tokens carry it, so a password change ends
   * every token issued before it (not a secret, but never logged).
   */
  | { kind: 'user'; id: number; accountId: number; name: string; owner: boolean; apiKeyId: number | null; session: string }
  | { kind: 'service'; id: number; accountId: number; name: string; apiKeyId: number | null };

export type AuthenticatedPrincipal = Exclude<Principal, { kind: 'anonymous' }>;

export const ANONYMOUS: Principal = { kind: 'anonymous' };

export function isAuthenticated(principal: Principal): principal is AuthenticatedPrincipal {
  return principal.kind !== 'anonymous';
}

/** `user:3`, `service:7` or `anonymous`: the token subject and the audit actor key. */
export function principalRef(principal: Principal): string {
  return principal.kind === 'anonymous' ? 'anonymous' : `${principal.kind}:${principal.id}`;
}

/** Human form for audit records: `user admin`, `service ci-bot`. */
export function principalLabel(principal: Principal): string {
  return principal.kind === 'anonymous' ? 'anonymous' : `${principal.kind} ${principal.name}`;
}

export function parsePrincipalRef(ref: string): { kind: PrincipalKind; id: number } | undefined {
  const match = /^(user|service):(\d{1,15})$/.exec(ref);
  return match ? { kind: match[1] as PrincipalKind, id: Number(match[2]) } : undefined;
}
