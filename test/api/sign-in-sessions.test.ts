// Development sign-in, session cookies, CSRF, sign-out (with the proxy's tool-host
// child sessions), handoff codes and session expiry, against a real API server
// and PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadSignInConfig } from '../../api/index.ts';
import { slugify } from '../../api/sign-in/index.ts';
import { handoffStateHash, Sessions } from '../../store/index.ts';
import { toolDefinition, toolInstance } from '../support/fixtures.ts';
import { Browser, type SignInHarness, startSignInApi } from './sign-in-support.ts';

let h: SignInHarness;
let sessions: Sessions;
const TI_PATH = '/apis/berth/v1alpha1/namespaces/alice/toolinstances';

before(async () => {
  h = await startSignInApi({
    mode: 'dev',
    devUsers: ['alice', 'root:admin', 'carol:user:analysts+finance'],
  });
  sessions = new Sessions(h.db.pool);
  await h.api.store.create('ToolDefinition', toolDefinition('demo', { displayName: 'Demo' }));
});

after(async () => {
  await h?.close();
});

/** A handoff state, as the proxy keeps it in the tool host's cookie. */
const STATE = 'state-of-this-browser';
const instance = (name: string) => toolInstance('alice', name, 'demo', { state: 'Running' });

test('the development sign-in page lists the users, carries the banner and a strict CSP', async () => {
  const b = new Browser(h);
  const root = await b.get('/');
  assert.equal(root.status, 302);
  assert.equal(root.location, '/auth/sign-in?next=%2F');
  const page = await b.get('/auth/sign-in?next=%2F');
  assert.equal(page.status, 200);
  assert.match(page.text, /Development sign-in/);
  assert.match(page.text, /value="alice"/);
  assert.match(page.text, /value="root"/);
  assert.doesNotMatch(page.text, /<script>/);
  assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
  assert.match(String(page.headers['content-security-policy']), /frame-ancestors 'none'/);
});

test('signing in sets a host-only HttpOnly SameSite=Lax cookie and the UI and API accept it', async () => {
  const b = new Browser(h);
  const r = await b.postForm('/auth/dev-sign-in', { user: 'carol', next: '/somewhere' });
  assert.equal(r.status, 303);
  assert.equal(r.location, '/somewhere');
  const cookie = r.setCookies.find((c) => c.startsWith('berth_session='));
  assert.ok(cookie, 'session cookie set');
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Lax/);
  assert.match(cookie, /Path=\//);
  assert.doesNotMatch(cookie, /Domain=/i, 'host-only');
  assert.doesNotMatch(cookie, /Secure/, 'plain http here');
  const session = JSON.parse((await b.get('/auth/session')).text);
  assert.equal(session.signedIn, true);
  assert.equal(session.user.name, 'carol');
  assert.deepEqual(session.user.groups, ['analysts', 'finance']);
  assert.equal(session.devSignIn, true);
  assert.equal(session.toolUrlTemplate, `http://{tool}--{user}.localhost:${h.port}/`);
  const who = JSON.parse((await b.get('/apis/berth/v1alpha1/whoami')).text);
  assert.equal(who.user, 'carol');
  const ui = await b.get('/');
  assert.equal(ui.status, 200);
  assert.match(ui.text, /<script type="module" src="\/ui\/app\.js">/);
  assert.match(ui.text, /Development sign-in/, 'the banner is on the UI page too');
  assert.match(String(ui.headers['content-security-policy']), /default-src 'none'/);
  const js = await b.get('/ui/app.js');
  assert.equal(js.status, 200);
  assert.match(String(js.headers['content-type']), /javascript/);
  assert.equal((await b.get('/ui/..%2Fserve.ts')).status, 404);
  assert.equal((await b.get('/ui/serve.ts')).status, 404, 'only static assets are served');
});

test('a sign-in form from another site, an unknown user or a GET is refused', async () => {
  const b = new Browser(h);
  const foreign = await b.postForm('/auth/dev-sign-in', { user: 'alice' }, 'http://evil.example');
  assert.equal(foreign.status, 403);
  assert.match(foreign.text, /another site/);
  assert.equal(b.jar.size, 0);
  const unknown = await b.postForm('/auth/dev-sign-in', { user: 'mallory' });
  assert.equal(unknown.status, 400);
  assert.match(unknown.text, /Choose one of the listed users/);
  assert.equal(b.jar.size, 0);
  // The session cookie is bound to berth's host: a request to another host name is not signed in.
  await b.devSignIn('alice');
  const other = new Browser(h, '127.0.0.1');
  for (const [k, v] of b.jar) other.jar.set(k, v);
  assert.equal((await other.get('/apis/berth/v1alpha1/whoami')).status, 401);
});

test('CSRF: cookie-authenticated POST, PATCH and DELETE need the token and a same-origin Origin', async () => {
  const b = new Browser(h);
  const csrf = await b.devSignIn('alice');
  const json = { 'content-type': 'application/json' };
  const body = JSON.stringify(instance('csrf-a'));
  const noToken = await b.send('POST', TI_PATH, { headers: json, body });
  assert.equal(noToken.status, 403);
  assert.match(noToken.text, /CSRF/);
  const wrongToken = await b.send('POST', TI_PATH, {
    headers: { ...json, 'x-berth-csrf': 'x'.repeat(43) },
    body,
  });
  assert.equal(wrongToken.status, 403);
  const foreign = await b.send('POST', TI_PATH, {
    headers: { ...json, 'x-berth-csrf': csrf, origin: 'http://evil.example' },
    body,
  });
  assert.equal(foreign.status, 403);
  assert.match(foreign.text, /Origin/);
  const ok = await b.send('POST', TI_PATH, {
    headers: { ...json, 'x-berth-csrf': csrf, origin: h.origin },
    body,
  });
  assert.equal(ok.status, 201, ok.text);
  const merge = { 'content-type': 'application/merge-patch+json' };
  const patchBody = JSON.stringify({ spec: { state: 'Stopped' } });
  assert.equal(
    (await b.send('PATCH', `${TI_PATH}/csrf-a`, { headers: merge, body: patchBody })).status,
    403,
  );
  assert.equal(
    (
      await b.send('PATCH', `${TI_PATH}/csrf-a`, {
        headers: { ...merge, 'x-berth-csrf': csrf },
        body: patchBody,
      })
    ).status,
    200,
  );
  assert.equal((await b.send('DELETE', `${TI_PATH}/csrf-a`)).status, 403);
  assert.equal(
    (
      await b.send('DELETE', `${TI_PATH}/csrf-a`, {
        headers: { 'x-berth-csrf': csrf, origin: 'http://demo--alice.localhost:1' },
      })
    ).status,
    403,
    'a tool host is another origin',
  );
  assert.equal(
    (await b.send('DELETE', `${TI_PATH}/csrf-a`, { headers: { 'x-berth-csrf': csrf } })).status,
    200,
  );
  // Another session's token does not work for this one.
  const other = new Browser(h);
  const otherCsrf = await other.devSignIn('alice');
  assert.notEqual(otherCsrf, csrf);
  assert.equal(
    (await b.send('POST', TI_PATH, { headers: { ...json, 'x-berth-csrf': otherCsrf }, body }))
      .status,
    403,
  );
});

test('bearer-token requests are exempt from CSRF', async () => {
  const { token } = await h.api.identity.createToken({ user: 'alice' });
  const b = new Browser(h);
  const r = await b.send('POST', TI_PATH, {
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      origin: 'http://evil.example',
    },
    body: JSON.stringify(instance('bearer-a')),
  });
  assert.equal(r.status, 201, r.text);
});

test('sign-out revokes the session and its tool-host child sessions', async () => {
  const b = new Browser(h);
  const csrf = await b.devSignIn('alice');
  const me = JSON.parse((await b.get('/auth/session')).text);
  assert.equal(me.signedIn, true);
  // What the proxy's handoff does: a code bound to the tool host, redeemed there into a child session.
  const cookie = b.jar.get('berth_session')!;
  const parent = await sessions.verifySession(cookie, 'localhost');
  assert.ok(parent);
  const code = await sessions.createHandoffCode(
    parent.sessionId,
    'demo--alice.localhost',
    handoffStateHash(STATE),
  );
  const redeemed = await sessions.redeemHandoffCode(code, 'demo--alice.localhost', [STATE]);
  assert.ok(redeemed.ok);
  const child = await sessions.createSession({
    user: redeemed.user,
    host: 'demo--alice.localhost',
    parentId: redeemed.sessionId,
    idleMs: 60_000,
    absoluteMs: 60_000,
  });
  assert.ok(child);
  assert.ok(await sessions.verifySession(child.cookieValue, 'demo--alice.localhost'));

  // Without the CSRF token, sign-out is refused (a cross-site form cannot sign you out).
  const refused = await b.send('POST', '/auth/sign-out');
  assert.equal(refused.status, 403);
  assert.ok(await sessions.verifySession(cookie, 'localhost'));

  const out = await b.send('POST', '/auth/sign-out', { headers: { 'x-berth-csrf': csrf } });
  assert.equal(out.status, 200);
  assert.ok(
    out.setCookies.some((c) => /^berth_session=;.*Max-Age=0/.test(c)),
    'cookie cleared',
  );
  assert.equal(await sessions.verifySession(cookie, 'localhost'), undefined);
  assert.equal(
    await sessions.verifySession(child.cookieValue, 'demo--alice.localhost'),
    undefined,
    'the tool-host session ended with it',
  );
  // The old cookie, replayed, no longer works anywhere.
  const replay = new Browser(h);
  replay.jar.set('berth_session', cookie);
  assert.equal((await replay.get('/apis/berth/v1alpha1/whoami')).status, 401);
  assert.equal(JSON.parse((await replay.get('/auth/session')).text).signedIn, false);
  assert.equal((await replay.get('/')).status, 302);
});

test('a stolen handoff code cannot be replayed, nor used on another host or by another browser', async () => {
  const b = new Browser(h);
  await b.devSignIn('alice');
  const parent = await sessions.verifySession(b.jar.get('berth_session')!, 'localhost');
  assert.ok(parent);
  const mint = () =>
    sessions.createHandoffCode(parent.sessionId, 'demo--alice.localhost', handoffStateHash(STATE));
  const code = await mint();
  assert.equal((await sessions.redeemHandoffCode(code, 'demo--alice.localhost', [STATE])).ok, true);
  assert.deepEqual(await sessions.redeemHandoffCode(code, 'demo--alice.localhost', [STATE]), {
    ok: false,
    reason: 'unknown',
  });
  const code2 = await mint();
  assert.equal((await sessions.redeemHandoffCode(code2, 'demo--bob.localhost', [STATE])).ok, false);
  assert.equal(
    (await sessions.redeemHandoffCode(code2, 'demo--alice.localhost', [STATE])).ok,
    false,
    'a code tried on the wrong host is burnt',
  );
  // Another browser's states (or none) do not redeem it, and the attempt burns it.
  const code3 = await mint();
  assert.deepEqual(
    await sessions.redeemHandoffCode(code3, 'demo--alice.localhost', ['another-state', '']),
    { ok: false, reason: 'other-browser' },
  );
  assert.equal(
    (await sessions.redeemHandoffCode(code3, 'demo--alice.localhost', [STATE])).ok,
    false,
  );
  const code4 = await mint();
  assert.equal((await sessions.redeemHandoffCode(code4, 'demo--alice.localhost', [])).ok, false);
});

test('sessions expire when idle, activity keeps them alive, and the absolute lifetime ends them anyway', async () => {
  const MIN = 60_000;
  const server = await startSignInApi({
    mode: 'dev',
    devUsers: ['idler', 'busy'],
    sessionIdleMs: 10 * MIN,
    sessionAbsoluteMs: 60 * MIN,
  });
  // Time passes for a user's sessions: every timestamp they hold moves back by `ms`.
  const age = (user: string, ms: number) =>
    server.db.pool.query(
      `update sessions set created_at = created_at - $2 * interval '1 millisecond',
              last_seen_at = last_seen_at - $2 * interval '1 millisecond',
              expires_at = expires_at - $2 * interval '1 millisecond'
        where user_name = $1`,
      [user, ms],
    );
  const whoami = async (b: Browser) => (await b.get('/apis/berth/v1alpha1/whoami')).status;
  try {
    // Idle: used at 9 min, then left alone for 11 (20 min old: far from its 60 min lifetime).
    const idler = new Browser(server);
    await idler.devSignIn('idler');
    await age('idler', 9 * MIN);
    assert.equal(await whoami(idler), 200, 'idle 9 of 10 minutes: still signed in');
    await age('idler', 11 * MIN);
    assert.equal(await whoami(idler), 401, 'idle 11 minutes: signed out');

    // Activity: a request every 5 minutes keeps the session past its 10-minute idle limit...
    const busy = new Browser(server);
    await busy.devSignIn('busy');
    for (let minutes = 5; minutes <= 55; minutes += 5) {
      await age('busy', 5 * MIN);
      assert.equal(await whoami(busy), 200, `in use, ${minutes} minutes old: still signed in`);
    }
    // ...but not past its absolute lifetime: 61 minutes old, last used 6 minutes ago.
    await age('busy', 6 * MIN);
    assert.equal(await whoami(busy), 401, 'in use, 61 minutes old: signed out');
  } finally {
    await server.close();
  }
});

test('the development sign-in is refused in production configuration, and needs users', () => {
  assert.throws(
    () => loadSignInConfig({ mode: 'dev', devUsers: ['alice'] }, { NODE_ENV: 'production' }),
    /development sign-in is refused in production/,
  );
  assert.throws(
    () =>
      loadSignInConfig({}, { BERTH_SIGN_IN: 'dev', BERTH_DEV_USERS: 'a', BERTH_ENV: 'production' }),
    /BERTH_SIGN_IN: the development sign-in is refused/,
  );
  assert.throws(() => loadSignInConfig({ mode: 'dev' }, {}), /BERTH_DEV_USERS/);
  assert.throws(
    () => loadSignInConfig({}, { BERTH_SIGN_IN: 'dev', BERTH_DEV_USERS: 'Bad_Name' }),
    /BERTH_DEV_USERS/,
  );
  const ok = loadSignInConfig({}, { BERTH_SIGN_IN: 'dev', BERTH_DEV_USERS: 'dev,admin:admin' });
  assert.deepEqual(ok.devUsers, [
    { name: 'dev', admin: false, groups: [] },
    { name: 'admin', admin: true, groups: [] },
  ]);
});

test('slugs are DNS labels', () => {
  assert.equal(slugify('Jane.O’Brien'), 'jane-o-brien');
  assert.equal(slugify('Zoë  Smith--x'), 'zoe-smith-x');
  assert.equal(slugify('---'), '');
  assert.ok(slugify('a'.repeat(100)).length <= 63);
});
