// OpenID Connect sign-in against a small identity provider run inside the test
// (oidc-issuer.ts: discovery, authorization, token, JWKS): the happy path and
// its user record, then a wrong state, a replayed code, an expired ID token and a
// bad signature, each refused with a clear page.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestIssuer, type TestIssuer } from './oidc-issuer.ts';
import { Browser, type SignInHarness, startSignInApi } from './sign-in-support.ts';

let idp: TestIssuer;
let h: SignInHarness;
let CLIENT_SECRET = '';

before(async () => {
  idp = await startTestIssuer();
  CLIENT_SECRET = idp.clientSecret;
  h = await startSignInApi(idp.signInSettings());
});

after(async () => {
  await h?.close();
  await idp?.close();
});

/** Starts a sign-in in `b` and lets the identity provider answer; returns the callback path. */
const authorize = (b: Browser, next = '/') => idp.authorize(b, h.origin, next);

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
  idp.behaviour = {
    claims: {
      sub: 'subject-1',
      email: 'Jane.Doe@example.org',
      email_verified: true,
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
  const token = idp.tokenRequests.at(-1)!;
  assert.ok(token.get('code_verifier'), 'PKCE verifier sent');
  assert.equal(token.get('redirect_uri'), `${h.origin}/auth/callback`);

  // The same subject with a new email keeps its slug; another subject gets a new one.
  idp.behaviour = {
    claims: { sub: 'subject-1', email: 'jane@new.example.org', email_verified: true, roles: [] },
  };
  const again = new Browser(h);
  assert.equal((await again.get(await authorize(again))).status, 302);
  assert.equal(JSON.parse((await again.get('/apis/berth/v1alpha1/whoami')).text).user, 'jane-doe');
  idp.behaviour = {
    claims: {
      sub: 'subject-2',
      email: 'jane.doe@elsewhere.example',
      email_verified: true,
      roles: [],
    },
  };
  const other = new Browser(h);
  assert.equal((await other.get(await authorize(other))).status, 302);
  assert.equal(
    JSON.parse((await other.get('/apis/berth/v1alpha1/whoami')).text).user,
    'jane-doe-2',
  );
});

test('a wrong state is refused with a clear page', async () => {
  idp.behaviour = { claims: { sub: 'subject-3', email: 'state@example.org' } };
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
  idp.behaviour = { claims: { sub: 'subject-4', email: 'replay@example.org' } };
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
  idp.behaviour = { claims: { sub: 'subject-5', email: 'old@example.org' }, expired: true };
  const b = new Browser(h);
  const r = await b.get(await authorize(b));
  assertClearRefusal(r, /expired/);
  assert.ok(!b.jar.has('berth_session'));
});

test('an ID token with a bad signature is refused with a clear page', async () => {
  idp.behaviour = { claims: { sub: 'subject-6', email: 'forged@example.org' }, badSignature: true };
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
