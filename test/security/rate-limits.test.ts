// Fair use: sign-in attempts per client address (the proxy's token sign-in and
// handoff callbacks, the API's /auth/sign-in, /auth/dev-sign-in and
// /auth/callback) and the starting page's /_berth/status per session are
// rate-limited: over the limit a 429 with Retry-After names the limit and nothing
// is done. The client address is the socket's peer, or the X-Forwarded-For entry
// of the outermost trusted proxy: a client cannot pick its own.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type RunningApi, startApi } from '../../api/index.ts';
import { type RunningProxy, startProxy } from '../../proxy/index.ts';
import { freePort } from '../../store/index.ts';
import { Browser } from '../api/sign-in-support.ts';
import { addDefinition, bearer, type Harness, startHarness } from '../proxy/support.ts';
import { send, sessionCookie } from './support.ts';

let h: Harness;
/** One proxy trusting no hop, one behind a (simulated) load balancer. */
let direct: RunningProxy;
let behindLb: RunningProxy;
let api: RunningApi;
let apiPort: number;

const LIMITS = { signInRateLimit: 3, signInRateWindowMs: 60_000, statusRateLimit: 3 };

before(async () => {
  h = await startHarness();
  direct = await startProxy({
    pool: h.db.pool,
    store: h.store,
    port: 0,
    config: { baseDomain: 'localhost', ...LIMITS },
  });
  behindLb = await startProxy({
    pool: h.db.pool,
    store: h.store,
    port: 0,
    config: { baseDomain: 'localhost', trustedHops: 1, ...LIMITS },
  });
  await addDefinition(h, 'demo', {}, direct);
  apiPort = await freePort();
  api = await startApi({
    pool: h.db.pool,
    port: apiPort,
    config: { logLevel: 'silent', maintenanceIntervalMs: 0 },
    signIn: {
      mode: 'dev',
      devUsers: ['alice', 'bob'],
      baseDomain: 'localhost',
      publicPort: apiPort,
      signInRateLimit: 3,
    },
  });
});

after(async () => {
  await api.close();
  await behindLb.close();
  await direct.close();
  await h.close();
});

function tokenSignIn(proxy: RunningProxy, token: string, xff?: string) {
  return send(proxy, 'localhost', '/_berth/sign-in', {
    method: 'POST',
    headers: {
      origin: `http://localhost:${proxy.port}`,
      'content-type': 'application/x-www-form-urlencoded',
      ...(xff ? { 'x-forwarded-for': xff } : {}),
    },
    body: new URLSearchParams({ token, next: '/' }).toString(),
  });
}

test('proxy: the fourth sign-in attempt from one address is refused with 429, even with a good token', async () => {
  for (let i = 0; i < 3; i++)
    assert.equal((await tokenSignIn(direct, `berth_nope_${i}`)).status, 401, `attempt ${i + 1}`);
  const r = await tokenSignIn(direct, h.tokens.alice!);
  assert.equal(r.status, 429);
  assert.ok(Number(r.headers['retry-after']) >= 1, 'Retry-After');
  assert.match(r.text, /3 sign-in attempts per 60 s from one address/);
  assert.match(r.text, /BERTH_SIGN_IN_RATE_LIMIT/);
  assert.deepEqual(r.setCookies, [], 'no session was started');
  // Handoff callbacks are sign-in attempts too (codes are guessed there).
  const cb = await send(direct, 'demo--alice.localhost', '/_berth/callback?code=guess&path=/');
  assert.equal(cb.status, 429);
});

test('proxy behind a load balancer: counted by the address the balancer saw, not one the client wrote', async () => {
  // The balancer appends the address it saw; whatever the client put before it is ignored.
  for (let i = 0; i < 3; i++)
    assert.equal((await tokenSignIn(behindLb, 'nope', `198.51.100.${i}, 203.0.113.7`)).status, 401);
  assert.equal((await tokenSignIn(behindLb, 'nope', '198.51.100.99, 203.0.113.7')).status, 429);
  // Another client behind the same balancer is not held back by it.
  assert.equal((await tokenSignIn(behindLb, h.tokens.bob!, '203.0.113.8')).status, 303);
});

test("proxy: /_berth/status is limited per session; another session's polls go on", async () => {
  const c1 = await sessionCookie(h.sessions, 'alice', 'demo--alice.localhost');
  const c2 = await sessionCookie(h.sessions, 'alice', 'demo--alice.localhost');
  for (let i = 0; i < 3; i++)
    assert.equal(
      (await send(direct, 'demo--alice.localhost', '/_berth/status', { headers: { cookie: c1 } }))
        .status,
      200,
    );
  const over = await send(direct, 'demo--alice.localhost', '/_berth/status', {
    headers: { cookie: c1, accept: 'application/json' },
  });
  assert.equal(over.status, 429);
  assert.ok(Number(over.headers['retry-after']) >= 1);
  assert.match(JSON.parse(over.text).message, /3 status requests per 60 s/);
  const other = await send(direct, 'demo--alice.localhost', '/_berth/status', {
    headers: { cookie: c2 },
  });
  assert.equal(other.status, 200);
  const token = await send(direct, 'demo--alice.localhost', '/_berth/status', {
    headers: bearer(h.tokens.alice),
  });
  assert.equal(token.status, 200);
});

test('API: /auth/dev-sign-in and /auth/sign-in count per client address; over it, 429 and no session', async () => {
  const b = new Browser({ port: apiPort });
  assert.equal((await b.get('/auth/sign-in')).status, 200);
  await b.devSignIn('alice');
  const r2 = await b.postForm('/auth/dev-sign-in', { user: 'alice', next: '/' });
  assert.equal(r2.status, 303);
  const fresh = new Browser({ port: apiPort });
  const over = await fresh.postForm('/auth/dev-sign-in', { user: 'bob', next: '/' });
  assert.equal(over.status, 429);
  assert.ok(Number(over.headers['retry-after']) >= 1);
  assert.match(over.text, /3 sign-in attempts per 60 s from one address/);
  assert.deepEqual(over.setCookies, [], 'no session');
  assert.equal((await fresh.get('/auth/callback?code=x&state=y')).status, 429);
  // Behind berth's proxy (one trusted hop by default) the proxy's X-Forwarded-For names the client.
  const elsewhere = await fresh.send('POST', '/auth/dev-sign-in', {
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      origin: `http://localhost:${apiPort}`,
      'x-forwarded-for': '203.0.113.9',
    },
    body: new URLSearchParams({ user: 'bob', next: '/' }).toString(),
  });
  assert.equal(elsewhere.status, 303);
});
