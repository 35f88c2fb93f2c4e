// A small OpenID Connect identity provider run inside a test (discovery,
// authorization, token, JWKS; node:http + jose), for the sign-in tests. Its
// answers follow `behaviour`: the claims of the next ID tokens, and whether they
// are expired or signed with the wrong key. `authorize` walks a Browser through
// berth's sign-in up to the callback.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import type { SignInConfigInput } from '../../api/index.ts';
import type { Browser } from './sign-in-support.ts';

export interface Behaviour {
  claims: Record<string, unknown>;
  expired?: boolean;
  badSignature?: boolean;
}

interface PendingCode {
  clientId: string;
  redirectUri: string;
  challenge: string;
  nonce: string;
  claims: Record<string, unknown>;
}

export interface TestIssuer {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** What the next authorizations and tokens carry; set it before each sign-in. */
  behaviour: Behaviour;
  /** Every token request's form, in order. */
  tokenRequests: URLSearchParams[];
  /** The sign-in settings that point berth at this issuer (groups in the `roles` claim). */
  signInSettings(adminGroups?: string[]): Partial<SignInConfigInput>;
  /** Starts a sign-in in `b` and lets the identity provider answer; returns the callback path. */
  authorize(b: Browser, origin: string, next?: string): Promise<string>;
  close(): Promise<void>;
}

export async function startTestIssuer(): Promise<TestIssuer> {
  const clientId = 'berth-test';
  const clientSecret = randomBytes(16).toString('hex');
  const pair = await generateKeyPair('RS256', { extractable: true });
  const signingKey = pair.privateKey as CryptoKey;
  const publicJwk: JWK = await exportJWK(pair.publicKey);
  const otherKey = (await generateKeyPair('RS256')).privateKey as CryptoKey;
  const codes = new Map<string, PendingCode>();
  let issuer = 'http://127.0.0.1:0';

  const self: TestIssuer = {
    issuer,
    clientId,
    clientSecret,
    behaviour: { claims: {} },
    tokenRequests: [],
    signInSettings: (adminGroups = ['berth-admins']) => ({
      mode: 'oidc',
      oidcIssuer: self.issuer,
      oidcClientId: clientId,
      oidcClientSecret: clientSecret,
      oidcAllowHttp: true,
      oidcGroupsClaim: 'roles',
      adminGroups,
    }),
    async authorize(b, origin, next = '/') {
      const start = await b.get(`/auth/sign-in?next=${encodeURIComponent(next)}`);
      assert.equal(start.status, 302, start.text);
      assert.ok(start.location?.startsWith(`${self.issuer}/authorize?`), start.location);
      assert.ok(b.jar.has('berth_oidc') || b.jar.has('__Host-berth_oidc'), 'state cookie');
      const at = await fetch(start.location!, { redirect: 'manual' });
      assert.equal(at.status, 302);
      const back = new URL(at.headers.get('location')!);
      assert.equal(back.origin, origin);
      assert.equal(back.pathname, '/auth/callback');
      return back.pathname + back.search;
    },
    async close() {
      idp.closeAllConnections();
      await new Promise((r) => idp.close(r));
    },
  };

  async function idToken(p: PendingCode): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const iat = self.behaviour.expired ? now - 7200 : now;
    return new SignJWT({ ...p.claims, nonce: p.nonce })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(issuer)
      .setAudience(p.clientId)
      .setIssuedAt(iat)
      .setExpirationTime(iat + 300)
      .sign(self.behaviour.badSignature ? otherKey : signingKey);
  }

  const idp: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (url.pathname === '/.well-known/openid-configuration') {
      return json(200, {
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        code_challenge_methods_supported: ['S256'],
        token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
      });
    }
    if (url.pathname === '/jwks')
      return json(200, { keys: [{ ...publicJwk, kid: 'k1', use: 'sig', alg: 'RS256' }] });
    if (url.pathname === '/authorize') {
      const q = url.searchParams;
      assert.equal(q.get('response_type'), 'code');
      assert.equal(q.get('code_challenge_method'), 'S256');
      assert.ok(q.get('state') && q.get('nonce') && q.get('code_challenge'));
      const code = randomBytes(16).toString('base64url');
      codes.set(code, {
        clientId: q.get('client_id')!,
        redirectUri: q.get('redirect_uri')!,
        challenge: q.get('code_challenge')!,
        nonce: q.get('nonce')!,
        claims: self.behaviour.claims,
      });
      const back = new URL(q.get('redirect_uri')!);
      back.searchParams.set('code', code);
      back.searchParams.set('state', q.get('state')!);
      res.writeHead(302, { location: back.href }).end();
      return;
    }
    if (url.pathname === '/token' && req.method === 'POST') {
      let body = '';
      for await (const c of req) body += c;
      const form = new URLSearchParams(body);
      self.tokenRequests.push(form);
      const basic = req.headers.authorization?.startsWith('Basic ')
        ? Buffer.from(req.headers.authorization.slice(6), 'base64').toString().split(':')
        : undefined;
      const secret = form.get('client_secret') ?? (basic ? decodeURIComponent(basic[1] ?? '') : '');
      if (secret !== clientSecret) return json(401, { error: 'invalid_client' });
      const code = form.get('code') ?? '';
      const pending = codes.get(code);
      codes.delete(code); // one use only
      if (!pending)
        return json(400, { error: 'invalid_grant', error_description: 'code unknown or used' });
      const verifier = form.get('code_verifier') ?? '';
      if (createHash('sha256').update(verifier).digest('base64url') !== pending.challenge)
        return json(400, { error: 'invalid_grant', error_description: 'PKCE mismatch' });
      if (form.get('redirect_uri') !== pending.redirectUri)
        return json(400, { error: 'invalid_grant', error_description: 'redirect_uri mismatch' });
      return json(200, {
        access_token: randomBytes(16).toString('hex'),
        token_type: 'Bearer',
        expires_in: 300,
        id_token: await idToken(pending),
      });
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => idp.listen(0, '127.0.0.1', () => r()));
  issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
  self.issuer = issuer;
  return self;
}
