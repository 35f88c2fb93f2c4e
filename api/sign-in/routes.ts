// Sign-in routes on berth's own host (all open: they are how one gets a session):
//   GET  /auth/sign-in     dev: pick a local user; oidc: redirect to the identity
//                          provider; alb: exchange the verified x-amzn-oidc-data for a session
//   POST /auth/dev-sign-in the development user picker's form
//   GET  /auth/callback    OIDC redirect back (state, code)
//   POST /auth/sign-out    revokes the session (and by cascade its tool-host sessions)
//   GET  /auth/signed-out  a page saying so
//   GET  /auth/session     who is signed in, the CSRF token, and what the UI needs
//                          to build tool URLs (the small config endpoint)
// The first three are sign-in attempts, rate-limited per client address (rate-limit.ts).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { STRICT_TRANSPORT_SECURITY, toolHostsCspSource } from '../../crds/index.ts';
import {
  type Identity,
  type Pool,
  type Principal,
  recordAuditAfter,
  type Sessions,
} from '../../store/index.ts';
import { clientOf } from '../audit.ts';
import { AlbTokenError, type AlbVerifier } from './alb.ts';
import { publicOrigin, type SignInConfig, toolDomainOf } from './config.ts';
import {
  csrfTokenFor,
  csrfTokenMatches,
  readCookie,
  sessionCookie,
  stateCookie,
  stateCookieName,
} from './cookies.ts';
import { type OidcSignIn, OidcSignInError } from './oidc.ts';
import { devSignInBody, securityHeaders, sendErrorPage, sendPage, signedOutBody } from './pages.ts';
import { SignInRateLimit } from './rate-limit.ts';
import { CSRF_HEADER, type SessionAuth } from './session-auth.ts';
import { DEV_ISSUER, type ExternalIdentity, upsertUserFor } from './users.ts';

export interface SignInDeps {
  config: SignInConfig;
  pool: Pool;
  identity: Identity;
  sessions: Sessions;
  auth: SessionAuth;
  oidc?: OidcSignIn;
  alb?: AlbVerifier;
}

const MAX_FORM_BYTES = 8 * 1024;

/** A local path to go to after sign-in (never another host: `//x` and `/\x` are refused). */
export function safeNext(p: string | null | undefined): string {
  if (!p || p.length > 2048 || p[0] !== '/' || p[1] === '/' || p[1] === '\\') return '/';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f\\]/.test(p)) return '/';
  return p;
}

function formOf(req: FastifyRequest): URLSearchParams | undefined {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return undefined;
  const body = req.body;
  if (!Buffer.isBuffer(body) || body.length > MAX_FORM_BYTES) return undefined;
  return new URLSearchParams(body.toString('utf8'));
}

function redirect(reply: FastifyReply, status: 302 | 303, location: string): FastifyReply {
  return reply
    .code(status)
    .header('location', location)
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .send();
}

export function registerSignInRoutes(app: FastifyInstance, d: SignInDeps): void {
  const open = { public: true };
  const dev = d.config.mode === 'dev';
  const rate = new SignInRateLimit(d.config);
  // Routes that start or finish a sign-in: counted per client address before anything is done.
  const attempt = {
    config: open,
    onRequest: async (req: FastifyRequest, reply: FastifyReply) => {
      if (await rate.refused(req, reply, dev)) return reply;
    },
  };
  const origin = publicOrigin(d.config);
  const scheme = d.config.publicScheme;

  /** A browser form from this site: Origin equal to ours, or (no Origin) Sec-Fetch-Site same-origin. */
  const sameOrigin = (req: FastifyRequest) => {
    const o = req.headers.origin;
    if (o !== undefined) return o === d.auth.requestOrigin(req);
    return req.headers['sec-fetch-site'] === 'same-origin';
  };

  /** A browser sign-in, sign-out or refused sign-in, in the audit log (written after the fact). */
  const audit = (
    req: FastifyRequest,
    actor: string,
    action: 'signin.succeeded' | 'signin.failed' | 'signout',
    reason?: string,
  ) =>
    recordAuditAfter(
      d.pool,
      {
        actor,
        action,
        how: 'ui',
        ...(clientOf(req) ? { client: clientOf(req) } : {}),
        outcome: action === 'signin.failed' ? 'failure' : 'success',
        detail: { mode: d.config.mode, ...(reason ? { reason: reason.slice(0, 512) } : {}) },
      },
      req.log,
    );

  async function startSession(
    reply: FastifyReply,
    principal: Principal,
    next: string,
    status: 302 | 303,
  ): Promise<FastifyReply> {
    const s = await d.sessions.createSession({
      user: principal.name,
      host: d.config.baseDomain,
      idleMs: d.config.sessionIdleMs,
      absoluteMs: d.config.sessionAbsoluteMs,
    });
    if (!s) {
      // The only way a top-level session is refused: an admin disabled the user.
      reply.log.info(
        { user: principal.name, mode: d.config.mode },
        'sign-in refused: user disabled',
      );
      return sendErrorPage(
        reply,
        403,
        'This account is disabled. Ask an administrator to enable it.',
        dev,
      );
    }
    reply.log.info({ user: principal.name, session: s.id, mode: d.config.mode }, 'signed in');
    await audit(reply.request, principal.name, 'signin.succeeded');
    reply.header('set-cookie', [
      sessionCookie(scheme, s.cookieValue, d.config.sessionAbsoluteMs / 1000),
      ...(d.config.mode === 'oidc' ? [stateCookie(scheme, '', 0)] : []),
    ]);
    return redirect(reply, status, next);
  }

  const signIn = (identity: ExternalIdentity) => upsertUserFor(d.pool, d.identity, identity);

  app.get('/auth/sign-in', attempt, async (req, reply) => {
    const next = safeNext((req.query as { next?: string }).next);
    if (!d.auth.onBerthHost(req))
      return redirect(reply, 302, `${origin}/auth/sign-in?${new URLSearchParams({ next })}`);
    if (await d.auth.session(req)) return redirect(reply, 302, next);
    switch (d.config.mode) {
      case 'dev':
        return sendPage(
          reply,
          200,
          'Sign in',
          devSignInBody(d.config.devUsers, next),
          true,
          toolHostsCspSource(scheme, toolDomainOf(d.config)),
        );
      case 'oidc': {
        try {
          const { url, state } = await d.oidc!.start(next);
          reply.header('set-cookie', stateCookie(scheme, state, 600));
          return redirect(reply, 302, url);
        } catch (err) {
          if (err instanceof OidcSignInError)
            return sendErrorPage(reply, err.status, err.message, false);
          throw err;
        }
      }
      case 'alb': {
        try {
          const identity = await d.alb!.verify(req.headers['x-amzn-oidc-data']);
          return startSession(reply, await signIn(identity), next, 302);
        } catch (err) {
          if (err instanceof AlbTokenError) {
            req.log.warn({ reason: err.message }, 'load balancer sign-in refused');
            await audit(req, 'anonymous', 'signin.failed', err.message);
            return sendErrorPage(reply, 401, `Sign-in refused: ${err.message}.`, false);
          }
          throw err;
        }
      }
      default:
        return sendPage(
          reply,
          200,
          'Sign in',
          '<h1>Browser sign-in is not configured</h1><p>Use the <code>berth</code> command with an API token, or ask your administrator to configure single sign-on (BERTH_SIGN_IN).</p>',
          false,
        );
    }
  });

  app.post('/auth/dev-sign-in', attempt, async (req, reply) => {
    if (!dev) return sendErrorPage(reply, 404, 'The development sign-in is not enabled.', false);
    if (!d.auth.onBerthHost(req) || !sameOrigin(req))
      return sendErrorPage(reply, 403, 'This sign-in form was sent from another site.', true);
    const form = formOf(req);
    if (!form) return sendErrorPage(reply, 400, 'Expected the sign-in form.', true);
    const chosen = d.config.devUsers.find((u) => u.name === form.get('user'));
    if (!chosen) {
      await audit(req, 'anonymous', 'signin.failed', 'not one of the listed users');
      return sendErrorPage(reply, 400, 'Choose one of the listed users.', true);
    }
    const principal = await signIn({
      issuer: DEV_ISSUER,
      subject: chosen.name,
      groups: chosen.groups,
      admin: chosen.admin,
    });
    return startSession(reply, principal, safeNext(form.get('next')), 303);
  });

  app.get('/auth/callback', attempt, async (req, reply) => {
    if (d.config.mode !== 'oidc' || !d.oidc)
      return sendErrorPage(reply, 404, 'OpenID Connect sign-in is not enabled.', dev);
    try {
      const { identity, next } = await d.oidc.finish(
        req.url,
        readCookie(req.headers.cookie, stateCookieName(scheme)),
      );
      return startSession(reply, await signIn(identity), safeNext(next), 302);
    } catch (err) {
      if (err instanceof OidcSignInError) {
        req.log.warn({ reason: err.message }, 'OIDC sign-in refused');
        await audit(req, 'anonymous', 'signin.failed', err.message);
        reply.header('set-cookie', stateCookie(scheme, '', 0));
        return sendErrorPage(reply, err.status, err.message, false);
      }
      throw err;
    }
  });

  app.post('/auth/sign-out', { config: open }, async (req, reply) => {
    const cookie = d.auth.cookieOf(req);
    const form = formOf(req);
    const token =
      (req.headers[CSRF_HEADER] as string | undefined) ?? form?.get('csrf') ?? undefined;
    if (cookie) {
      if (!sameOrigin(req) && req.headers.origin !== undefined)
        return sendErrorPage(reply, 403, 'This sign-out was sent from another site.', dev);
      if (!csrfTokenMatches(cookie, token))
        return sendErrorPage(reply, 403, 'This sign-out is missing its CSRF token.', dev);
      const s = await d.auth.session(req);
      if (s) {
        await d.sessions.revokeSession(s.principal.sessionId);
        req.log.info({ user: s.principal.name, session: s.principal.sessionId }, 'signed out');
        await audit(req, s.principal.name, 'signout');
      }
    }
    reply.header('set-cookie', sessionCookie(scheme, '', 0));
    if (form) return redirect(reply, 303, '/auth/signed-out');
    return reply.header('cache-control', 'no-store').send({ signedOut: true });
  });

  app.get('/auth/signed-out', { config: open }, async (_req, reply) =>
    sendPage(reply, 200, 'Signed out', signedOutBody(), dev),
  );

  app.get('/auth/session', { config: open }, async (req, reply) => {
    const s = await d.auth.session(req);
    const port = origin.replace(/^https?:\/\/[^:/]+/, '');
    const common = {
      mode: d.config.mode,
      devSignIn: dev,
      publicOrigin: origin,
      toolUrlTemplate: `${scheme}://{tool}--{user}.${toolDomainOf(d.config)}${port}/`,
      csrfHeader: CSRF_HEADER,
    };
    reply.header('cache-control', 'no-store');
    if (!s) return { signedIn: false, ...common };
    const p = s.principal;
    return {
      signedIn: true,
      user: {
        name: p.name,
        admin: p.admin,
        groups: p.groups,
        ...(p.email ? { email: p.email } : {}),
        ...(p.displayName ? { displayName: p.displayName } : {}),
      },
      csrfToken: csrfTokenFor(s.cookieValue),
      ...common,
    };
  });

  // Under https, every answer tells the browser to use nothing else (crds/hostname.ts
  // says why includeSubDomains): onSend covers every reply, refusals by earlier
  // hooks included; the raw header covers hijacked streams (watches).
  if (scheme === 'https') {
    app.addHook('onRequest', async (_req, reply) => {
      reply.raw.setHeader('strict-transport-security', STRICT_TRANSPORT_SECURITY);
    });
    app.addHook('onSend', async (_req, reply, payload) => {
      reply.header('strict-transport-security', STRICT_TRANSPORT_SECURITY);
      return payload;
    });
  }

  // Never cache or frame these pages.
  app.addHook('onSend', async (req, reply, payload) => {
    if (req.url.startsWith('/auth/') && !reply.hasHeader('content-security-policy'))
      securityHeaders(reply);
    return payload;
  });
}
