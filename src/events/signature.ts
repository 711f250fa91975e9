import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** The request headers that let a receiver check a delivery came from this registry, untouched. */
export const SIGNATURE_HEADER = 'X-Wharf-Signature';
export const TIMESTAMP_HEADER = 'X-Wharf-Timestamp';

/** A new webhook secret: 32 random bytes, with a prefix that makes it recognisable in a leak scan. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/**
 * `sha256=<hex>` of HMAC-SHA256 over `<timestamp>.<body>`: the timestamp (Unix seconds, also sent in
 * X-Wharf-Timestamp) is signed with the body, so a receiver that rejects old timestamps cannot be
 * replayed a captured delivery.
 */
export function signDelivery(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** What a receiver does, in constant time (the README shows the same in a few lines). */
export function verifyDelivery(secret: string, timestamp: string, body: string, signature: string): boolean {
  const expected = Buffer.from(signDelivery(secret, Number(timestamp), body));
  const given = Buffer.from(signature);
  return /^\d+$/.test(timestamp) && expected.length === given.length && timingSafeEqual(expected, given);
}
