// A login's password reaches PostgreSQL only as a SCRAM-SHA-256 verifier computed
// here (RFC 5802/7677, as PostgreSQL's own pg_be_scram_build_secret does), so the
// plaintext is never in a statement the server parses, logs or shows in
// pg_stat_activity. PBKDF2 runs on libuv's thread pool: the event loop of a
// controller launching many tools is not blocked for its ~4096 HMAC rounds.
import { createHash, createHmac, pbkdf2, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);

/** PostgreSQL's default (scram_iterations). */
export const SCRAM_ITERATIONS = 4096;

/** What a verifier looks like; statements.ts checks it before it goes into SQL text. */
export const SCRAM_VERIFIER =
  /^SCRAM-SHA-256\$\d{4,7}:[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*:[A-Za-z0-9+/]+=*$/;

/**
 * `SCRAM-SHA-256$4096:<salt>$<StoredKey>:<ServerKey>` for `password`, with a fresh
 * random 16-byte salt. Only printable ASCII is accepted: PostgreSQL SASLpreps the
 * password, which leaves printable ASCII unchanged (derived passwords are base64url).
 */
export async function scramVerifier(password: string, salt = randomBytes(16)): Promise<string> {
  if (!/^[\x20-\x7e]+$/.test(password)) throw new Error('a login password must be printable ASCII');
  const salted = await pbkdf2Async(password, salt, SCRAM_ITERATIONS, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${SCRAM_ITERATIONS}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
