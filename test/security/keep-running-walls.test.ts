// Wall: "keep it running" is the owner's. Another user can neither keep
// someone's tool running (postponing its culling, at the owner's cost) nor learn
// through it that the tool exists: the API answers them exactly as for a missing
// instance, and the tool host refuses them before anything is written.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { request } from 'undici';
import { type RunningApi, startApi } from '../../api/index.ts';
import type { ToolInstance } from '../../crds/index.ts';
import { launchCsrfToken } from '../../proxy/index.ts';
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
import { send, sessionCookie } from './support.ts';

const HOST = 'demo--alice.localhost';
const BASE = '/apis/berth/v1alpha1';
let h: Harness;
let api: RunningApi;
let echo: Upstream;

before(async () => {
  h = await startHarness();
  api = await startApi({
    pool: h.db.pool,
    store: h.store,
    port: 0,
    config: { logLevel: 'silent', maintenanceIntervalMs: 0 },
  });
  echo = await startUpstream(echoHandler);
  await addDefinition(h, 'demo');
  await makeReady(h.store, 'alice', 'demo', echo.url);
  await makeReady(h.store, 'bob', 'demo', echo.url);
  await waitForRoute(h.proxy, HOST);
});

after(async () => {
  await api.close();
  await h.close();
  await echo.close();
});

beforeEach(async () => {
  await h.store.patchStatus('ToolInstance', 'alice', 'demo', {
    status: {
      lastActivityAt: '2026-01-01T00:00:00Z',
      stopWarning: {
        reason: 'Idle',
        stopAt: new Date(Date.now() + 60_000).toISOString(),
        warnedAt: new Date().toISOString(),
        message: 'idle for 1 h',
      },
    },
  });
});

async function alicesDemo(): Promise<ToolInstance> {
  return (await h.store.get('ToolInstance', 'alice', 'demo')) as unknown as ToolInstance;
}

async function apiPost(token: string | undefined, ns: string, name: string) {
  const r = await request(`${api.url}${BASE}/namespaces/${ns}/toolinstances/${name}/keep-running`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  });
  return {
    status: r.statusCode,
    headers: r.headers,
    body: (await r.body.json()) as never as { message: string },
  };
}

test('API: another user gets the answer a missing instance gets, and nothing is written', async () => {
  const rv = (await alicesDemo()).metadata.resourceVersion;
  const theirs = await apiPost(h.tokens.bob, 'alice', 'demo');
  const missing = await apiPost(h.tokens.bob, 'alice', 'nope');
  const ownMissing = await apiPost(h.tokens.bob, 'bob', 'nope');
  assert.equal(theirs.status, 404);
  assert.equal(missing.status, 404);
  assert.equal(ownMissing.status, 404);
  // The same words as for a name that exists nowhere: existence is not revealed.
  assert.deepEqual(
    { ...theirs.body, message: theirs.body.message.replace('"demo"', '"X"'), details: undefined },
    { ...missing.body, message: missing.body.message.replace('"nope"', '"X"'), details: undefined },
  );
  assert.equal(theirs.headers.warning, undefined);
  assert.equal((await alicesDemo()).metadata.resourceVersion, rv, 'nothing written');
  // The owner, by contrast, is served.
  const own = await apiPost(h.tokens.alice, 'alice', 'demo');
  assert.equal(own.status, 200);
  assert.equal((await alicesDemo()).status?.stopWarning, undefined);
});

test("tool host: another user's token, or their session from their own tool host, keeps nothing running", async () => {
  const rv = (await alicesDemo()).metadata.resourceVersion;
  const origin = `http://${HOST}:${h.proxy.port}`;
  const form = 'application/x-www-form-urlencoded';
  const bobToken = await send(h.proxy, HOST, '/_berth/keep-running', {
    method: 'POST',
    headers: { authorization: `Bearer ${h.tokens.bob}`, origin },
  });
  assert.equal(bobToken.status, 403);
  assert.doesNotMatch(bobToken.text, /idle|stop|lastActivity/i, 'nothing about the instance');
  // bob's session is bound to his own tool host, and so is his launch token.
  const bobCookie = await sessionCookie(h.sessions, 'bob', 'demo--bob.localhost');
  const bobCsrf = launchCsrfToken(bobCookie.slice('berth_session='.length));
  const replayed = await send(h.proxy, HOST, '/_berth/keep-running', {
    method: 'POST',
    headers: { cookie: bobCookie, origin, 'content-type': form, accept: 'application/json' },
    body: new URLSearchParams({ csrf: bobCsrf }).toString(),
  });
  assert.equal(replayed.status, 401);
  // A page on bob's tool host posting to alice's with alice's cookie (a cross-site form).
  const aliceCookie = await sessionCookie(h.sessions, 'alice', HOST);
  const crossSite = await send(h.proxy, HOST, '/_berth/keep-running', {
    method: 'POST',
    headers: {
      cookie: aliceCookie,
      origin: `http://demo--bob.localhost:${h.proxy.port}`,
      'content-type': form,
    },
    body: new URLSearchParams({ csrf: bobCsrf }).toString(),
  });
  assert.equal(crossSite.status, 403);
  assert.equal((await alicesDemo()).metadata.resourceVersion, rv, 'nothing written');
  // alice herself, from her tool host's own page, is served.
  const own = await send(h.proxy, HOST, '/_berth/keep-running', {
    method: 'POST',
    headers: { cookie: aliceCookie, origin, 'content-type': form, accept: 'application/json' },
    body: new URLSearchParams({
      csrf: launchCsrfToken(aliceCookie.slice('berth_session='.length)),
    }).toString(),
  });
  assert.equal(own.status, 200);
  assert.equal((await alicesDemo()).status?.stopWarning, undefined);
});
