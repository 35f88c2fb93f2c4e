// How berth reads a Host header, shared by the proxy (routing) and the API
// (binding a session to berth's own host), so that the two can never disagree
// about which host a request is for: lowercase, port and one trailing dot
// removed, and anything that is not a plain DNS name refused.

const HOST_WITH_PORT = /^([A-Za-z0-9.-]+?)\.?(?::(\d{1,5}))?$/;

/** Lowercase host name without port or trailing dot, or undefined when the header is not a plain DNS name. */
export function normaliseHostname(header: string | undefined): string | undefined {
  if (!header || header.length > 260) return undefined;
  const m = HOST_WITH_PORT.exec(header);
  if (!m) return undefined;
  const name = m[1]!.toLowerCase();
  if (name === '' || name.startsWith('.') || name.includes('..')) return undefined;
  return name;
}

/** The port in a Host header, if any (kept in redirects between berth's host and tool hosts). */
export function hostPort(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = HOST_WITH_PORT.exec(header);
  return m?.[2];
}

/**
 * The CSP source for every tool host under `baseDomain` (any port). A sign-in
 * form's CSP needs it in form-action: browsers apply form-action to each
 * redirect after the submit, and a sign-in that began at a tool link ends there
 * (sign-in → /_berth/handoff → the tool host's callback).
 */
export function toolHostsCspSource(scheme: 'http' | 'https', baseDomain: string): string {
  return `${scheme}://*.${baseDomain}:*`;
}

/**
 * A name only this machine answers to: `localhost`, a `*.localhost` name (RFC
 * 6761 keeps them on loopback), or a loopback address. The development sign-in
 * and plain http are allowed for such a base domain only.
 */
export function isLocalHostName(name: string): boolean {
  const n = name.toLowerCase().replace(/\.$/, '');
  return (
    n === 'localhost' ||
    n.endsWith('.localhost') ||
    /^127(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(n) ||
    n === '::1' ||
    n === '[::1]'
  );
}

/**
 * Strict-Transport-Security for every response under https, on berth's host and
 * tool hosts alike. includeSubDomains is right because tool hosts are
 * subdomains of the base domain and are served by berth too, over https: it
 * stops a browser's first plain-http request to a tool host, where a network
 * attacker could strip TLS and read the handoff code or plant cookies. It means
 * the base domain's subdomains must all be berth's (SECURITY.md). No preload:
 * that is a deployment's choice.
 */
export const STRICT_TRANSPORT_SECURITY = 'max-age=31536000; includeSubDomains';
