// berth's cookies on tool hosts, and the cookies a tool may set. berth names every
// cookie it uses `berth_*` (the session, the launch intent), `__Host-berth_*`
// under https (also `__Secure-berth_*`), so one
// rule covers all of them, today's and later ones: such a cookie is removed from
// requests before they reach a tool, and a tool's Set-Cookie with such a name is
// not delivered. Neither is a tool's Set-Cookie with a Domain attribute: a cookie
// for the parent domain would reach every other tool host (and berth's own host
// when tools share its domain). Set-Cookie is parsed as browsers parse it
// (undici's RFC 6265bis parser).
import { parseCookie } from 'undici';

const PREFIXES = ['__host-', '__secure-'];

/** Whether a cookie name is one of berth's (prefixes and case ignored, as browsers now do for prefixes). */
export function isBerthCookieName(name: string): boolean {
  let n = name.trim().toLowerCase();
  for (const p of PREFIXES) if (n.startsWith(p)) n = n.slice(p.length);
  return n.startsWith('berth_');
}

/** Cheap pre-check: a Cookie header that may hold one of berth's cookies. */
export function mayHoldBerthCookie(cookieHeader: string): boolean {
  return /berth_/i.test(cookieHeader);
}

/** Why a tool's Set-Cookie is not delivered, or undefined when it may be. */
export function refusedToolCookie(setCookie: string): { name: string; why: string } | undefined {
  const parsed = parseCookie(setCookie);
  if (!parsed) return { name: '', why: 'unparseable' };
  if (parsed.domain !== undefined) return { name: parsed.name, why: 'domain' };
  if (isBerthCookieName(parsed.name)) return { name: parsed.name, why: 'berth-name' };
  return undefined;
}

/**
 * A filter for tool responses' Set-Cookie values: keeps the acceptable ones and
 * reports each dropped cookie (by name only: never its value).
 */
export function toolSetCookieFilter(
  onDropped: (name: string, why: string) => void,
): (values: string[]) => string[] {
  return (values) => {
    const kept: string[] = [];
    for (const v of values) {
      const refused = refusedToolCookie(v);
      if (refused) onDropped(refused.name, refused.why);
      else kept.push(v);
    }
    return kept;
  };
}
