// Whether a visit may launch a tool. A link on another site must not start
// someone's tool (it costs money and may run code they did not ask for), so a
// visit launches only when it is:
// - a same-site top-level navigation: Sec-Fetch-Site same-origin, same-site or
//   none (typed, bookmarked), Sec-Fetch-Mode navigate, Sec-Fetch-Dest document
//   when sent; or
// - the end of a sign-in that such a navigation began: the tool host, asked by
//   a same-site navigation without a session, sets a short-lived host-only
//   intent cookie before handing off to berth's host, and the navigation that
//   comes back (cross-site to the browser when berth and tools are on other
//   sites, as `localhost` and `x.localhost` are) carries it; or
// - sent with an API token (Authorization: a browser never adds it by itself).
// Anything else (cross-site, or no fetch metadata at all) gets a Launch button:
// a POST form carrying a token derived from this tool host's session cookie,
// checked with the Origin.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { type RequestPrincipal, readCookie } from './auth.ts';

const INTENT_MAX_AGE_S = 600;

export function launchIntentCookieName(scheme: 'http' | 'https'): string {
  return scheme === 'https' ? '__Host-berth_launch' : 'berth_launch';
}

/** The intent cookie (on), or its removal (off). */
export function launchIntentCookie(scheme: 'http' | 'https', on: boolean): string {
  const secure = scheme === 'https' ? '; Secure' : '';
  return `${launchIntentCookieName(scheme)}=${on ? '1' : ''}; Path=/; HttpOnly; SameSite=Lax${secure}; Max-Age=${on ? INTENT_MAX_AGE_S : 0}`;
}

export function hasLaunchIntent(req: IncomingMessage, scheme: 'http' | 'https'): boolean {
  return readCookie(req.headers.cookie, launchIntentCookieName(scheme)) === '1';
}

/** A same-site top-level navigation, by the browser's fetch metadata. */
export function isSameSiteNavigation(req: IncomingMessage): boolean {
  const h = req.headers;
  const site = h['sec-fetch-site'];
  if (site !== 'same-origin' && site !== 'same-site' && site !== 'none') return false;
  if (h['sec-fetch-mode'] !== 'navigate') return false;
  const dest = h['sec-fetch-dest'];
  return dest === undefined || dest === 'document';
}

/** Whether this visit may launch the tool by itself (see above). */
export function visitMayLaunch(
  req: IncomingMessage,
  principal: RequestPrincipal,
  scheme: 'http' | 'https',
): boolean {
  return principal.via === 'token' || isSameSiteNavigation(req) || hasLaunchIntent(req, scheme);
}

/**
 * The Launch form's CSRF token: derived from this tool host's session cookie (so
 * nothing is stored, it differs per session and host, and reveals nothing of the
 * cookie); only a page of this host, which the session reached, can know it.
 */
export function launchCsrfToken(sessionCookieValue: string): string {
  return createHash('sha256').update(`berth-launch:${sessionCookieValue}`).digest('base64url');
}

/**
 * Whether a POST /_berth/launch may act: with an API token, always (Origin is
 * checked before); with a session, the form's token must match.
 */
export function launchCsrfMatches(
  principal: RequestPrincipal,
  sessionCookieValue: string | undefined,
  presented: string | null | undefined,
): boolean {
  if (principal.via === 'token') return true;
  if (!sessionCookieValue || !presented) return false;
  const expected = Buffer.from(launchCsrfToken(sessionCookieValue));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
