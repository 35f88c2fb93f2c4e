// The API accepting berth's session cookie as an alternative to a bearer token.
// A session is bound to berth's own host (the base domain); the Host header is
// normalised as the proxy does (crds/hostname.ts). Requests
// that change state and are authenticated by the cookie must carry the session's
// CSRF token in `x-berth-csrf`, and an Origin (when sent) equal to berth's own;
// bearer-token requests are exempt (a browser never adds that header by itself).
import type { FastifyRequest } from 'fastify';
import { ApiError, normaliseHostname } from '../../crds/index.ts';
import type { Principal, SessionPrincipal, Sessions } from '../../store/index.ts';
import type { SignInConfig } from './config.ts';
import { csrfTokenMatches, readCookie, sessionCookieName } from './cookies.ts';

export const CSRF_HEADER = 'x-berth-csrf';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
export interface SessionRequest {
  principal: Principal & { sessionId: string };
  cookieValue: string;
}

export class SessionAuth {
  readonly #config: SignInConfig;
  readonly #sessions: Sessions;
  readonly cookieName: string;

  constructor(config: SignInConfig, sessions: Sessions) {
    this.#config = config;
    this.#sessions = sessions;
    this.cookieName = sessionCookieName(config.publicScheme);
  }

  /** Whether this request came to berth's own host (sessions live only there). */
  onBerthHost(req: FastifyRequest): boolean {
    return normaliseHostname(req.headers.host) === this.#config.baseDomain;
  }

  cookieOf(req: FastifyRequest): string | undefined {
    return readCookie(req.headers.cookie, this.cookieName);
  }

  /** The session behind the request's cookie, or undefined (no cookie, wrong host, expired, revoked). */
  async session(req: FastifyRequest): Promise<SessionRequest | undefined> {
    const cookieValue = this.cookieOf(req);
    if (!cookieValue || !this.onBerthHost(req)) return undefined;
    const p: SessionPrincipal | undefined = await this.#sessions.verifySession(
      cookieValue,
      this.#config.baseDomain,
    );
    return p ? { principal: p, cookieValue } : undefined;
  }

  /** 403 unless a cookie-authenticated request that changes state is same-origin and carries the token. */
  checkCsrf(req: FastifyRequest, cookieValue: string): void {
    if (SAFE_METHODS.has(req.method)) return;
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== this.requestOrigin(req))
      throw new ApiError('Forbidden', 'cross-site request refused: the Origin is not berth');
    const token = req.headers[CSRF_HEADER];
    if (!csrfTokenMatches(cookieValue, typeof token === 'string' ? token : undefined))
      throw new ApiError(
        'Forbidden',
        `missing or wrong CSRF token: send the ${CSRF_HEADER} header from GET /auth/session`,
      );
  }

  /** This request's origin as a browser would send it. */
  requestOrigin(req: FastifyRequest): string {
    return `${this.#config.publicScheme}://${(req.headers.host ?? '').toLowerCase()}`;
  }
}
