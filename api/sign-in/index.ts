// api/sign-in/: how people sign in (development user picker, OpenID Connect,
// AWS ALB), their sessions (the cookie the proxy's handoff also uses), CSRF, and
// users upserted from identities. Imported by api/server.ts and api/index.ts.
import type { Identity, Pool } from '../../store/index.ts';
import { Sessions } from '../../store/index.ts';
import { AlbVerifier } from './alb.ts';
import type { SignInConfig } from './config.ts';
import { OidcSignIn } from './oidc.ts';
import type { SignInDeps } from './routes.ts';
import { SessionAuth } from './session-auth.ts';

export { AlbTokenError, AlbVerifier, albKeyUrl } from './alb.ts';
export {
  loadSignInConfig,
  publicOrigin,
  type SignInConfig,
  type SignInConfigInput,
  signInConfigSchema,
} from './config.ts';
export { csrfTokenFor, sessionCookieName } from './cookies.ts';
export { DEV_BANNER, escapeHtml, securityHeaders } from './pages.ts';
export { registerSignInRoutes, type SignInDeps, safeNext } from './routes.ts';
export { CSRF_HEADER, SessionAuth } from './session-auth.ts';
export { baseSlug, type ExternalIdentity, slugify, upsertUserFor } from './users.ts';

/** Everything the sign-in routes and the API's authentication hook need. */
export function createSignIn(config: SignInConfig, pool: Pool, identity: Identity): SignInDeps {
  const sessions = new Sessions(pool);
  return {
    config,
    pool,
    identity,
    sessions,
    auth: new SessionAuth(config, sessions),
    ...(config.mode === 'oidc' ? { oidc: new OidcSignIn(config, pool) } : {}),
    ...(config.mode === 'alb' ? { alb: new AlbVerifier(config) } : {}),
  };
}
