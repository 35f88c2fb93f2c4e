// Authentication: `Authorization: Bearer <token>`, verified against the
// identity store. 401 (with WWW-Authenticate) when missing or not valid; the
// token itself never reaches a log line or an error message.
import { ApiError } from '../crds/index.ts';
import type { Identity, Principal } from '../store/index.ts';

export const WWW_AUTHENTICATE = 'Bearer realm="berth"';

export function unauthorized(message: string): ApiError {
  return new ApiError('Unauthorized', message);
}

/** The bearer token in an Authorization header, or a 401 saying what is wrong with it. */
function bearerToken(header: string | string[] | undefined): string {
  if (header === undefined || header === '') {
    throw unauthorized('authentication required: send "Authorization: Bearer <token>"');
  }
  if (Array.isArray(header)) throw unauthorized('send exactly one Authorization header');
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  if (!m) throw unauthorized('the Authorization header must be "Bearer <token>"');
  return m[1]!;
}

/** The principal for a request's Authorization header; throws 401 ApiErrors. */
export async function authenticate(
  identity: Identity,
  header: string | string[] | undefined,
): Promise<Principal> {
  const token = bearerToken(header);
  // Cheap shape check first: no database round trip for garbage.
  if (token.length > 200) throw unauthorized('invalid bearer token');
  const principal = await identity.verifyToken(token);
  if (!principal) throw unauthorized('invalid, expired or revoked bearer token');
  return principal;
}
