// A launch's database password is derived, not stored: HMAC-SHA256 under
// BERTH_CREDENTIALS_KEY of the instance uid, attempt and database name. A retried
// launch (same RunTask clientToken, so the same task and environment) gets the
// same password, and nothing secret lands in berth's own PostgreSQL.
import { createHmac } from 'node:crypto';
import { z } from 'zod';

const MIN_KEY_BYTES = 32;

/** `HMAC-SHA256(key, "login:<uid>:<attempt>:<database>")` as base64url: 43 characters, 32 bytes. */
export function loginPassword(key: Buffer, uid: string, attempt: number, database: string): string {
  if (key.length < MIN_KEY_BYTES)
    throw new Error(`the credentials key must be at least ${MIN_KEY_BYTES} bytes`);
  return createHmac('sha256', key)
    .update(`login:${uid}:${attempt}:${database}`)
    .digest('base64url');
}

/**
 * The zod schema of BERTH_CREDENTIALS_KEY's value: hex or base64 (either alphabet)
 * of at least 32 bytes, read into a Buffer. The value is never quoted in an error.
 */
export function credentialsKeySchema() {
  return z
    .union([z.instanceof(Buffer), z.string()], {
      error: `required: at least ${MIN_KEY_BYTES} random bytes as hex or base64 (e.g. from \`openssl rand -hex 32\`)`,
    })
    .transform((value, ctx): Buffer => {
      const bytes = Buffer.isBuffer(value) ? value : decodeKey(value.trim());
      if (bytes && bytes.length >= MIN_KEY_BYTES) return bytes;
      ctx.addIssue({
        code: 'custom',
        message: `expected at least ${MIN_KEY_BYTES} random bytes written as hex or base64 (e.g. from \`openssl rand -hex 32\`)`,
      });
      return z.NEVER;
    });
}

function decodeKey(s: string): Buffer | undefined {
  if (/^[0-9a-fA-F]+$/.test(s) && s.length % 2 === 0) return Buffer.from(s, 'hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(s))
    return Buffer.from(s, s.includes('-') || s.includes('_') ? 'base64url' : 'base64');
  return undefined;
}
