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
