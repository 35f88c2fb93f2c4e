// berth's own HTML pages outside the single-page UI: the sign-in page (the
// development user picker, or a button to the identity provider), and clear
// error pages (4xx, a human sentence, never a stack or a secret). Every page
// carries a strict CSP (no inline script or style) and, when the development
// sign-in is on, a banner saying so.
import type { FastifyReply } from 'fastify';

const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/**
 * PAGE_CSP with more form-action sources: the sign-in form's redirects may end
 * on a tool host (a sign-in that began at a tool link), and browsers hold every
 * redirect after a submit to form-action.
 */
function pageCsp(formTargets?: string): string {
  return formTargets
    ? PAGE_CSP.replace("form-action 'self'", `form-action 'self' ${formTargets}`)
    : PAGE_CSP;
}

export function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

export const DEV_BANNER =
  '<div class="dev-banner" role="note">Development sign-in: anyone who can reach this page can sign in as any listed user. Not for production.</div>';

export function securityHeaders(reply: FastifyReply, formTargets?: string): FastifyReply {
  return reply
    .header('content-security-policy', pageCsp(formTargets))
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'same-origin')
    .header('cache-control', 'no-store');
}

export function page(title: string, body: string, devBanner: boolean): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · berth</title>
<link rel="stylesheet" href="/ui/style.css">
</head>
<body>
${devBanner ? DEV_BANNER : ''}
<header class="top"><a class="brand" href="/">berth</a></header>
<main id="main" class="narrow">
${body}
</main>
</body>
</html>
`;
}

export function sendPage(
  reply: FastifyReply,
  status: number,
  title: string,
  body: string,
  devBanner: boolean,
  formTargets?: string,
): FastifyReply {
  return securityHeaders(reply, formTargets)
    .code(status)
    .type('text/html; charset=utf-8')
    .send(page(title, body, devBanner));
}

/** A refusal page: what went wrong in plain words and a way back. */
export function sendErrorPage(
  reply: FastifyReply,
  status: number,
  message: string,
  devBanner: boolean,
): FastifyReply {
  const title =
    status === 403 ? 'Not allowed' : status >= 500 ? 'Sign-in failed' : 'Sign-in refused';
  return sendPage(
    reply,
    status,
    title,
    `<h1>${escapeHtml(title)}</h1>
<p class="error-message">${escapeHtml(message)}</p>
<p><a href="/auth/sign-in">Sign in again</a></p>`,
    devBanner,
  );
}

export interface DevUserChoice {
  name: string;
  admin: boolean;
  groups: string[];
}

export function devSignInBody(users: DevUserChoice[], next: string): string {
  const options = users
    .map(
      (u, i) =>
        `<li><label><input type="radio" name="user" value="${escapeHtml(u.name)}"${i === 0 ? ' checked' : ''}> <strong>${escapeHtml(u.name)}</strong>${u.admin ? ' <span class="tag">admin</span>' : ''}${u.groups.length ? ` <span class="muted">groups: ${escapeHtml(u.groups.join(', '))}</span>` : ''}</label></li>`,
    )
    .join('\n');
  return `<h1>Sign in to berth</h1>
<form method="post" action="/auth/dev-sign-in" class="card">
<fieldset>
<legend>Development sign-in: choose a local user</legend>
<ul class="plain">
${options}
</ul>
</fieldset>
<input type="hidden" name="next" value="${escapeHtml(next)}">
<button type="submit">Sign in</button>
</form>`;
}

export function signedOutBody(): string {
  return '<h1>Signed out</h1><p>Your session and your tools\' sign-ins have ended.</p><p><a href="/auth/sign-in">Sign in again</a></p>';
}
