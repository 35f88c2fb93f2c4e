// The per-launch tool secret: what the proxy presents to a task's gate and the
// gate checks. It is derived, never stored: HMAC-SHA256 of "<instance uid>:<attempt>"
// under BERTH_TOOL_SECRET_KEY, so the controllers (which hand it to the task at
// RunTask) and every proxy replica (which present it) compute the same value from
// what the ToolInstance already records, and nothing secret lands in PostgreSQL.
// It lives in store/ because store/ is the one folder both controllers/ and
// proxy/ may import (they never import each other); it touches no database.
import { createHmac, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { setting } from '../settings/index.ts';

/** The request header the proxy sets and the gate checks (and strips). */
export const TOOL_SECRET_HEADER = 'x-berth-tool-secret';

/** The key's least length: HMAC-SHA256's own block of strength. */
const MIN_KEY_BYTES = 32;

/** `HMAC-SHA256(key, "<uid>:<attempt>")` as base64url: the secret of one launch. */
export function deriveToolSecret(key: Buffer, instanceUid: string, attempt: number): string {
  return createHmac('sha256', key).update(`${instanceUid}:${attempt}`).digest('base64url');
}

/** A fresh key, written as hex (what `berth up` keeps in its key file). */
export function generateToolSecretKey(): string {
  return randomBytes(MIN_KEY_BYTES).toString('hex');
}

/**
 * The zod schema of BERTH_TOOL_SECRET_KEY's value: hex or base64 (either
 * alphabet) of at least 32 bytes, read into a Buffer. A fresh schema per call:
 * the controllers and the proxy each register their own setting with it.
 */
export function toolSecretKeySchema() {
  return z
    .union([z.instanceof(Buffer), z.string()], {
      error: `required: at least ${MIN_KEY_BYTES} random bytes as hex or base64 (e.g. from \`openssl rand -hex 32\`), the same for the controllers and the proxy`,
    })
    .transform((value, ctx): Buffer => {
      if (Buffer.isBuffer(value)) {
        if (value.length >= MIN_KEY_BYTES) return value;
      } else {
        const s = value.trim();
        const bytes =
          /^[0-9a-fA-F]+$/.test(s) && s.length % 2 === 0
            ? Buffer.from(s, 'hex')
            : /^[A-Za-z0-9+/_-]+={0,2}$/.test(s)
              ? Buffer.from(s, s.includes('-') || s.includes('_') ? 'base64url' : 'base64')
              : undefined;
        if (bytes && bytes.length >= MIN_KEY_BYTES) return bytes;
      }
      // The value itself is never quoted: it is a secret.
      ctx.addIssue({
        code: 'custom',
        message: `expected at least ${MIN_KEY_BYTES} random bytes written as hex or base64 (e.g. from \`openssl rand -hex 32\`)`,
      });
      return z.NEVER;
    });
}

/**
 * The BERTH_TOOL_SECRET_KEY setting, one definition for the two components that
 * read it (controllers and proxy); `description` says what the key is to each.
 */
export function toolSecretKeySetting(description: string) {
  return setting(toolSecretKeySchema(), {
    env: 'BERTH_TOOL_SECRET_KEY',
    secret: true,
    shownDefault: 'none (required; `berth up` keeps one in `<BERTH_DATA_DIR>/tool-secret.key`)',
    shownValue: 'at least 32 bytes as hex or base64',
    description,
  });
}
