// The sign-in handoff (DESIGN.md, Proxy), as JupyterHub does for each server:
//   tool host, no session  -> 302 berth host /_berth/handoff?to=<tool host>&path=<path>
//   berth host, signed in  -> one-time code bound to that tool host (60 s)
//                          -> 302 tool host /_berth/callback?code=...&path=...
//   tool host callback     -> code redeemed (once, on this host only), a child
//                             session created, host-only cookie set, 302 to path.
// Cookies never carry a Domain attribute, so each is sent to its own host alone.
// Until OIDC sign-in lands, /_berth/sign-in on berth's host starts a session from
// an API token (SameSite=Lax cookie plus an Origin check on the POST).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { toolHostsCspSource } from '../crds/index.ts';
import type { ProxyContext } from './context.ts';
import { parseHost } from './host.ts';
import { sendError } from './pages/errors.ts';
import { escapeHtml, sendPage } from './pages/layout.ts';
import { renderSignIn, renderSignOut } from './pages/sign-in.ts';
import { isSameOrigin, originFor, safePath } from './urls.ts';

const MAX_FORM_BYTES = 8 * 1024;

export function sessionCookie(ctx: ProxyContext, value: string, maxAgeS: number): string {
  const secure = ctx.config.publicScheme === 'https' ? '; Secure' : '';
  return `${ctx.auth.cookieName}=${value}; Path=/; HttpOnly; SameSite=Lax${secure}; Max-Age=${Math.max(0, Math.floor(maxAgeS))}`;
}

/** Tool origins a sign-in form may end up at after its redirects (CSP form-action). */
function toolOrigins(ctx: ProxyContext): string {
  return toolHostsCspSource(ctx.config.publicScheme, ctx.config.baseDomain);
}

function redirect(res: ServerResponse, status: 302 | 303, location: string, cookie?: string): void {
  res.writeHead(status, {
    location,
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'content-length': '0',
    ...(cookie ? { 'set-cookie': cookie } : {}),
  });
  res.end();
}

/** Tool host without a session: where to send the browser. */
export function handoffLocation(
  ctx: ProxyContext,
  req: IncomingMessage,
  toolHostname: string,
  path: string,
): string {
  const berth = originFor(ctx.config.publicScheme, ctx.config.baseDomain, req);
  const q = new URLSearchParams({ to: toolHostname, path: safePath(path) });
  return `${berth}/_berth/handoff?${q}`;
}

/** GET /_berth/handoff on berth's host. */
export async function handleHandoff(
  ctx: ProxyContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const to = url.searchParams.get('to') ?? '';
  const target = parseHost(to, ctx.config.baseDomain, ctx.config.sharedNamespace);
  if (target.kind !== 'tool') {
    sendError(res, 400, 'The handoff names no tool host of this berth.');
    return;
  }
  const path = safePath(url.searchParams.get('path'));
  const principal = await ctx.auth.authenticate(req, ctx.config.baseDomain);
  if (!principal?.sessionId) {
    redirect(
      res,
      302,
      // berth's sign-in page (api/sign-in); /_berth/sign-in (API token) stays for scripts.
      `/auth/sign-in?${new URLSearchParams({ next: `/_berth/handoff?${url.searchParams}` })}`,
    );
    return;
  }
  const code = await ctx.sessions.createHandoffCode(
    principal.sessionId,
    target.hostname,
    ctx.config.handoffCodeTtlMs,
  );
  const toolOrigin = originFor(ctx.config.publicScheme, target.hostname, req);
  redirect(res, 302, `${toolOrigin}/_berth/callback?${new URLSearchParams({ code, path })}`);
}

/** GET /_berth/callback on a tool host. */
export async function handleCallback(
  ctx: ProxyContext,
  _req: IncomingMessage,
  res: ServerResponse,
  hostname: string,
  url: URL,
): Promise<void> {
  const path = safePath(url.searchParams.get('path'));
  const redeemed = await ctx.sessions.redeemHandoffCode(
    url.searchParams.get('code') ?? '',
    hostname,
  );
  const session = redeemed
    ? await ctx.sessions.createSession({
        user: redeemed.user,
        host: hostname,
        parentId: redeemed.sessionId,
        idleMs: ctx.config.sessionIdleMs,
        absoluteMs: ctx.config.sessionAbsoluteMs,
      })
    : undefined;
  if (!session) {
    // A link, not a redirect: a bad code must never start a loop.
    sendError(
      res,
      403,
      'This sign-in link has expired or was already used.',
      `<p><a href="${escapeHtml(path)}">Open the tool again</a></p>`,
    );
    return;
  }
  const maxAge = (session.expiresAt.getTime() - Date.now()) / 1000;
  redirect(res, 302, path, sessionCookie(ctx, session.cookieValue, maxAge));
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams | undefined> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** A `next` after sign-in: a local path on berth's host. */
function safeNext(next: string | null): string {
  return safePath(next);
}

/**
 * A page that is read by GET and acted on by POST: true for a POST sent from
 * berth's own pages; otherwise answers 405 (another method) or 403 (another site).
 */
function isOwnFormPost(ctx: ProxyContext, req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method !== 'POST') {
    sendError(res, 405, 'Use GET or POST.', '', { allow: 'GET, HEAD, POST' });
    return false;
  }
  if (!isSameOrigin(ctx.config.publicScheme, req)) {
    sendError(res, 403, 'This form was sent from another site.');
    return false;
  }
  return true;
}

/** GET and POST /_berth/sign-in on berth's host. */
export async function handleSignIn(
  ctx: ProxyContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  if (req.method === 'GET' || req.method === 'HEAD') {
    sendPage(res, 200, renderSignIn(safeNext(url.searchParams.get('next'))), {}, toolOrigins(ctx));
    return;
  }
  if (!isOwnFormPost(ctx, req, res)) return;
  const form = await readForm(req);
  if (!form) {
    sendError(res, 400, 'Expected a small form (application/x-www-form-urlencoded).');
    return;
  }
  const next = safeNext(form.get('next'));
  const principal = await ctx.identity.verifyToken((form.get('token') ?? '').trim());
  if (!principal) {
    sendPage(
      res,
      401,
      renderSignIn(next, 'That token is not valid (unknown, revoked or expired).'),
      {},
      toolOrigins(ctx),
    );
    return;
  }
  const session = await ctx.sessions.createSession({
    user: principal.name,
    host: ctx.config.baseDomain,
    idleMs: ctx.config.sessionIdleMs,
    absoluteMs: ctx.config.sessionAbsoluteMs,
  });
  if (!session) {
    sendError(res, 403, 'This account is disabled. Ask an administrator to enable it.');
    return;
  }
  redirect(
    res,
    303,
    next,
    sessionCookie(ctx, session.cookieValue, ctx.config.sessionAbsoluteMs / 1000),
  );
}

/** GET (a button) and POST /_berth/sign-out on berth's host: revokes the session and its tool-host children. */
export async function handleSignOut(
  ctx: ProxyContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const principal = await ctx.auth.authenticate(req, ctx.config.baseDomain);
  if (req.method === 'GET' || req.method === 'HEAD') {
    if (!principal) redirect(res, 302, '/_berth/sign-in');
    else sendPage(res, 200, renderSignOut(principal.name));
    return;
  }
  if (!isOwnFormPost(ctx, req, res)) return;
  // Only a real session's deletion flushes caches, everywhere, by its own NOTIFY
  // (migration 008): a sign-out POST without one must not empty every user's answers.
  if (principal?.sessionId && (await ctx.sessions.revokeSession(principal.sessionId)))
    ctx.auth.forgetOwn(req, ctx.config.baseDomain);
  redirect(res, 303, '/_berth/sign-in', sessionCookie(ctx, '', 0));
}
