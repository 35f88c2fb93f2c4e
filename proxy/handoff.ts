// The sign-in handoff (DESIGN.md, Proxy), as JupyterHub does for each server:
//   tool host, no session  -> a random state in a host-only cookie (one per flow),
//                             302 berth host /_berth/handoff?to=<tool host>&path=<path>&state=<SHA-256 of the state>
//   berth host, signed in  -> one-time code bound to that tool host and that hash (60 s)
//                          -> 302 tool host /_berth/callback?code=...&path=...
//   tool host callback     -> code redeemed (once, on this host only, only if one of
//                             the browser's state cookies hashes to it), a child
//                             session created, host-only cookie set, state cookie
//                             cleared, 302 to path.
// The state binds the code to the browser that asked for it (login CSRF: an
// attacker's own code, sent to a victim's browser, signs nobody in), as
// JupyterHub's OAuth state cookie does. Cookies never carry a Domain attribute,
// so each is sent to its own host alone.
// Until OIDC sign-in lands, /_berth/sign-in on berth's host starts a session from
// an API token (SameSite=Lax cookie plus an Origin check on the POST).
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { toolHostsCspSource } from '../crds/index.ts';
import { handoffStateHash, isHandoffStateHash } from '../store/index.ts';
import { auditAfter } from './audit.ts';
import { toolDomainOf } from './config.ts';
import type { ProxyContext } from './context.ts';
import { parseHost } from './host.ts';
import { sendError } from './pages/errors.ts';
import { escapeHtml, sendPage } from './pages/layout.ts';
import { renderSignIn, renderSignOut } from './pages/sign-in.ts';
import { isSameOrigin, originFor, safePath } from './urls.ts';

const MAX_FORM_BYTES = 8 * 1024;
/**
 * A handoff state cookie lives this long: the sign-in between may go through an
 * identity provider (password, second factor). Cleared by the callback.
 */
const STATE_MAX_AGE_S = 600;
/** State cookies looked at per callback: a browser has one per handoff in flight on this host. */
const MAX_STATE_COOKIES = 32;

/**
 * Name prefix of the handoff state cookies: one cookie per flow, so several
 * tabs opening the same tool at once each keep their own. Under https the
 * `__Host-` prefix stops a sibling host (another tool) from setting one with a
 * Domain attribute for this host (cookie tossing), which would let it choose
 * the state. Removed before a request reaches a tool (proxy/auth.ts).
 */
export function stateCookiePrefix(scheme: 'http' | 'https'): string {
  return scheme === 'https' ? '__Host-berth_handoff_' : 'berth_handoff_';
}

function stateCookie(ctx: ProxyContext, name: string, value: string, maxAgeS: number): string {
  const secure = ctx.config.publicScheme === 'https' ? '; Secure' : '';
  // Lax: the redirect back from berth's host (or an identity provider) is a top-level GET, which carries it.
  return `${name}=${value}; Path=/; HttpOnly; SameSite=Lax${secure}; Max-Age=${maxAgeS}`;
}

/** The browser's handoff state cookies on this host: name -> state. */
function stateCookies(ctx: ProxyContext, header: string | undefined): Map<string, string> {
  const found = new Map<string, string>();
  if (!header) return found;
  const prefix = stateCookiePrefix(ctx.config.publicScheme);
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    const name = part.slice(0, eq).trim();
    if (eq < 0 || !name.startsWith(prefix)) continue;
    found.set(name, part.slice(eq + 1).trim());
    if (found.size >= MAX_STATE_COOKIES) break;
  }
  return found;
}

export function sessionCookie(ctx: ProxyContext, value: string, maxAgeS: number): string {
  const secure = ctx.config.publicScheme === 'https' ? '; Secure' : '';
  return `${ctx.auth.cookieName}=${value}; Path=/; HttpOnly; SameSite=Lax${secure}; Max-Age=${Math.max(0, Math.floor(maxAgeS))}`;
}

/** Tool origins a sign-in form may end up at after its redirects (CSP form-action). */
function toolOrigins(ctx: ProxyContext): string {
  return toolHostsCspSource(ctx.config.publicScheme, toolDomainOf(ctx.config));
}

function redirect(
  res: ServerResponse,
  status: 302 | 303,
  location: string,
  cookie?: string | string[],
): void {
  res.writeHead(status, {
    location,
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'content-length': '0',
    ...(cookie ? { 'set-cookie': cookie } : {}),
  });
  res.end();
}

/**
 * Tool host without a session: a fresh state in a cookie for this host, and a
 * redirect to berth's host carrying its hash.
 */
export function redirectToHandoff(
  ctx: ProxyContext,
  req: IncomingMessage,
  res: ServerResponse,
  toolHostname: string,
  path: string,
  moreCookies: string[] = [],
): void {
  const state = randomBytes(32).toString('base64url');
  const hash = handoffStateHash(state);
  // The name is the flow's own (from its hash, which is no secret: it is in the URL).
  const name = `${stateCookiePrefix(ctx.config.publicScheme)}${hash.slice(0, 16)}`;
  const berth = originFor(ctx.config.publicScheme, ctx.config.baseDomain, req);
  const q = new URLSearchParams({ to: toolHostname, path: safePath(path), state: hash });
  redirect(res, 302, `${berth}/_berth/handoff?${q}`, [
    stateCookie(ctx, name, state, STATE_MAX_AGE_S),
    ...moreCookies,
  ]);
}

/** GET /_berth/handoff on berth's host. */
export async function handleHandoff(
  ctx: ProxyContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const to = url.searchParams.get('to') ?? '';
  const target = parseHost(
    to,
    ctx.config.baseDomain,
    ctx.config.sharedNamespace,
    toolDomainOf(ctx.config),
  );
  if (target.kind !== 'tool') {
    sendError(res, 400, 'The handoff names no tool host of this berth.');
    return;
  }
  const path = safePath(url.searchParams.get('path'));
  const toolOrigin = originFor(ctx.config.publicScheme, target.hostname, req);
  const state = url.searchParams.get('state');
  if (!isHandoffStateHash(state)) {
    // Only a tool host's own redirect makes a handoff URL; a link, never a redirect (no loop).
    sendError(
      res,
      400,
      'This sign-in link is incomplete.',
      `<p><a href="${escapeHtml(toolOrigin + path)}">Open the tool again</a></p>`,
    );
    return;
  }
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
    state,
    ctx.config.handoffCodeTtlMs,
  );
  redirect(res, 302, `${toolOrigin}/_berth/callback?${new URLSearchParams({ code, path })}`);
}

/** GET /_berth/callback on a tool host. */
export async function handleCallback(
  ctx: ProxyContext,
  req: IncomingMessage,
  res: ServerResponse,
  hostname: string,
  url: URL,
): Promise<void> {
  const path = safePath(url.searchParams.get('path'));
  const states = stateCookies(ctx, req.headers.cookie);
  const redeemed = await ctx.sessions.redeemHandoffCode(
    url.searchParams.get('code') ?? '',
    hostname,
    [...states.values()],
  );
  const session = redeemed.ok
    ? await ctx.sessions.createSession({
        user: redeemed.user,
        host: hostname,
        parentId: redeemed.sessionId,
        idleMs: ctx.config.sessionIdleMs,
        absoluteMs: ctx.config.sessionAbsoluteMs,
      })
    : undefined;
  if (!redeemed.ok || !session) {
    // A link, not a redirect: a bad code must never start a loop. The link starts
    // a handoff of this browser's own.
    sendError(
      res,
      403,
      !redeemed.ok && redeemed.reason === 'other-browser'
        ? 'This sign-in link was not started in this browser, so it was refused. Nobody was signed in.'
        : 'This sign-in link has expired or was already used.',
      `<p><a href="${escapeHtml(path)}">Open the tool again</a></p>`,
    );
    return;
  }
  const used = [...states].find(([, value]) => value === redeemed.state)?.[0];
  const tool = parseHost(
    hostname,
    ctx.config.baseDomain,
    ctx.config.sharedNamespace,
    toolDomainOf(ctx.config),
  );
  if (tool.kind === 'tool') {
    const target = { kind: 'ToolInstance', namespace: tool.namespace, name: tool.instance };
    await auditAfter(ctx, req, {
      actor: redeemed.user,
      action: 'tool.opened',
      how: 'visit',
      target,
    });
  }
  const maxAge = (session.expiresAt.getTime() - Date.now()) / 1000;
  redirect(res, 302, path, [
    sessionCookie(ctx, session.cookieValue, maxAge),
    ...(used ? [stateCookie(ctx, used, '', 0)] : []),
  ]);
}

export async function readForm(req: IncomingMessage): Promise<URLSearchParams | undefined> {
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
    const detail = { mode: 'token', reason: 'unknown, revoked or expired token' };
    await auditAfter(ctx, req, {
      actor: 'anonymous',
      action: 'signin.failed',
      how: 'ui',
      outcome: 'failure',
      detail,
    });
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
  await auditAfter(ctx, req, {
    actor: principal.name,
    action: 'signin.succeeded',
    how: 'ui',
    detail: { mode: 'token' },
  });
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
  if (principal?.sessionId && (await ctx.sessions.revokeSession(principal.sessionId))) {
    ctx.auth.forgetOwn(req, ctx.config.baseDomain);
    await auditAfter(ctx, req, { actor: principal.name, action: 'signout', how: 'ui' });
  }
  redirect(res, 303, '/_berth/sign-in', sessionCookie(ctx, '', 0));
}
