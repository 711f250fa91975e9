import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

// The native argon2 module loads with the first password hashed or verified, not at start-up.
const argon2 = () => import('@node-rs/argon2');

export async function hashPassword(password: string): Promise<string> {
  const { hash, Algorithm } = await argon2();
  // argon2id with OWASP's recommended minimum (19 MiB, 2 passes).
  return hash(password, { algorithm: Algorithm.Argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 });
}

// Verified against when the user does not exist, so both cases cost the same time.
let dummyHash: Promise<string> | undefined;

export async function verifyPassword(hash: string | undefined, password: string): Promise<boolean> {
  const target = hash ?? await (dummyHash ??= hashPassword(randomBytes(16).toString('hex')));
  try {
    const ok = await (await argon2()).verify(target, password);
    return ok && hash !== undefined;
  } catch {
    return false;
  }
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Constant-time comparison of two hex digests (or any equal-format strings). */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** API keys look like `wharf_<12 char prefix>_<43 char secret>`; the prefix is public, the whole key secret. */
const API_KEY = /^wharf_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

export function generateApiKey(): { key: string; prefix: string; hash: string } {
  const prefix = randomBytes(8).toString('hex').slice(0, 12);
  const key = `wharf_${prefix}_${randomToken(32)}`;
  return { key, prefix, hash: sha256Hex(key) };
}

export function parseApiKey(text: string): { prefix: string } | undefined {
  const match = API_KEY.exec(text);
  return match ? { prefix: match[1]! } : undefined;
}
