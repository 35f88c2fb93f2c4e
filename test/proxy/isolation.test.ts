// One user never reaches another user's tool: tokens, sessions, handoff codes,
// Host tricks. And the handoff itself, end to end with real cookies.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import {
  addDefinition,
  bearer,
  echoHandler,
  get,
  type Harness,
  makeReady,
  startHarness,
  startUpstream,
  type Upstream,
  waitForRoute,
} from './support.ts';

let h: Harness;
let echo: Upstream;

before(async () => {
  h = await startHarness();
  echo = await startUpstream(echoHandler);
  await addDefinition(h, 'demo');
  await addDefinition(h, 'board', {
    sharing: 'shared',
    access: { users: [], groups: ['analysts'] },
  });
  await makeReady(h.store, 'alice', 'demo', echo.url);
  await makeReady(h.store, 'bob', 'demo', echo.url);
  await makeReady(h.store, 'shared', 'board', echo.url);
  await waitForRoute(h.proxy, 'demo--alice.localhost');
  await waitForRoute(h.proxy, 'demo--bob.localhost');
  await waitForRoute(h.proxy, 'board.localhost');
});

after(async () => {
  await h.close();
  await echo.close();
});

test("owner only: bob and even an admin are refused on alice's tool host, in every spelling of it", async () => {
  assert.equal(
    (await get(h.proxy, 'demo--alice.localhost', '/', bearer(h.tokens.alice))).status,
    200,
  );
  for (const host of [
    'demo--alice.localhost',
    'DEMO--ALICE.LOCALHOST',
    'demo--alice.localhost.',
    'Demo--Alice.Localhost.',
  ]) {
    const r = await get(h.proxy, host, '/', bearer(h.tokens.bob));
    assert.equal(r.status, 403, host);
    assert.doesNotMatch(r.text, /"headers"/, 'nothing of the tool leaks');
    assert.equal(
      (await get(h.proxy, host, '/', bearer(h.tokens.root))).status,
      403,
      `admin on ${host}`,
    );
  }
});

test('a forged X-Forwarded-Host does not change routing', async () => {
  const r = await get(h.proxy, 'demo--bob.localhost', '/', {
    ...bearer(h.tokens.bob),
    'x-forwarded-host': 'demo--alice.localhost',
  });
  assert.equal(r.status, 200);
  const seen = JSON.parse(r.text) as { headers: Record<string, string> };
  assert.match(seen.headers.host!, /^demo--bob\.localhost/);
  const s = await get(h.proxy, 'demo--alice.localhost', '/', {
    ...bearer(h.tokens.bob),
    'x-forwarded-host': 'demo--bob.localhost',
  });
  assert.equal(s.status, 403);
});

test('no credentials: browsers go to the handoff, other clients get 401; bad tokens are 401', async () => {
  const html = await get(h.proxy, 'demo--alice.localhost', '/lab?x=1', { accept: 'text/html' });
  assert.equal(html.status, 302);
  const loc = new URL(String(html.headers.location));
  assert.equal(loc.host, `localhost:${h.proxy.port}`);
  assert.equal(loc.pathname, '/_berth/handoff');
  assert.equal(loc.searchParams.get('to'), 'demo--alice.localhost');
  assert.equal(loc.searchParams.get('path'), '/lab?x=1');
  assert.match(loc.searchParams.get('state') ?? '', /^[0-9a-f]{64}$/, 'the hash of the state');
  assert.equal((await get(h.proxy, 'demo--alice.localhost', '/api')).status, 401);
  assert.equal(
    (await get(h.proxy, 'demo--alice.localhost', '/', bearer(`${h.tokens.alice}x`))).status,
    401,
  );
  assert.equal(
    (
      await get(
        h.proxy,
        'demo--alice.localhost',
        '/',
        bearer('berth_0000000000000000_' + 'a'.repeat(43)),
      )
    ).status,
    401,
  );
});

test('shared app: users in an allowed group get in; others are refused', async () => {
  assert.equal((await get(h.proxy, 'board.localhost', '/', bearer(h.tokens.carol))).status, 200);
  assert.equal((await get(h.proxy, 'board.localhost', '/', bearer(h.tokens.alice))).status, 403);
  // The shared namespace has one spelling only.
  assert.equal(
    (await get(h.proxy, 'board--shared.localhost', '/', bearer(h.tokens.carol))).status,
    404,
  );
});

/** Signs in on berth's host with a token, returns the berth-host cookie. */
async function signIn(token: string): Promise<string> {
  const origin = `http://localhost:${h.proxy.port}`;
  const r = await request(`${h.proxy.url}/_berth/sign-in`, {
    method: 'POST',
    headers: {
      host: `localhost:${h.proxy.port}`,
      origin,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ token, next: '/' }).toString(),
  });
  await r.body.dump();
  assert.equal(r.statusCode, 303);
  const setCookie = String(r.headers['set-cookie']);
  assert.match(setCookie, /HttpOnly/);
  assert.match(setCookie, /SameSite=Lax/);
  assert.doesNotMatch(setCookie, /Domain=/i);
  return setCookie.split(';')[0]!;
}

/**
 * A browser's handoff to tool host `to`, as far as the callback: the tool host's
 * redirect (which sets this browser's state cookie), then berth's host with the
 * berth cookie. Returns the callback URL and the state cookie to send with it.
 */
async function handoff(
  cookie: string,
  to: string,
  path = '/',
): Promise<URL & { stateCookie: string }> {
  const start = await get(h.proxy, to, path, { accept: 'text/html' });
  assert.equal(start.status, 302);
  const stateCookie = String(start.headers['set-cookie']).split(';')[0]!;
  assert.match(stateCookie, /^berth_handoff_[0-9a-f]{16}=/);
  const at = new URL(String(start.headers.location));
  const r = await get(h.proxy, 'localhost', at.pathname + at.search, { cookie });
  assert.equal(r.status, 302);
  return Object.assign(new URL(String(r.headers.location)), { stateCookie });
}

test('sign-in needs the same origin, and a valid token', async () => {
  const cross = await request(`${h.proxy.url}/_berth/sign-in`, {
    method: 'POST',
    headers: {
      host: `localhost:${h.proxy.port}`,
      origin: 'http://evil.example',
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ token: h.tokens.alice!, next: '/' }).toString(),
  });
  await cross.body.dump();
  assert.equal(cross.statusCode, 403);
  const bad = await request(`${h.proxy.url}/_berth/sign-in`, {
    method: 'POST',
    headers: {
      host: `localhost:${h.proxy.port}`,
      origin: `http://localhost:${h.proxy.port}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'token=nope&next=/',
  });
  await bad.body.dump();
  assert.equal(bad.statusCode, 401);
});

test('handoff end to end: code -> host-only cookie -> tool; the cookie never reaches the tool', async () => {
  const berthCookie = await signIn(h.tokens.alice!);
  // Not signed in on berth's host: the handoff sends the browser to sign in.
  const anon = await get(
    h.proxy,
    'localhost',
    `/_berth/handoff?to=demo--alice.localhost&path=/&state=${'a'.repeat(64)}`,
  );
  assert.equal(anon.status, 302);
  assert.match(String(anon.headers.location), /^\/auth\/sign-in\?next=/);

  const cb = await handoff(berthCookie, 'demo--alice.localhost', '/tree?a=b');
  assert.equal(cb.host, `demo--alice.localhost:${h.proxy.port}`);
  assert.equal(cb.pathname, '/_berth/callback');
  const r = await get(h.proxy, 'demo--alice.localhost', `${cb.pathname}${cb.search}`, {
    cookie: cb.stateCookie,
  });
  assert.equal(r.status, 302);
  assert.equal(r.headers.location, '/tree?a=b');
  const setCookies = r.headers['set-cookie'] as string[];
  const toolCookie = setCookies.find((c) => c.startsWith('berth_session='))!.split(';')[0]!;
  assert.doesNotMatch(String(setCookies), /Domain=/i);
  assert.ok(
    setCookies.some(
      (c) => c.startsWith(`${cb.stateCookie.split('=')[0]}=;`) && /Max-Age=0/.test(c),
    ),
    'the state cookie is cleared',
  );
  const ok = await get(h.proxy, 'demo--alice.localhost', '/tree', {
    cookie: `${toolCookie}; theirs=1; berth_handoff_0123456789abcdef=left-over`,
  });
  assert.equal(ok.status, 200);
  assert.equal(
    (JSON.parse(ok.text) as { headers: Record<string, string> }).headers.cookie,
    'theirs=1',
  );

  // The same code again: refused with a page, not a redirect (no loop).
  const replay = await get(h.proxy, 'demo--alice.localhost', `${cb.pathname}${cb.search}`, {
    cookie: cb.stateCookie,
  });
  assert.equal(replay.status, 403);
  // The tool-host cookie is bound to its host: not valid on bob's host or on berth's.
  assert.equal(
    (await get(h.proxy, 'demo--bob.localhost', '/', { cookie: toolCookie })).status,
    401,
  );
  // A tampered cookie is nobody.
  const tampered = toolCookie.slice(0, -1) + (toolCookie.endsWith('A') ? 'B' : 'A');
  assert.equal(
    (await get(h.proxy, 'demo--alice.localhost', '/', { cookie: tampered })).status,
    401,
  );

  // Sign-out revokes the berth session and, by cascade, the tool-host session.
  const out = await request(`${h.proxy.url}/_berth/sign-out`, {
    method: 'POST',
    headers: {
      host: `localhost:${h.proxy.port}`,
      origin: `http://localhost:${h.proxy.port}`,
      cookie: berthCookie,
    },
  });
  await out.body.dump();
  assert.equal(out.statusCode, 303);
  assert.equal(
    (await get(h.proxy, 'demo--alice.localhost', '/', { cookie: toolCookie })).status,
    401,
  );
});

test('a stolen handoff code does not work on another host, and is burnt by trying', async () => {
  const aliceCookie = await signIn(h.tokens.alice!);
  const cb = await handoff(aliceCookie, 'demo--alice.localhost');
  // Bob replays alice's code on his own host: refused (bound to alice's host).
  const wrong = await get(h.proxy, 'demo--bob.localhost', `${cb.pathname}${cb.search}`, {
    cookie: cb.stateCookie,
  });
  assert.equal(wrong.status, 403);
  // ...and the attempt used it up.
  assert.equal(
    (
      await get(h.proxy, 'demo--alice.localhost', `${cb.pathname}${cb.search}`, {
        cookie: cb.stateCookie,
      })
    ).status,
    403,
  );
  // A code for alice's host gives a session as alice, which still cannot open bob's tool.
  const cb2 = await handoff(aliceCookie, 'demo--bob.localhost');
  const r = await get(h.proxy, 'demo--bob.localhost', `${cb2.pathname}${cb2.search}`, {
    cookie: cb2.stateCookie,
  });
  const c = String(r.headers['set-cookie']).split(';')[0]!;
  assert.equal((await get(h.proxy, 'demo--bob.localhost', '/', { cookie: c })).status, 403);
  // Made-up codes and open redirects.
  assert.equal(
    (await get(h.proxy, 'demo--alice.localhost', '/_berth/callback?code=abc&path=/')).status,
    403,
  );
  const cb3 = await handoff(aliceCookie, 'demo--alice.localhost', '//evil.example/x');
  const r3 = await get(h.proxy, 'demo--alice.localhost', `${cb3.pathname}${cb3.search}`, {
    cookie: cb3.stateCookie,
  });
  assert.equal(r3.headers.location, '/');
  // Handoff to a host outside berth's domain is refused.
  assert.equal(
    (
      await get(h.proxy, 'localhost', '/_berth/handoff?to=evil.example&path=/', {
        cookie: aliceCookie,
      })
    ).status,
    400,
  );
});
