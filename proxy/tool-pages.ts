// What a tool host answers itself while its tool is not routable: the status the
// starting page polls (/_berth/status, rate-limited), the Launch / Try again form
// (POST /_berth/launch: Origin checked before, the launch token here), and a
// visit: launched when launch-gate.ts says the visit may, else the Launch page;
// and "Keep it running" (POST /_berth/keep-running: Origin checked before, the
// launch token here). A tool the culler stopped is not launched by a visit: the
// Launch page says why it stopped (a tab left open must not restart it).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isApiError } from '../crds/index.ts';
import { type RequestPrincipal, readCookie } from './auth.ts';
import type { ProxyContext } from './context.ts';
import { readForm } from './handoff.ts';
import type { ParsedHost } from './host.ts';
import { culledBecause, keepRunning } from './keep-running.ts';
import { hasEnded, launchForVisitor, launchStatus } from './launch.ts';
import {
  hasLaunchIntent,
  launchCsrfMatches,
  launchCsrfToken,
  launchIntentCookie,
  visitMayLaunch,
} from './launch-gate.ts';
import { sendError } from './pages/errors.ts';
import { sendLaunchRefused } from './pages/launch-refused.ts';
import { sendJson, sendPage } from './pages/layout.ts';
import { renderLaunch, renderStarting } from './pages/starting.ts';
import type { Route } from './route-table.ts';

type ToolHost = Extract<ParsedHost, { kind: 'tool' }>;
type Definition = Parameters<typeof launchForVisitor>[3];

/** The launch token for this request's tool-host session; undefined with an API token. */
function csrfFor(ctx: ProxyContext, req: IncomingMessage, p: RequestPrincipal): string | undefined {
  if (p.via !== 'session') return undefined;
  const cookie = readCookie(req.headers.cookie, ctx.auth.cookieName);
  return cookie ? launchCsrfToken(cookie) : undefined;
}

/** GET /_berth/status: the starting page's poll. */
export async function serveStatus(
  ctx: ProxyContext,
  res: ServerResponse,
  host: ToolHost,
  route: Route | undefined,
  principal: RequestPrincipal,
): Promise<void> {
  const key = principal.sessionId ? `s:${principal.sessionId}` : `u:${principal.name}`;
  if (await ctx.limits.statusRefused(key, res)) return;
  const status = await launchStatus(ctx.store, host.namespace, host.instance, route?.instance);
  const def = ctx.routes.definitions.get(route?.instance.spec.toolRef ?? host.instance);
  const stoppedBecause = culledBecause(route?.instance, def);
  sendJson(res, 200, {
    ...status,
    ready: Boolean(ctx.routes.get(host.hostname)?.upstream),
    ...(stoppedBecause ? { stoppedBecause } : {}),
  });
}

/**
 * POST /_berth/keep-running: the starting page's "Keep it running" for whoever
 * may open this tool host. lastActivityAt becomes now and an Idle stop warning
 * goes; a MaxLifetime one stays. JSON for fetch, else back to the tool (303).
 */
export async function serveKeepRunning(
  ctx: ProxyContext,
  req: IncomingMessage,
  res: ServerResponse,
  host: ToolHost,
  principal: RequestPrincipal,
): Promise<void> {
  if (!(await checkedPost(ctx, req, res, principal, 'This form'))) return;
  let kept: Awaited<ReturnType<typeof keepRunning>>;
  try {
    kept = await keepRunning(ctx.store, host.namespace, host.instance);
  } catch (err) {
    if (isApiError(err, 'NotFound')) {
      sendError(res, 404, 'There is no such tool.');
      return;
    }
    throw err;
  }
  ctx.log.info(
    { namespace: host.namespace, instance: host.instance, user: principal.name },
    'keep it running',
  );
  const message = kept.maxLifetimeStopAt
    ? `${host.instance} reaches its maxLifetime at ${kept.maxLifetimeStopAt}; that stop cannot be postponed`
    : `${host.instance} keeps running`;
  if ((req.headers.accept ?? '').includes('application/json')) {
    const w = kept.instance.status?.stopWarning;
    sendJson(res, 200, {
      lastActivityAt: kept.instance.status?.lastActivityAt,
      ...(w ? { stopWarning: w } : {}),
      message,
    });
    return;
  }
  res.writeHead(303, { location: '/', 'cache-control': 'no-store', 'content-length': '0' }).end();
}

/** POST /_berth/launch: the Launch and Try again buttons. */
export async function serveLaunchPost(
  ctx: ProxyContext,
  req: IncomingMessage,
  res: ServerResponse,
  host: ToolHost,
  route: Route | undefined,
  def: Definition,
  principal: RequestPrincipal,
): Promise<void> {
  if (!(await checkedPost(ctx, req, res, principal, 'This launch form'))) return;
  const refused = await launchForVisitor(ctx, host, route, def, principal, true, req);
  if (refused) return sendLaunchRefused(res, host.instance, refused);
  res.writeHead(303, { location: '/', 'cache-control': 'no-store', 'content-length': '0' }).end();
}

/** Whether the instance would need a launch (missing, asked to stop, or ended). */
function wouldLaunch(route: Route | undefined): boolean {
  const ti = route?.instance;
  if (!ti) return true;
  return ti.spec.state !== 'Running' || hasEnded(ti);
}

/** A GET to a tool that is not routable: launch it (a same-site visit) or offer the button. */
export async function serveVisit(
  ctx: ProxyContext,
  req: IncomingMessage,
  res: ServerResponse,
  host: ToolHost,
  route: Route | undefined,
  def: Definition,
  principal: RequestPrincipal,
): Promise<void> {
  const scheme = ctx.config.publicScheme;
  const csrf = csrfFor(ctx, req, principal);
  // The intent is used up by this visit, whatever it does.
  const extra = hasLaunchIntent(req, scheme)
    ? { 'set-cookie': launchIntentCookie(scheme, false) }
    : undefined;
  const culled = culledBecause(route?.instance, def);
  if (culled || (wouldLaunch(route) && !visitMayLaunch(req, principal, scheme))) {
    sendPage(res, 200, renderLaunch(host.instance, host.namespace, csrf, culled), extra);
    return;
  }
  const refused = await launchForVisitor(ctx, host, route, def, principal, false, req);
  if (refused) return sendLaunchRefused(res, host.instance, refused);
  const status = await launchStatus(ctx.store, host.namespace, host.instance, route?.instance);
  sendPage(res, 202, renderStarting(status, csrf), extra);
}

/**
 * What a tool host answers when the request is not forwarded: 404 for a tool
 * that does not exist, the /_berth/ pages, 503 for a request that may not
 * launch, else a visit.
 */
export async function serveToolPage(
  ctx: ProxyContext,
  req: IncomingMessage,
  res: ServerResponse,
  host: ToolHost,
  route: Route | undefined,
  def: Definition | undefined,
  principal: RequestPrincipal,
  berthPath: string | undefined,
): Promise<void> {
  if (!route && !def) {
    sendError(res, 404, 'There is no such tool.');
    return;
  }
  if (berthPath === '/_berth/status') return serveStatus(ctx, res, host, route, principal);
  if (berthPath === '/_berth/keep-running') return serveKeepRunning(ctx, req, res, host, principal);
  if (berthPath === '/_berth/launch')
    return serveLaunchPost(ctx, req, res, host, route, def, principal);
  if (berthPath !== undefined) {
    sendError(res, 404, 'No such page.');
    return;
  }
  if (req.method !== 'GET' || req.headers['x-berth-no-launch'] !== undefined) {
    sendError(res, 503, 'The tool is not running. Open it in a browser (GET) to start it.', '', {
      'retry-after': '5',
    });
    return;
  }
  if (!def) {
    sendError(res, 404, 'There is no such tool.');
    return;
  }
  return serveVisit(ctx, req, res, host, route, def, principal);
}

/**
 * A POST of one of the tool host's own forms: a session must send the launch
 * token (a token-bearing client needs none). Answers 405 or 403 and returns
 * false otherwise.
 */
async function checkedPost(
  ctx: ProxyContext,
  req: IncomingMessage,
  res: ServerResponse,
  principal: RequestPrincipal,
  what: string,
): Promise<boolean> {
  if (req.method !== 'POST') {
    sendError(res, 405, 'Use POST.', '', { allow: 'POST' });
    return false;
  }
  const form = principal.via === 'session' ? await readForm(req) : undefined;
  const cookie = readCookie(req.headers.cookie, ctx.auth.cookieName);
  if (!launchCsrfMatches(principal, cookie, form?.get('csrf'))) {
    ctx.metrics.refused.labels('launch-csrf').inc();
    sendError(res, 403, `${what} is missing its token or was sent from another site.`);
    return false;
  }
  return true;
}
