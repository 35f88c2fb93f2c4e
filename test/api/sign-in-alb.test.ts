// ALB mode: berth behind an AWS Application Load Balancer that signs people in
// and adds `x-amzn-oidc-data` (an ES256 JWT). A valid one starts a session; a
// forged (wrong key), expired, foreign-signer or missing one is refused. The
// load balancer's key endpoint is a small server in the test.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { Browser, type SignInHarness, startSignInApi } from './sign-in-support.ts';

const ALB_ARN =
  'arn:aws:elasticloadbalancing:eu-west-2:123456789012:loadbalancer/app/berth/50dc6c495c0c9188';
const IDP = 'https://sso.example.org';
let keys: Server;
let keyFetches = 0;
let h: SignInHarness;
let albKey: CryptoKey;
let otherKey: CryptoKey;
let pem: string;

before(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  albKey = pair.privateKey as CryptoKey;
  pem = await exportSPKI(pair.publicKey);
  otherKey = (await generateKeyPair('ES256')).privateKey as CryptoKey;
  keys = createServer((req, res) => {
    keyFetches++;
    if (req.url === '/keys/kid-1') res.writeHead(200, { 'content-type': 'text/plain' }).end(pem);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => keys.listen(0, '127.0.0.1', r));
  h = await startSignInApi({
    mode: 'alb',
    albKeyUrl: `http://127.0.0.1:${(keys.address() as AddressInfo).port}/keys/{kid}`,
    albArn: ALB_ARN,
    albIssuer: IDP,
  });
});

after(async () => {
  await h?.close();
  keys?.closeAllConnections();
  await new Promise((r) => keys?.close(r));
});

async function albToken(
  opts: { key?: CryptoKey; expSeconds?: number; signer?: string; kid?: string } = {},
) {
  const exp = Math.floor(Date.now() / 1000) + (opts.expSeconds ?? 120);
  const jwt = await new SignJWT({
    sub: 'alb-subject-1',
    email: 'sam.analyst@example.org',
    // As some identity providers send it through the load balancer: a string.
    email_verified: 'true',
    name: 'Sam Analyst',
    groups: ['analysts'],
    iss: IDP,
  })
    .setProtectedHeader({
      alg: 'ES256',
      kid: opts.kid ?? 'kid-1',
      signer: opts.signer ?? ALB_ARN,
      iss: IDP,
      client: 'client-id',
      exp,
    } as never)
    .setExpirationTime(exp)
    .sign(opts.key ?? albKey);
  // The load balancer pads its base64url segments.
  return jwt
    .split('.')
    .map((s) => s + '='.repeat((4 - (s.length % 4)) % 4))
    .join('.');
}

test('a valid x-amzn-oidc-data is accepted and starts a session', async () => {
  const b = new Browser(h);
  const r = await b.get('/auth/sign-in?next=%2Fx', { 'x-amzn-oidc-data': await albToken() });
  assert.equal(r.status, 302, r.text);
  assert.equal(r.location, '/x');
  assert.ok(b.jar.has('berth_session'));
  const who = JSON.parse((await b.get('/apis/berth/v1alpha1/whoami')).text);
  assert.equal(who.user, 'sam-analyst');
  assert.equal(who.email, 'sam.analyst@example.org');
  assert.deepEqual(who.groups, ['analysts']);
  const before = keyFetches;
  const again = new Browser(h);
  assert.equal(
    (await again.get('/auth/sign-in', { 'x-amzn-oidc-data': await albToken() })).status,
    302,
  );
  assert.equal(keyFetches, before, 'the key is cached');
});

test('a forged token (signed with another key) is refused', async () => {
  const b = new Browser(h);
  const r = await b.get('/auth/sign-in', { 'x-amzn-oidc-data': await albToken({ key: otherKey }) });
  assert.equal(r.status, 401);
  assert.match(r.text, /signature is not valid/);
  assert.ok(!b.jar.has('berth_session'));
});

test('an expired token is refused', async () => {
  const b = new Browser(h);
  const r = await b.get('/auth/sign-in', {
    'x-amzn-oidc-data': await albToken({ expSeconds: -60 }),
  });
  assert.equal(r.status, 401);
  assert.match(r.text, /has expired/);
  assert.ok(!b.jar.has('berth_session'));
});

test('another load balancer, an unknown key, garbage or no header are refused', async () => {
  const b = new Browser(h);
  const cases: [Record<string, string>, RegExp][] = [
    [
      { 'x-amzn-oidc-data': await albToken({ signer: `${ALB_ARN}-other` }) },
      /another load balancer/,
    ],
    [{ 'x-amzn-oidc-data': await albToken({ kid: 'kid-2' }) }, /key is unknown/],
    [{ 'x-amzn-oidc-data': await albToken({ kid: '../../etc' }) }, /names no valid key/],
    [{ 'x-amzn-oidc-data': 'not.a.jwt' }, /malformed/],
    [{}, /no load balancer sign-in/],
  ];
  for (const [headers, words] of cases) {
    const r = await b.get('/auth/sign-in', headers);
    assert.equal(r.status, 401, JSON.stringify(headers));
    assert.match(r.text, words);
    assert.doesNotMatch(r.text, /\bat [\w.<>]+ \(|node:internal/);
  }
  assert.ok(!b.jar.has('berth_session'));
});
