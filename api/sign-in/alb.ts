// AWS Application Load Balancer authentication: the load balancer signs in the
// user and adds `x-amzn-oidc-data`, an ES256 JWT whose header names the key
// (`kid`), the load balancer (`signer`) and the issuer. We trust it only after
// verifying its signature with the public key fetched from the load balancer's key
// endpoint (https://public-keys.auth.elb.<region>.amazonaws.com/<kid>, PEM), and
// checking the signer, the issuer and the expiry.
import { importSPKI, jwtVerify, type KeyObject } from 'jose';
import type { SignInConfig } from './config.ts';
import type { ExternalIdentity } from './users.ts';

export class AlbTokenError extends Error {}

const KID = /^[A-Za-z0-9_-]{1,128}$/;
const MAX_KEYS = 32;

/** The URL of key `kid`: `{kid}` in the configured URL is replaced, else `/<kid>` is appended. */
export function albKeyUrl(c: SignInConfig, kid: string): string {
  const base = c.albKeyUrl ?? `https://public-keys.auth.elb.${c.albRegion}.amazonaws.com`;
  return base.includes('{kid}')
    ? base.replace('{kid}', encodeURIComponent(kid))
    : `${base.replace(/\/+$/, '')}/${encodeURIComponent(kid)}`;
}

function decodeSegment(seg: string): Record<string, unknown> {
  try {
    const v = JSON.parse(Buffer.from(seg, 'base64url').toString('utf8'));
    if (v && typeof v === 'object' && !Array.isArray(v)) return v;
  } catch {}
  throw new AlbTokenError('the load balancer token is malformed');
}

export class AlbVerifier {
  readonly #config: SignInConfig;
  // Keys rotate rarely and a kid never changes meaning: cache them.
  readonly #keys = new Map<string, Promise<KeyObject | CryptoKey>>();

  constructor(config: SignInConfig) {
    this.#config = config;
  }

  async #key(kid: string): Promise<KeyObject | CryptoKey> {
    let p = this.#keys.get(kid);
    if (!p) {
      p = (async () => {
        const res = await fetch(albKeyUrl(this.#config, kid), {
          signal: AbortSignal.timeout(5000),
        });
        if (!res.ok)
          throw new AlbTokenError(`the load balancer key is unknown (HTTP ${res.status})`);
        const pem = (await res.text()).trim();
        return importSPKI(pem, 'ES256');
      })();
      if (this.#keys.size >= MAX_KEYS) this.#keys.clear();
      this.#keys.set(kid, p);
      // A failed fetch is not cached: the next request tries again.
      p.catch(() => this.#keys.delete(kid));
    }
    return p;
  }

  /** The identity in a verified `x-amzn-oidc-data` header; throws AlbTokenError otherwise. */
  async verify(header: string | string[] | undefined): Promise<ExternalIdentity> {
    if (typeof header !== 'string' || header.length === 0 || header.length > 16_384)
      throw new AlbTokenError('no load balancer sign-in was presented');
    // ALB pads its base64url segments with "="; JOSE forbids padding.
    const token = header
      .split('.')
      .map((s) => s.replace(/=+$/, ''))
      .join('.');
    const parts = token.split('.');
    if (parts.length !== 3) throw new AlbTokenError('the load balancer token is malformed');
    const head = decodeSegment(parts[0]!);
    if (head.alg !== 'ES256') throw new AlbTokenError('the load balancer token is not ES256');
    const kid = typeof head.kid === 'string' && KID.test(head.kid) ? head.kid : undefined;
    if (!kid) throw new AlbTokenError('the load balancer token names no valid key');
    if (head.signer !== this.#config.albArn)
      throw new AlbTokenError('the load balancer token was signed by another load balancer');
    if (head.iss !== undefined && head.iss !== this.#config.albIssuer)
      throw new AlbTokenError('the load balancer token comes from another identity provider');
    const key = await this.#key(kid);
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, key, {
        algorithms: ['ES256'],
        // ALB puts exp in the header as well; the payload's exp is checked here.
        clockTolerance: 5,
      }));
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ERR_JWT_EXPIRED')
        throw new AlbTokenError('the load balancer sign-in has expired');
      throw new AlbTokenError('the load balancer token signature is not valid');
    }
    const exp = typeof head.exp === 'number' ? head.exp : payload.exp;
    if (typeof exp !== 'number') throw new AlbTokenError('the load balancer token has no expiry');
    if (exp * 1000 < Date.now() - 5000)
      throw new AlbTokenError('the load balancer sign-in has expired');
    if (payload.iss !== undefined && payload.iss !== this.#config.albIssuer)
      throw new AlbTokenError('the load balancer token comes from another identity provider');
    const sub = payload.sub;
    if (typeof sub !== 'string' || sub === '')
      throw new AlbTokenError('the load balancer token names no subject');
    return claimsToIdentity(this.#config.albIssuer ?? 'alb', payload, this.#config);
  }
}

/** Common mapping of ID token / userinfo claims to an identity; admin from the admin groups. */
export function claimsToIdentity(
  issuer: string,
  claims: Record<string, unknown>,
  c: SignInConfig,
): ExternalIdentity {
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const raw = claims[c.oidcGroupsClaim];
  const groups = Array.isArray(raw)
    ? raw.filter((g): g is string => typeof g === 'string')
    : typeof raw === 'string'
      ? raw.split(/[\s,]+/).filter(Boolean)
      : [];
  // An email is used (for the slug, stored on the user) only when the identity
  // provider says it verified it: anyone can type any address into some
  // providers' sign-up forms. Some send the claim as a string.
  const verified = claims.email_verified === true || claims.email_verified === 'true';
  const email = verified ? str(claims.email) : undefined;
  const displayName =
    str(claims.name) ??
    ([str(claims.given_name), str(claims.family_name)].filter(Boolean).join(' ') || undefined);
  const preferred = str(claims.preferred_username);
  return {
    issuer,
    subject: String(claims.sub),
    ...(email ? { email } : {}),
    ...(displayName ? { displayName } : {}),
    ...(preferred ? { preferredUsername: preferred } : {}),
    groups,
    admin: groups.some((g) => c.adminGroups.includes(g)),
  };
}
