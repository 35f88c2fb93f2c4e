// Sign-in settings, read by the one settings loader (settings/). Which
// sign-in is on (none, dev, oidc, alb), where browsers reach berth (the proxy's
// public origin, which the session cookie and the handoff are bound to), session
// lifetimes, and each mode's settings. The development sign-in is refused unless
// the base domain is local (localhost, *.localhost, loopback), and also when the
// environment says production; plain http is refused for any other base domain
// unless BERTH_ALLOW_INSECURE_HTTP says so.
import { z } from 'zod';
import { isLocalHostName, namespaceName } from '../../crds/index.ts';
import {
  commaList,
  durationMs,
  flag,
  integer,
  loadSettings,
  setting,
} from '../../settings/index.ts';

const dnsName = z
  .string()
  .min(1)
  .max(200)
  .transform((s) => s.toLowerCase().replace(/\.$/, ''))
  .pipe(z.string().regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/, 'must be a DNS name'));

/** `alice`, `alice:admin` or `alice:admin:analysts+finance` (groups after the second colon). */
const devUser = z.string().transform((entry, ctx) => {
  const [name = '', role = '', groups = ''] = entry.split(':');
  const ok = namespaceName.safeParse(name);
  if (!ok.success || (role !== '' && role !== 'admin' && role !== 'user')) {
    ctx.addIssue({
      code: 'custom',
      message: `"${entry}" must be NAME, NAME:admin or NAME:user[:GROUP+GROUP], NAME a DNS label`,
    });
    return z.NEVER;
  }
  return { name, admin: role === 'admin', groups: groups ? groups.split('+') : [] };
});

export const signInConfigSchema = z
  .strictObject({
    mode: setting(z.enum(['none', 'dev', 'oidc', 'alb']).default('none'), {
      env: 'BERTH_SIGN_IN',
      description:
        'none: bearer tokens only; dev: pick a configured local user (`make run` sets it); oidc; alb.',
    }),
    baseDomain: setting(dnsName.default('localhost'), {
      env: 'BERTH_BASE_DOMAIN',
      description: "berth's own host (the proxy's too); sessions are bound to it.",
    }),
    toolDomain: setting(dnsName.optional(), {
      env: 'BERTH_TOOL_DOMAIN',
      shownDefault: 'the base domain',
      description:
        'Domain of the tool hosts (the proxy reads it too): the UI links to `<tool>--<user>.<tool domain>`.',
    }),
    signInRateLimit: setting(integer(0, 1_000_000).default(60), {
      env: 'BERTH_SIGN_IN_RATE_LIMIT',
      description:
        'Requests to /auth/sign-in, /auth/dev-sign-in and /auth/callback one client address may make per `BERTH_SIGN_IN_RATE_WINDOW_MS`, per process; 429 above it; 0 = no limit.',
    }),
    signInRateWindowMs: setting(durationMs(1000, 24 * 3_600_000).default(60_000), {
      env: 'BERTH_SIGN_IN_RATE_WINDOW_MS',
      description: 'The window of `BERTH_SIGN_IN_RATE_LIMIT`.',
    }),
    trustedHops: setting(integer(0, 11).default(1), {
      env: 'BERTH_API_TRUSTED_HOPS',
      description:
        "How many proxies in front of the API may say who the client is (X-Forwarded-For), berth's proxy included: 1 behind berth's proxy alone, `BERTH_PROXY_TRUSTED_HOPS` + 1 behind a load balancer too, 0 when clients reach the API directly (otherwise the API must be reachable only through them). The sign-in rate limit counts by this client address.",
    }),
    publicScheme: setting(z.enum(['http', 'https']).default('http'), {
      env: 'BERTH_PROXY_PUBLIC_SCHEME',
      description:
        'Scheme browsers use (the proxy reads it too): https makes cookies Secure and __Host-.',
    }),
    allowInsecureHttp: setting(flag().default(false), {
      env: 'BERTH_ALLOW_INSECURE_HTTP',
      description:
        'Allow http for a base domain that is not local (tests on a private network only): sessions and handoff codes then cross the network in the clear. Behind a TLS-terminating load balancer the scheme is https, not this.',
    }),
    publicPort: setting(integer(0, 65535).default(8000), {
      env: 'BERTH_PUBLIC_PORT',
      shownDefault: '`BERTH_PROXY_PORT`, else 8000',
      description: "Port browsers use to reach the proxy; 0 means the scheme's default (80/443).",
    }),
    sessionIdleMs: setting(durationMs(1, Number.MAX_SAFE_INTEGER).default(8 * 3_600_000), {
      env: 'BERTH_SESSION_IDLE_MS',
      description: 'A session unused this long ends.',
    }),
    sessionAbsoluteMs: setting(durationMs(1, Number.MAX_SAFE_INTEGER).default(24 * 3_600_000), {
      env: 'BERTH_SESSION_ABSOLUTE_MS',
      description: 'A session ends this long after sign-in, used or not.',
    }),
    devUsers: setting(commaList(devUser).default([]), {
      env: 'BERTH_DEV_USERS',
      shownValue: '`NAME`, `NAME:admin` or `NAME:user:GROUP+GROUP`, comma-separated',
      description: 'Local users offered by the development sign-in.',
    }),
    adminGroups: setting(commaList(z.string()).default([]), {
      env: 'BERTH_ADMIN_GROUPS',
      shownValue: 'group names, comma-separated',
      description:
        'Users in any of these groups are admins, others are not (OIDC and ALB), worked out again at every sign-in.',
    }),
    oidcIssuer: setting(z.url().optional(), {
      env: 'BERTH_OIDC_ISSUER',
      description:
        'The identity provider (discovery at `<issuer>/.well-known/openid-configuration`); required for oidc.',
    }),
    oidcClientId: setting(z.string().min(1).max(512).optional(), {
      env: 'BERTH_OIDC_CLIENT_ID',
      description: "berth's client ID at the identity provider; required for oidc.",
    }),
    oidcClientSecret: setting(z.string().min(1).max(4096).optional(), {
      env: 'BERTH_OIDC_CLIENT_SECRET',
      description: 'The client secret (never logged or echoed).',
    }),
    oidcScopes: setting(z.string().min(1).max(1024).default('openid email profile'), {
      env: 'BERTH_OIDC_SCOPES',
      description: 'Scopes asked for, space-separated.',
    }),
    oidcGroupsClaim: setting(z.string().min(1).max(256).default('groups'), {
      env: 'BERTH_OIDC_GROUPS_CLAIM',
      description: "The ID token (or userinfo) claim holding the user's groups.",
    }),
    oidcAllowHttp: setting(flag().default(false), {
      env: 'BERTH_OIDC_ALLOW_HTTP',
      description: 'Allow an http:// issuer (tests, a local identity provider).',
    }),
    albKeyUrl: setting(z.url().optional(), {
      env: 'BERTH_ALB_KEY_URL',
      description:
        "Where the load balancer's public keys are: `{kid}` is replaced, else `/<kid>` is appended.",
    }),
    albRegion: setting(
      z
        .string()
        .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as eu-west-2')
        .optional(),
      {
        env: 'BERTH_ALB_REGION',
        description:
          'AWS region: the key URL defaults to `https://public-keys.auth.elb.<region>.amazonaws.com/<kid>`.',
      },
    ),
    albArn: setting(z.string().min(1).max(2048).optional(), {
      env: 'BERTH_ALB_ARN',
      description: "The load balancer's ARN: the token's `signer` must be it; required for alb.",
    }),
    albIssuer: setting(z.string().min(1).max(2048).optional(), {
      env: 'BERTH_ALB_ISSUER',
      description:
        "The identity provider's issuer the load balancer puts in the token's `iss`; required for alb.",
    }),
    /** Set by NODE_ENV=production or BERTH_ENV=production: the development sign-in is refused. */
    production: z.boolean().default(false),
  })
  .superRefine((c, ctx) => {
    const need = (key: keyof typeof c, why: string) => {
      if (c[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: why });
    };
    if (c.publicScheme === 'http' && !c.allowInsecureHttp && !isLocalHostName(c.baseDomain))
      ctx.addIssue({
        code: 'custom',
        path: ['publicScheme'],
        message: `must be https for the base domain ${c.baseDomain} (http is for localhost; set BERTH_ALLOW_INSECURE_HTTP=true for a test network only)`,
      });
    if (c.mode === 'dev') {
      if (!isLocalHostName(c.baseDomain))
        ctx.addIssue({
          code: 'custom',
          path: ['mode'],
          message: `the development sign-in is refused for the base domain ${c.baseDomain}: it signs anyone in as anyone, so it is for localhost, *.localhost or a loopback address only`,
        });
      if (c.production)
        ctx.addIssue({
          code: 'custom',
          path: ['mode'],
          message:
            'the development sign-in is refused in production configuration (NODE_ENV or BERTH_ENV is production)',
        });
      if (c.devUsers.length === 0)
        ctx.addIssue({
          code: 'custom',
          path: ['devUsers'],
          message: 'name at least one local user',
        });
    }
    if (c.mode === 'oidc') {
      need('oidcIssuer', 'required for OIDC sign-in');
      need('oidcClientId', 'required for OIDC sign-in');
      if (c.oidcIssuer?.startsWith('http:') && !c.oidcAllowHttp)
        ctx.addIssue({
          code: 'custom',
          path: ['oidcIssuer'],
          message: 'must be https (set BERTH_OIDC_ALLOW_HTTP=true for a local identity provider)',
        });
    }
    if (c.mode === 'alb') {
      need('albArn', 'required for ALB sign-in: the load balancer ARN that signs the tokens');
      need('albIssuer', "required for ALB sign-in: the identity provider's issuer");
      if (!c.albKeyUrl && !c.albRegion)
        ctx.addIssue({ code: 'custom', path: ['albRegion'], message: 'set a region or a key URL' });
    }
  });

export type SignInConfig = z.infer<typeof signInConfigSchema>;
export type SignInConfigInput = z.input<typeof signInConfigSchema>;

/** Environment, then explicit values (tests, bin/); throws ConfigError naming each variable, never echoing a secret. */
export function loadSignInConfig(
  overrides: Partial<SignInConfigInput> = {},
  env: NodeJS.ProcessEnv = process.env,
): SignInConfig {
  // Browsers reach the proxy's port unless told otherwise.
  const withPort = env.BERTH_PUBLIC_PORT
    ? env
    : { ...env, BERTH_PUBLIC_PORT: env.BERTH_PROXY_PORT };
  const production = env.NODE_ENV === 'production' || env.BERTH_ENV === 'production';
  return loadSettings(signInConfigSchema, withPort, {
    component: 'sign-in',
    values: { production, ...overrides },
  });
}

/** The domain tool hosts live under: BERTH_TOOL_DOMAIN, else the base domain. */
export function toolDomainOf(c: Pick<SignInConfig, 'baseDomain' | 'toolDomain'>): string {
  return c.toolDomain ?? c.baseDomain;
}

/** berth's public origin, e.g. `http://localhost:8000`. */
export function publicOrigin(c: SignInConfig): string {
  const defaultPort = c.publicScheme === 'https' ? 443 : 80;
  const port = c.publicPort === 0 || c.publicPort === defaultPort ? '' : `:${c.publicPort}`;
  return `${c.publicScheme}://${c.baseDomain}${port}`;
}
