// OpenID Connect sign-in (authorization code + PKCE + state + nonce) with
// openid-client. The state, nonce and PKCE verifier of a sign-in in flight live
// server-side (table oidc_logins, keyed by SHA-256 of the state, ten minutes,
// deleted on first use) and the state is also in a short-lived cookie, so a
// callback must come back to the browser that started it, once. ID token
// signatures are always verified (enableNonRepudiationChecks), not only trusted
// because they came over TLS.
import { createHash } from 'node:crypto';
import * as client from 'openid-client';
import type { Pool } from '../../store/index.ts';
import { claimsToIdentity } from './alb.ts';
import { publicOrigin, type SignInConfig } from './config.ts';
import type { ExternalIdentity } from './users.ts';

const LOGIN_TTL_MS = 10 * 60_000;

/** A refusal whose message is fit for the person signing in (no secrets, no stack). */
export class OidcSignInError extends Error {
  readonly status: number;
  constructor(message: string, status = 400) {
    super(message);
    this.status = status;
  }
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Plain words for what openid-client / oauth4webapi refused. */
function explain(err: unknown): OidcSignInError {
  const e = err as {
    code?: string;
    error?: string;
    message?: string;
    cause?: { code?: string; message?: string };
  };
  // The cause carries the precise check that failed (e.g. "JWT signature verification failed").
  const msg = `${e.message ?? ''} ${e.cause?.message ?? ''}`.toLowerCase();
  if (e.error === 'invalid_grant')
    return new OidcSignInError(
      'The identity provider refused the sign-in code: it was already used or has expired. Please sign in again.',
    );
  if (msg.includes('"exp"') || msg.includes('expired') || msg.includes('timestamp'))
    return new OidcSignInError(
      'The identity provider sent an ID token that has expired. Check the clocks, then sign in again.',
    );
  if (msg.includes('signature'))
    return new OidcSignInError(
      "The identity provider's ID token signature is not valid, so the sign-in was refused.",
    );
  if (msg.includes('nonce'))
    return new OidcSignInError('The ID token does not belong to this sign-in (nonce mismatch).');
  if (msg.includes('state'))
    return new OidcSignInError(
      'The sign-in response does not belong to this sign-in (state mismatch).',
    );
  if (e.code === 'OAUTH_AUTHORIZATION_RESPONSE_ERROR' || e.error)
    return new OidcSignInError('The identity provider refused the sign-in.');
  return new OidcSignInError(
    'The sign-in response from the identity provider could not be verified.',
  );
}

export class OidcSignIn {
  readonly #config: SignInConfig;
  readonly #pool: Pool;
  #discovered: Promise<client.Configuration> | undefined;

  constructor(config: SignInConfig, pool: Pool) {
    this.#config = config;
    this.#pool = pool;
  }

  get redirectUri(): string {
    return `${publicOrigin(this.#config)}/auth/callback`;
  }

  #configuration(): Promise<client.Configuration> {
    if (!this.#discovered) {
      const c = this.#config;
      const execute = [client.enableNonRepudiationChecks];
      if (c.oidcAllowHttp) execute.push(client.allowInsecureRequests);
      this.#discovered = client.discovery(
        new URL(c.oidcIssuer!),
        c.oidcClientId!,
        c.oidcClientSecret,
        undefined,
        { execute, timeout: 10 },
      );
      // A failed discovery is retried on the next sign-in.
      this.#discovered.catch(() => {
        this.#discovered = undefined;
      });
    }
    return this.#discovered;
  }

  /** Where to send the browser, and the state to put in its cookie. */
  async start(next: string): Promise<{ url: string; state: string }> {
    let config: client.Configuration;
    try {
      config = await this.#configuration();
    } catch {
      throw new OidcSignInError('The identity provider cannot be reached. Try again shortly.', 502);
    }
    const state = client.randomState();
    const nonce = client.randomNonce();
    const verifier = client.randomPKCECodeVerifier();
    const challenge = await client.calculatePKCECodeChallenge(verifier);
    await this.#pool.query(
      `insert into oidc_logins (state_sha256, nonce, code_verifier, next_path, expires_at)
       values ($1, $2, $3, $4, now() + $5 * interval '1 millisecond')`,
      [sha256(state), nonce, verifier, next, LOGIN_TTL_MS],
    );
    await this.#pool.query('delete from oidc_logins where expires_at <= now()');
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: this.redirectUri,
      scope: this.#config.oidcScopes,
      response_type: 'code',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { url: url.href, state };
  }

  /** Finishes a sign-in at the callback: the identity and where to go next. */
  async finish(
    callbackPathAndQuery: string,
    cookieState: string | undefined,
  ): Promise<{ identity: ExternalIdentity; next: string }> {
    const current = new URL(callbackPathAndQuery, publicOrigin(this.#config));
    const state = current.searchParams.get('state');
    if (current.searchParams.get('error'))
      throw new OidcSignInError('The identity provider did not sign you in.', 401);
    if (!state || state.length > 512)
      throw new OidcSignInError('The sign-in response carries no state, so it was refused.');
    if (!cookieState || cookieState !== state)
      throw new OidcSignInError(
        'The sign-in response does not belong to this browser (wrong state). Please sign in again.',
      );
    const { rows } = await this.#pool.query<{
      nonce: string;
      code_verifier: string;
      next_path: string;
    }>(
      `delete from oidc_logins where state_sha256 = $1 and expires_at > now()
       returning nonce, code_verifier, next_path`,
      [sha256(state)],
    );
    const login = rows[0];
    if (!login)
      throw new OidcSignInError(
        'This sign-in has already been completed or has expired. Please sign in again.',
      );
    let config: client.Configuration;
    try {
      config = await this.#configuration();
    } catch {
      throw new OidcSignInError('The identity provider cannot be reached. Try again shortly.', 502);
    }
    let claims: Record<string, unknown>;
    let accessToken: string | undefined;
    try {
      const tokens = await client.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: login.code_verifier,
        expectedState: state,
        expectedNonce: login.nonce,
        idTokenExpected: true,
      });
      claims = (tokens.claims() ?? {}) as Record<string, unknown>;
      accessToken = tokens.access_token;
    } catch (err) {
      throw explain(err);
    }
    const groupsClaim = this.#config.oidcGroupsClaim;
    if (
      claims[groupsClaim] === undefined &&
      accessToken &&
      config.serverMetadata().userinfo_endpoint
    ) {
      try {
        const info = await client.fetchUserInfo(config, accessToken, String(claims.sub));
        claims = { ...info, ...claims, [groupsClaim]: info[groupsClaim] };
      } catch {
        // Groups are optional; the sign-in itself is verified.
      }
    }
    return {
      identity: claimsToIdentity(config.serverMetadata().issuer, claims, this.#config),
      next: login.next_path,
    };
  }
}
