// OpenID Connect sign-in against a small identity provider run inside the test
// (discovery, authorization, token, JWKS; node:http + jose): the happy path and
// its user record, then a wrong state, a replayed code, an expired ID token and a
// bad signature, each refused with a clear page.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { Browser, type SignInHarness, startSignInApi } from './sign-in-support.ts';

interface Behaviour {
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

const CLIENT_ID = 'berth-test';
const CLIENT_SECRET = randomBytes(16).toString('hex');

let idp: Server;
let issuer: string;
let h: SignInHarness;
let behaviour: Behaviour = { claims: {} };
const codes = new Map<string, PendingCode>();
let signingKey: CryptoKey;
let otherKey: CryptoKey;
let publicJwk: JWK;
const tokenRequests: URLSearchParams[] = [];

async function idToken(p: PendingCode): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const iat = behaviour.expired ? now - 7200 : now;
  return new SignJWT({ ...p.claims, nonce: p.nonce })
    .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
    .setIssuer(issuer)
    .setAudience(p.clientId)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 300)
    .sign(behaviour.badSignature ? otherKey : signingKey);
}

function startIdp(): Promise<void> {
  idp = createServer(async (req, res) => {
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
        claims: behaviour.claims,
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
      tokenRequests.push(form);
      const basic = req.headers.authorization?.startsWith('Basic ')
        ? Buffer.from(req.headers.authorization.slice(6), 'base64').toString().split(':')
        : undefined;
      const secret = form.get('client_secret') ?? (basic ? decodeURIComponent(basic[1] ?? '') : '');
      if (secret !== CLIENT_SECRET) return json(401, { error: 'invalid_client' });
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
  return new Promise((r) => idp.listen(0, '127.0.0.1', () => r()));
}

before(async () => {
  const pair = await generateKeyPair('RS256', { extractable: true });
  signingKey = pair.privateKey as CryptoKey;
  publicJwk = await exportJWK(pair.publicKey);
  otherKey = (await generateKeyPair('RS256')).privateKey as CryptoKey;
  issuer = 'http://127.0.0.1:0';
  await startIdp();
  issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
  h = await startSignInApi({
    mode: 'oidc',
    oidcIssuer: issuer,
    oidcClientId: CLIENT_ID,
    oidcClientSecret: CLIENT_SECRET,
    oidcAllowHttp: true,
    oidcGroupsClaim: 'roles',
    adminGroups: ['berth-admins'],
  });
});

after(async () => {
  await h?.close();
  idp?.closeAllConnections();
  await new Promise((r) => idp?.close(r));
});

/** Starts a sign-in in `b` and lets the identity provider answer; returns the callback path. */
async function authorize(b: Browser, next = '/'): Promise<string> {
  const start = await b.get(`/auth/sign-in?next=${encodeURIComponent(next)}`);
  assert.equal(start.status, 302, start.text);
  assert.ok(start.location?.startsWith(`${issuer}/authorize?`), start.location);
  assert.ok(b.jar.has('berth_oidc'), 'state cookie');
  const at = await fetch(start.location!, { redirect: 'manual' });
  assert.equal(at.status, 302);
  const back = new URL(at.headers.get('location')!);
  assert.equal(back.origin, h.origin);
  assert.equal(back.pathname, '/auth/callback');
  return back.pathname + back.search;
}

function assertClearRefusal(
  r: { status: number; text: string; headers: Record<string, unknown> },
  words: RegExp,
) {
  assert.ok(r.status >= 400 && r.status < 500, `4xx, got ${r.status}`);
  assert.match(String(r.headers['content-type']), /text\/html/);
  assert.match(r.text, words);
  assert.doesNotMatch(r.text, /\bat [\w.<>]+ \(|node:internal|Error:|stack/i, 'no stack trace');
  assert.doesNotMatch(r.text, new RegExp(CLIENT_SECRET), 'no secret');
}

test('discovery, authorization code with PKCE, token, JWKS: a signed-in berth user', async () => {
  behaviour = {
    claims: {
      sub: 'subject-1',
      email: 'Jane.Doe@example.org',
      name: 'Jane Doe',
      roles: ['analysts', 'berth-admins'],
    },
  };
  const b = new Browser(h);
  const callback = await authorize(b, '/after');
  const done = await b.get(callback);
  assert.equal(done.status, 302, done.text);
  assert.equal(done.location, '/after');
  assert.ok(b.jar.has('berth_session'));
  assert.ok(!b.jar.has('berth_oidc'), 'state cookie cleared');
  const who = JSON.parse((await b.get('/apis/berth/v1alpha1/whoami')).text);
  assert.equal(who.user, 'jane-doe');
  assert.equal(who.email, 'Jane.Doe@example.org');
  assert.equal(who.displayName, 'Jane Doe');
  assert.deepEqual(who.groups, ['analysts', 'berth-admins']);
  assert.equal(who.admin, true, 'admin from the admin group');
  const token = tokenRequests.at(-1)!;
  assert.ok(token.get('code_verifier'), 'PKCE verifier sent');
  assert.equal(token.get('redirect_uri'), `${h.origin}/auth/callback`);

  // The same subject with a new email keeps its slug; another subject gets a new one.
  behaviour = { claims: { sub: 'subject-1', email: 'jane@new.example.org', roles: [] } };
  const again = new Browser(h);
  assert.equal((await again.get(await authorize(again))).status, 302);
  assert.equal(JSON.parse((await again.get('/apis/berth/v1alpha1/whoami')).text).user, 'jane-doe');
  behaviour = { claims: { sub: 'subject-2', email: 'jane.doe@elsewhere.example', roles: [] } };
  const other = new Browser(h);
  assert.equal((await other.get(await authorize(other))).status, 302);
  assert.equal(
    JSON.parse((await other.get('/apis/berth/v1alpha1/whoami')).text).user,
    'jane-doe-2',
  );
});

test('a wrong state is refused with a clear page', async () => {
  behaviour = { claims: { sub: 'subject-3', email: 'state@example.org' } };
  const b = new Browser(h);
  const callback = new URL(await authorize(b), h.origin);
  callback.searchParams.set('state', 'forged-state-value');
  const r = await b.get(callback.pathname + callback.search);
  assertClearRefusal(r, /wrong state/);
  assert.ok(!b.jar.has('berth_session'));
  // A callback in a browser that never started the sign-in (no state cookie) is refused too.
  const stranger = new Browser(h);
  const r2 = await stranger.get(await authorize(new Browser(h)));
  assertClearRefusal(r2, /does not belong to this browser/);
});

test('a replayed code is refused with a clear page', async () => {
  behaviour = { claims: { sub: 'subject-4', email: 'replay@example.org' } };
  const b = new Browser(h);
  const first = await authorize(b);
  assert.equal((await b.get(first)).status, 302);
  // The same callback again: its state was used up.
  const b2 = new Browser(h);
  for (const [k, v] of b.jar) b2.jar.set(k, v);
  b2.jar.delete('berth_session');
  b2.jar.set('berth_oidc', new URL(first, h.origin).searchParams.get('state')!);
  assertClearRefusal(await b2.get(first), /already been completed or has expired/);
  // The old code inside a fresh, valid sign-in: the identity provider refuses it.
  const b3 = new Browser(h);
  const fresh = new URL(await authorize(b3), h.origin);
  fresh.searchParams.set('code', new URL(first, h.origin).searchParams.get('code')!);
  const r = await b3.get(fresh.pathname + fresh.search);
  assertClearRefusal(r, /already used or has expired/);
  assert.ok(!b3.jar.has('berth_session'));
});

test('an expired ID token is refused with a clear page', async () => {
  behaviour = { claims: { sub: 'subject-5', email: 'old@example.org' }, expired: true };
  const b = new Browser(h);
  const r = await b.get(await authorize(b));
  assertClearRefusal(r, /expired/);
  assert.ok(!b.jar.has('berth_session'));
});

test('an ID token with a bad signature is refused with a clear page', async () => {
  behaviour = { claims: { sub: 'subject-6', email: 'forged@example.org' }, badSignature: true };
  const b = new Browser(h);
  const r = await b.get(await authorize(b));
  assertClearRefusal(r, /signature is not valid/);
  assert.ok(!b.jar.has('berth_session'));
});

test('an error from the identity provider is a clear page', async () => {
  const b = new Browser(h);
  const r = await b.get('/auth/callback?error=access_denied&state=x');
  assertClearRefusal(r, /did not sign you in/);
});
