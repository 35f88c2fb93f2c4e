// "Keep it running" on a tool host (POST /_berth/keep-running, the starting
// page's button: Origin and the launch token checked as for Launch), the stop
// warning in /_berth/status, and the Launch page of a tool the culler stopped.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ToolInstance } from '../../crds/index.ts';
import { launchCsrfToken } from '../../proxy/index.ts';
import { navigation, send, sessionCookie } from '../security/support.ts';
import { waitFor } from '../support/wait.ts';
import {
  addDefinition,
  echoHandler,
  type Harness,
  makeReady,
  startHarness,
  startUpstream,
  type Upstream,
  waitForRoute,
} from './support.ts';

const HOST = 'demo--alice.localhost';
let h: Harness;
let echo: Upstream;
let cookie: string;
let csrf: string;
let origin: string;

before(async () => {
  h = await startHarness();
  echo = await startUpstream(echoHandler);
  await addDefinition(h, 'demo', { idle: { idleAfter: '30m' }, maxLifetime: '8h' });
  await makeReady(h.store, 'alice', 'demo', echo.url);
  await waitForRoute(h.proxy, HOST);
  cookie = await sessionCookie(h.sessions, 'alice', HOST);
  csrf = launchCsrfToken(cookie.slice('berth_session='.length));
  origin = `http://${HOST}:${h.proxy.port}`;
});

after(async () => {
  await h.close();
  await echo.close();
});

async function instance(): Promise<ToolInstance> {
  return (await h.store.get('ToolInstance', 'alice', 'demo')) as unknown as ToolInstance;
}

async function warn(reason: 'Idle' | 'MaxLifetime'): Promise<void> {
  await h.store.patchStatus('ToolInstance', 'alice', 'demo', {
    status: {
      lastActivityAt: '2026-01-01T00:00:00Z',
      stopWarning: {
        reason,
        stopAt: new Date(Date.now() + 8 * 60_000).toISOString(),
        warnedAt: new Date().toISOString(),
        message: reason === 'Idle' ? 'idle for 22 min' : 'reaches its 8 h limit',
      },
    },
  });
}

function post(form: Record<string, string>, o: string | undefined, accept = 'text/html') {
  return send(h.proxy, HOST, '/_berth/keep-running', {
    method: 'POST',
    headers: {
      cookie,
      accept,
      'content-type': 'application/x-www-form-urlencoded',
      ...(o ? { origin: o } : {}),
    },
    body: new URLSearchParams(form).toString(),
  });
}

test('/_berth/status shows the stop warning; Keep it running removes it and counts as use', async () => {
  await warn('Idle');
  const s = await send(h.proxy, HOST, '/_berth/status', {
    headers: { cookie, accept: 'application/json' },
  });
  assert.equal(s.status, 200);
  assert.equal(JSON.parse(s.text).stopWarning.reason, 'Idle');
  const before = Date.now() - 1000;
  const r = await post({ csrf }, origin);
  assert.equal(r.status, 303);
  assert.equal(r.headers.location, '/');
  const ti = await instance();
  assert.equal(ti.status?.stopWarning, undefined);
  assert.ok(Date.parse(ti.status!.lastActivityAt!) >= before);
  // The request itself reached no tool: nothing but the status write happened.
  assert.equal(ti.spec.state, 'Running');
});

test('a MaxLifetime warning stays, and the answer says so', async () => {
  await warn('MaxLifetime');
  const r = await post({ csrf }, origin, 'application/json');
  assert.equal(r.status, 200);
  const body = JSON.parse(r.text);
  assert.equal(body.stopWarning.reason, 'MaxLifetime');
  assert.match(body.message, /cannot be postponed/);
  assert.equal((await instance()).status?.stopWarning?.reason, 'MaxLifetime');
});

test('refused without the token, from another site or a sibling tool host, or by GET', async () => {
  await warn('Idle');
  const rv = (await instance()).metadata.resourceVersion;
  assert.equal((await post({}, origin)).status, 403, 'no token');
  assert.equal((await post({ csrf: `${csrf}x` }, origin)).status, 403, 'a wrong token');
  assert.equal((await post({ csrf }, 'https://evil.example')).status, 403, 'another site');
  assert.equal(
    (await post({ csrf }, `http://lab--alice.localhost:${h.proxy.port}`)).status,
    403,
    'a sibling tool host',
  );
  assert.equal((await post({ csrf }, undefined)).status, 403, 'no Origin');
  const get = await send(h.proxy, HOST, '/_berth/keep-running', { headers: { cookie } });
  assert.equal(get.status, 405);
  assert.equal((await instance()).metadata.resourceVersion, rv, 'nothing written');
});

test('a tool the culler stopped: the Launch page says why, and a visit does not relaunch it', async () => {
  await h.store.patch('ToolInstance', 'alice', 'demo', { spec: { state: 'Stopped' } });
  const ti = await instance();
  await h.store.patchStatus('ToolInstance', 'alice', 'demo', {
    status: {
      phase: 'Stopped',
      stopReason: 'Idle',
      stopWarning: null,
      observedGeneration: ti.metadata.generation,
      conditions: [{ type: 'Ready', status: 'False', reason: 'Stopped' }],
    },
  });
  await waitFor(
    () => (h.proxy.routes.get(HOST)?.instance.status?.stopReason === 'Idle' ? true : undefined),
    10_000,
    'stopped in the route table',
  );
  const rv = (await instance()).metadata.resourceVersion;
  // A same-site navigation (a tab reloaded) would launch any other stopped tool.
  const page = await send(h.proxy, HOST, '/', { headers: { ...navigation('none'), cookie } });
  assert.equal(page.status, 200);
  assert.match(page.text, /demo was stopped because it was idle for 30 min\./);
  assert.match(page.text, /action="\/_berth\/launch"/);
  assert.equal((await instance()).metadata.resourceVersion, rv, 'not relaunched');
  const s = JSON.parse(
    (
      await send(h.proxy, HOST, '/_berth/status', {
        headers: { cookie, accept: 'application/json' },
      })
    ).text,
  );
  assert.equal(s.stoppedBecause, 'stopped because it was idle for 30 min');

  await h.store.patchStatus('ToolInstance', 'alice', 'demo', {
    status: { stopReason: 'MaxLifetime' },
  });
  await waitFor(
    () =>
      h.proxy.routes.get(HOST)?.instance.status?.stopReason === 'MaxLifetime' ? true : undefined,
    10_000,
    'MaxLifetime in the route table',
  );
  const limit = await send(h.proxy, HOST, '/', { headers: { ...navigation('none'), cookie } });
  assert.match(limit.text, /demo was stopped because it reached its 8 h limit\./);
  // The Launch button starts it again.
  const launched = await send(h.proxy, HOST, '/_berth/launch', {
    method: 'POST',
    headers: { cookie, origin, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf }).toString(),
  });
  assert.equal(launched.status, 303);
  assert.equal((await instance()).spec.state, 'Running');
});
