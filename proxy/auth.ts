// Who is asking: an API bearer token (curl, scripts) or a session cookie (browsers).
// Both are verified against PostgreSQL and the answer (positive or negative) is
// cached in memory for `cacheMs`, keyed by the credential, so the
// request path does no database query in the common case. Concurrent requests
// with the same uncached credential share one query (when an answer expired under
// load, every connection of that user asked at once), and a credential in use is
// checked again in the background before its answer expires, so its requests do
// not stall on the database every `cacheMs`. A revocation (or a change of
// a user's rights) empties the cache at once through the database's notification
// (proxy/index.ts); `cacheMs` (default 5 s) bounds how long a stale answer can
// live should that notification be lost with the listening connection.
import type { IncomingMessage } from 'node:http';
import type { Identity, Principal, Sessions } from '../store/index.ts';

export interface RequestPrincipal extends Principal {
  /** Set when a session authenticated the request. */
  sessionId?: string;
  via: 'token' | 'session';
  /** Until when this cached answer stands (absent: not cached). */
  cachedUntil?: number;
  /**
   * From when a request that finds it re-checks it in the background (the last
   * fifth of its life). The proxy's decisions end here, so that the requests of a
   * busy user reach authenticate() and trigger that check.
   */
  recheckFrom?: number;
}

interface CacheEntry {
  principal: RequestPrincipal | undefined;
  until: number;
}

const MAX_ENTRIES = 50_000;

export function sessionCookieName(scheme: 'http' | 'https'): string {
  // __Host- makes browsers insist on Secure, Path=/ and no Domain; it needs https.
  return scheme === 'https' ? '__Host-berth_session' : 'berth_session';
}

/** The value of cookie `name` in a Cookie header, if present. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  let at = 0;
  while (at < header.length) {
    const idx = header.indexOf(name, at);
    if (idx < 0) return undefined;
    let j = idx - 1;
    while (j >= 0 && header[j] === ' ') j--;
    if ((j < 0 || header[j] === ';') && header[idx + name.length] === '=') {
      const start = idx + name.length + 1;
      const end = header.indexOf(';', start);
      return header.slice(start, end < 0 ? undefined : end).trim();
    }
    at = idx + name.length;
  }
  return undefined;
}

export class Authenticator {
  readonly #identity: Identity;
  readonly #sessions: Sessions;
  readonly #cacheMs: number;
  readonly #cookieName: string;
  readonly #cache = new Map<string, CacheEntry>();
  /** Queries under way, by cache key: the requests that ask meanwhile wait for the same answer. */
  readonly #loading = new Map<string, Promise<RequestPrincipal | undefined>>();
  #generation = 0;

  constructor(identity: Identity, sessions: Sessions, cacheMs: number, cookieName: string) {
    this.#identity = identity;
    this.#sessions = sessions;
    this.#cacheMs = cacheMs;
    this.#cookieName = cookieName;
  }

  get cookieName(): string {
    return this.#cookieName;
  }

  /** Bumped whenever cached answers are forgotten: decisions derived from them are void. */
  get generation(): number {
    return this.#generation;
  }

  /** The principal behind the request's bearer token, else its session cookie for `hostname`. */
  async authenticate(
    req: IncomingMessage,
    hostname: string,
  ): Promise<RequestPrincipal | undefined> {
    const auth = req.headers.authorization;
    if (auth && auth.length > 7 && auth.slice(0, 7).toLowerCase() === 'bearer ') {
      // Keyed by the credential itself: it is in this process's memory anyway, and
      // hashing it on every request costs more than the lookup.
      return this.#cached(`t:${auth}`, async () => {
        const p = await this.#identity.verifyToken(auth.slice(7).trim());
        return p ? { ...p, via: 'token' as const } : undefined;
      });
    }
    const cookie = readCookie(req.headers.cookie, this.#cookieName);
    if (cookie) {
      return this.#cached(`s:${hostname}:${cookie}`, async () => {
        const p = await this.#sessions.verifySession(cookie, hostname);
        return p ? { ...p, via: 'session' as const } : undefined;
      });
    }
    return undefined;
  }

  /**
   * Forget the cached answer for this request's own credential only (a sign-out
   * here): other users' answers stay; every replica forgets on the deletion's
   * notification.
   */
  forgetOwn(req: IncomingMessage, hostname: string): void {
    const auth = req.headers.authorization;
    const cookie = readCookie(req.headers.cookie, this.#cookieName);
    const key =
      auth && auth.length > 7 && auth.slice(0, 7).toLowerCase() === 'bearer '
        ? `t:${auth}`
        : cookie
          ? `s:${hostname}:${cookie}`
          : undefined;
    if (key === undefined) return;
    this.#cache.delete(key);
    this.#loading.delete(key);
  }

  /**
   * Forget every cached answer, sessions' and tokens': on every replica and
   * worker when the database says credentials changed
   * (CREDENTIALS_CHANNEL), so a revocation takes effect at once everywhere.
   */
  forgetAll(): void {
    this.#generation++;
    this.#cache.clear();
    // A query that began before the change may answer from before it: later
    // requests ask afresh rather than wait for it (and its answer is not cached).
    this.#loading.clear();
  }

  #cached(
    key: string,
    load: () => Promise<RequestPrincipal | undefined>,
  ): Promise<RequestPrincipal | undefined> {
    const hit = this.#cache.get(key);
    const now = Date.now();
    if (hit && hit.until > now) {
      // In the last fifth of its life, a credential in use is checked again in the
      // background: its requests keep the cached answer meanwhile instead of all
      // waiting for the database when it expires. A failed check leaves the answer
      // to expire as it would have.
      if (now >= hit.until - this.#cacheMs / 5) this.#loadOnce(key, load).catch(() => {});
      return Promise.resolve(hit.principal);
    }
    return this.#loadOnce(key, load);
  }

  /** The query under way for `key`, or a new one. */
  #loadOnce(
    key: string,
    load: () => Promise<RequestPrincipal | undefined>,
  ): Promise<RequestPrincipal | undefined> {
    let loading = this.#loading.get(key);
    if (!loading) {
      loading = this.#load(key, load);
      this.#loading.set(key, loading);
    }
    return loading;
  }

  async #load(
    key: string,
    load: () => Promise<RequestPrincipal | undefined>,
  ): Promise<RequestPrincipal | undefined> {
    const generation = this.#generation;
    const now = Date.now();
    let principal: RequestPrincipal | undefined;
    try {
      principal = await load();
    } finally {
      if (this.#generation === generation) this.#loading.delete(key);
    }
    if (this.#cacheMs > 0 && this.#generation === generation) {
      if (this.#cache.size >= MAX_ENTRIES) {
        // Oldest insertion first: a Map iterates in insertion order.
        const oldest = this.#cache.keys().next().value;
        if (oldest !== undefined) this.#cache.delete(oldest);
      }
      this.#cache.delete(key);
      const until = now + this.#cacheMs;
      if (principal) {
        principal.cachedUntil = until;
        principal.recheckFrom = until - this.#cacheMs / 5;
      }
      this.#cache.set(key, { principal, until });
    }
    return principal;
  }
}
