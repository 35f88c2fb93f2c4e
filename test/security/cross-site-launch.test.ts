// Wall: a link on another site cannot start someone's tool. A visit launches
// only when the browser says it is a same-site top-level navigation (fetch
// metadata), or when it ends a sign-in such a navigation began; anything else
// (cross-site, or a client that sends no fetch metadata) gets a Launch button: a
// POST form with a token bound to the tool-host session, Origin checked.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ToolInstance } from '../../crds/index.ts';
import {
  addDefinition,
  echoHandler,
  type Harness,
  makeReady,
  startHarness,
  startUpstream,
  type Upstream,
  waitForRoute,
} from '../proxy/support.ts';
import { waitFor } from '../support/wait.ts';
import { navigation, send, sessionCookie } from './support.ts';

let h: Harness;
let echo: Upstream;
const HOST = 'demo--alice.localhost';
let cookie: string;
let origin: string;

async function instance(ns: string, name: string): Promise<ToolInstance | undefined> {
  try {
    return (await h.store.get('ToolInstance', ns, name)) as unknown as ToolInstance;
  } catch {
    return undefined;
  }
}

/** alice's demo, stopped as the controller leaves it, and the proxy's table knowing so. */
async function stopDemo(): Promise<string> {
  await makeReady(h.store, 'alice', 'demo', echo.url);
  await h.store.patch('ToolInstance', 'alice', 'demo', { spec: { state: 'Stopped' } });
  const ti = await instance('alice', 'demo');
  await h.store.patchStatus('ToolInstance', 'alice', 'demo', {
    status: {
      phase: 'Stopped',
      observedGeneration: ti?.metadata.generation,
      conditions: [{ type: 'Ready', status: 'False', reason: 'Stopped' }],
    },
  });
  await waitFor(
    () => {
      const r = h.proxy.routes.get(HOST);
      return !r?.upstream && r?.instance.status?.phase === 'Stopped' ? true : undefined;
    },
    10_000,
    'stopped in the route table',
  );
  const after = await instance('alice', 'demo');
  return after!.metadata.resourceVersion!;
}

async function assertNotLaunched(resourceVersion: string, why: string): Promise<void> {
  const ti = await instance('alice', 'demo');
  assert.equal(ti?.spec.state, 'Stopped', why);
  assert.equal(ti?.metadata.resourceVersion, resourceVersion, `${why}: no write at all`);
}

function csrfOf(page: string): string {
  const m = /name="csrf" value="([^"]+)"/.exec(page);
  assert.ok(m, 'the page carries the launch token');
  return m[1]!;
}

before(async () => {
  h = await startHarness();
  echo = await startUpstream(echoHandler);
  await addDefinition(h, 'demo');
  cookie = await sessionCookie(h.sessions, 'alice', HOST);
  origin = `http://${HOST}:${h.proxy.port}`;
});

after(async () => {
  await h.close();
  await echo.close();
});

test("a cross-site GET to a stopped tool's host launches nothing and shows the Launch button", async () => {
  const rv = await stopDemo();
  for (const [why, headers] of [
    ['cross-site link', navigation('cross-site')],
    ['cross-site iframe', { ...navigation('cross-site'), 'sec-fetch-dest': 'iframe' }],
    [
      'same-site but a subresource',
      { ...navigation('same-site'), 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' },
    ],
    ['no fetch metadata (an old client)', { accept: 'text/html' }],
  ] as const) {
    const r = await send(h.proxy, HOST, '/lab', { headers: { ...headers, cookie } });
    assert.equal(r.status, 200, why);
    assert.match(r.text, /demo is not running/, why);
    assert.match(r.text, /<form method="post" action="\/_berth\/launch">/, why);
    csrfOf(r.text);
    await assertNotLaunched(rv, why);
  }
  const ti = await instance('alice', 'demo');
  assert.equal(ti?.spec.launchRequestedAt, undefined, 'no launchRequestedAt written');
  // A missing instance is not created by a cross-site visit either.
  const bobCookie = await sessionCookie(h.sessions, 'bob', 'demo--bob.localhost');
  const r = await send(h.proxy, 'demo--bob.localhost', '/', {
    headers: { ...navigation('cross-site'), cookie: bobCookie },
  });
  assert.equal(r.status, 200);
  assert.equal(await instance('bob', 'demo'), undefined);
});

test('the button POST without the token, or from another origin, is refused; with both it launches', async () => {
  const rv = await stopDemo();
  const page = await send(h.proxy, HOST, '/', { headers: { ...navigation('cross-site'), cookie } });
  const csrf = csrfOf(page.text);
  const form = (body: Record<string, string>, o: string | undefined) =>
    send(h.proxy, HOST, '/_berth/launch', {
      method: 'POST',
      headers: {
        cookie,
        'content-type': 'application/x-www-form-urlencoded',
        ...(o ? { origin: o } : {}),
      },
      body: new URLSearchParams(body).toString(),
    });
  assert.equal((await form({}, origin)).status, 403, 'no token');
  assert.equal((await form({ csrf: `${csrf}x` }, origin)).status, 403, 'a wrong token');
  const otherSession = await sessionCookie(h.sessions, 'alice', HOST);
  const other = await send(h.proxy, HOST, '/', {
    headers: { ...navigation('cross-site'), cookie: otherSession },
  });
  assert.notEqual(csrfOf(other.text), csrf, 'the token differs per session');
  assert.equal((await form({ csrf }, 'https://evil.example')).status, 403, 'another site');
  assert.equal(
    (await form({ csrf }, `http://other--alice.localhost:${h.proxy.port}`)).status,
    403,
    'a sibling tool host',
  );
  assert.equal((await form({ csrf }, undefined)).status, 403, 'no Origin');
  await assertNotLaunched(rv, 'refused posts');

  const ok = await form({ csrf }, origin);
  assert.equal(ok.status, 303);
  assert.equal(ok.headers.location, '/');
  const ti = await instance('alice', 'demo');
  assert.equal(ti?.spec.state, 'Running');
  assert.ok(ti?.spec.launchRequestedAt, 'a launch request');
});

test('a same-site navigation (typed, bookmarked, from a page of this site) launches on visit', async () => {
  for (const site of ['none', 'same-origin', 'same-site'] as const) {
    await stopDemo();
    const r = await send(h.proxy, HOST, '/', { headers: { ...navigation(site), cookie } });
    assert.equal(r.status, 202, site);
    assert.match(r.text, /Starting demo/);
    assert.equal((await instance('alice', 'demo'))?.spec.state, 'Running', site);
  }
});

test('a same-site visit that has to sign in first still launches when the sign-in brings it back', async () => {
  const rv = await stopDemo();
  // Without a session: the tool host hands off to berth's host and notes the intent.
  const first = await send(h.proxy, HOST, '/lab', { headers: navigation('none') });
  assert.equal(first.status, 302);
  const intent = first.setCookies.find((c) => c.startsWith('berth_launch='));
  assert.ok(intent, 'an intent cookie');
  assert.match(intent, /HttpOnly/);
  assert.doesNotMatch(intent, /Domain=/i);
  // A cross-site link that has to sign in notes nothing.
  const cross = await send(h.proxy, HOST, '/lab', { headers: navigation('cross-site') });
  assert.equal(cross.status, 302);
  // (only the handoff's own state cookie is set)
  assert.ok(!cross.setCookies.some((c) => c.startsWith('berth_launch=')), 'no intent noted');
  await assertNotLaunched(rv, 'hand-offs');
  // Back from berth's host (cross-site to the browser, as localhost and x.localhost are).
  const back = await send(h.proxy, HOST, '/lab', {
    headers: { ...navigation('cross-site'), cookie: `${cookie}; berth_launch=1` },
  });
  assert.equal(back.status, 202);
  assert.equal((await instance('alice', 'demo'))?.spec.state, 'Running');
  assert.ok(
    back.setCookies.some((c) => c.startsWith('berth_launch=;') && /Max-Age=0/.test(c)),
    'the intent is used up',
  );
  // A tool already running needs no intent: none is noted.
  await makeReady(h.store, 'alice', 'demo', echo.url);
  await waitForRoute(h.proxy, HOST);
  const running = await send(h.proxy, HOST, '/lab', { headers: navigation('none') });
  assert.equal(running.status, 302);
  assert.ok(!running.setCookies.some((c) => c.startsWith('berth_launch=')), 'no intent noted');
});
