// Sign-in configuration: environment variables parsed by one zod schema. Which
// sign-in is on (none, dev, oidc, alb), where browsers reach berth (the proxy's
// public origin, which the session cookie and the handoff are bound to), session
// lifetimes, and each mode's settings. The development sign-in is refused when
// the environment says production.
import { z } from 'zod';
import { namespaceName } from '../../crds/index.ts';

const ms = (def: number) =>
  z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).default(def);
const list = z
  .string()
  .transform((s) =>
    s
      .split(/[\s,]+/)
      .map((x) => x.trim())
      .filter(Boolean),
  )
  .or(z.array(z.string()));

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
    /** none: bearer tokens only; dev: pick a configured local user; oidc; alb. */
    mode: z.enum(['none', 'dev', 'oidc', 'alb']).default('none'),
    /** berth's own host (as the proxy's BERTH_BASE_DOMAIN); sessions are bound to it. */
    baseDomain: z
      .string()
      .min(1)
      .max(200)
      .transform((s) => s.toLowerCase().replace(/\.$/, ''))
      .pipe(z.string().regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/, 'must be a DNS name')),
    /** Scheme browsers use (as the proxy's BERTH_PROXY_PUBLIC_SCHEME): https makes cookies Secure and __Host-. */
    publicScheme: z.enum(['http', 'https']).default('http'),
    /** Port browsers use to reach the proxy; 0 means the scheme's default (80/443). */
    publicPort: z.coerce.number().int().min(0).max(65535).default(8000),
    sessionIdleMs: ms(8 * 3_600_000),
    sessionAbsoluteMs: ms(24 * 3_600_000),
    /** Local users offered by the development sign-in. */
    devUsers: z
      .array(devUser)
      .or(
        z
          .string()
          .transform((s) => s.split(/[\s,]+/).filter(Boolean))
          .pipe(z.array(devUser)),
      )
      .default([]),
    /** Users in any of these groups are admins (OIDC and ALB). */
    adminGroups: list.default([]),
    oidcIssuer: z.url().optional(),
    oidcClientId: z.string().min(1).max(512).optional(),
    oidcClientSecret: z.string().min(1).max(4096).optional(),
    oidcScopes: z.string().min(1).max(1024).default('openid email profile'),
    /** The ID token (or userinfo) claim holding the user's groups. */
    oidcGroupsClaim: z.string().min(1).max(256).default('groups'),
    /** Allow an http:// issuer (tests, a local identity provider). */
    oidcAllowHttp: z.stringbool().or(z.boolean()).default(false),
    /** Where the load balancer's public keys are: `{kid}` is replaced, else `/<kid>` is appended. */
    albKeyUrl: z.url().optional(),
    /** AWS region: the key URL defaults to https://public-keys.auth.elb.<region>.amazonaws.com/<kid>. */
    albRegion: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as eu-west-2')
      .optional(),
    /** The load balancer's ARN: the token's `signer` must be it. */
    albArn: z.string().min(1).max(2048).optional(),
    /** The identity provider's issuer the load balancer puts in the token's `iss`. */
    albIssuer: z.string().min(1).max(2048).optional(),
    /** Set by NODE_ENV=production or BERTH_ENV=production: the development sign-in is refused. */
    production: z.boolean().default(false),
  })
  .superRefine((c, ctx) => {
    const need = (key: keyof typeof c, why: string) => {
      if (c[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: why });
    };
    if (c.mode === 'dev') {
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

const ENV: Record<Exclude<keyof SignInConfig, 'production'>, string> = {
  mode: 'BERTH_SIGN_IN',
  baseDomain: 'BERTH_BASE_DOMAIN',
  publicScheme: 'BERTH_PROXY_PUBLIC_SCHEME',
  publicPort: 'BERTH_PUBLIC_PORT',
  sessionIdleMs: 'BERTH_SESSION_IDLE_MS',
  sessionAbsoluteMs: 'BERTH_SESSION_ABSOLUTE_MS',
  devUsers: 'BERTH_DEV_USERS',
  adminGroups: 'BERTH_ADMIN_GROUPS',
  oidcIssuer: 'BERTH_OIDC_ISSUER',
  oidcClientId: 'BERTH_OIDC_CLIENT_ID',
  oidcClientSecret: 'BERTH_OIDC_CLIENT_SECRET',
  oidcScopes: 'BERTH_OIDC_SCOPES',
  oidcGroupsClaim: 'BERTH_OIDC_GROUPS_CLAIM',
  oidcAllowHttp: 'BERTH_OIDC_ALLOW_HTTP',
  albKeyUrl: 'BERTH_ALB_KEY_URL',
  albRegion: 'BERTH_ALB_REGION',
  albArn: 'BERTH_ALB_ARN',
  albIssuer: 'BERTH_ALB_ISSUER',
};

export class SignInConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SignInConfigError';
  }
}

/** Environment, then explicit overrides (tests, bin/). Errors name the variable and never echo a secret. */
export function loadSignInConfig(
  overrides: Partial<SignInConfigInput> = {},
  env: NodeJS.ProcessEnv = process.env,
): SignInConfig {
  const raw: Record<string, unknown> = { baseDomain: 'localhost' };
  for (const [key, name] of Object.entries(ENV)) {
    const v = env[name];
    if (v !== undefined && v !== '') raw[key] = v;
  }
  if (raw.publicPort === undefined && env.BERTH_PROXY_PORT) raw.publicPort = env.BERTH_PROXY_PORT;
  raw.production = env.NODE_ENV === 'production' || env.BERTH_ENV === 'production';
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) raw[k] = v;
  const parsed = signInConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const key = String(i.path[0] ?? 'mode');
      return `${ENV[key as keyof typeof ENV] ?? key}: ${i.message}`;
    });
    throw new SignInConfigError(`invalid sign-in configuration: ${lines.join('; ')}`);
  }
  return parsed.data;
}

/** berth's public origin, e.g. `http://localhost:8000`. */
export function publicOrigin(c: SignInConfig): string {
  const defaultPort = c.publicScheme === 'https' ? 443 : 80;
  const port = c.publicPort === 0 || c.publicPort === defaultPort ? '' : `:${c.publicPort}`;
  return `${c.publicScheme}://${c.baseDomain}${port}`;
}
