// berth's session cookie, exactly as the proxy reads and writes it (proxy/auth.ts,
// proxy/handoff.ts): `berth_session` under http, `__Host-berth_session` under https
// (browsers then insist on Secure, Path=/ and no Domain); HttpOnly, SameSite=Lax,
// host-only (never a Domain attribute, so no tool host ever receives it).
import { createHash, timingSafeEqual } from 'node:crypto';

export function sessionCookieName(scheme: 'http' | 'https'): string {
  return scheme === 'https' ? '__Host-berth_session' : 'berth_session';
}

export function sessionCookie(
  scheme: 'http' | 'https',
  value: string,
  maxAgeSeconds: number,
): string {
  const secure = scheme === 'https' ? '; Secure' : '';
  return `${sessionCookieName(scheme)}=${value}; Path=/; HttpOnly; SameSite=Lax${secure}; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`;
}

/** A short-lived cookie binding an OIDC sign-in in flight to this browser. */
export function stateCookieName(scheme: 'http' | 'https'): string {
  return scheme === 'https' ? '__Host-berth_oidc' : 'berth_oidc';
}

export function stateCookie(
  scheme: 'http' | 'https',
  value: string,
  maxAgeSeconds: number,
): string {
  const secure = scheme === 'https' ? '; Secure' : '';
  // Lax: the identity provider's redirect back is a top-level GET, which carries it.
  // Path=/: browsers refuse a __Host- cookie with any other path.
  return `${stateCookieName(scheme)}=${value}; Path=/; HttpOnly; SameSite=Lax${secure}; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`;
}

/** The value of cookie `name` in a Cookie header (the first one), if present. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * The CSRF token of a session: derived from the cookie's secret, so nothing more
 * is stored, it changes with every session, and it reveals nothing about the
 * cookie. Pages read it from GET /auth/session (same-origin only) and send it
 * in the `x-berth-csrf` header.
 */
export function csrfTokenFor(cookieValue: string): string {
  return createHash('sha256').update(`berth-csrf:${cookieValue}`).digest('base64url');
}

export function csrfTokenMatches(cookieValue: string, presented: string | undefined): boolean {
  if (!presented) return false;
  const expected = Buffer.from(csrfTokenFor(cookieValue));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
