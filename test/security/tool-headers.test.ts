// Wall: a tool never receives berth's credentials or a client's forgery of what
// only berth or the load balancer may say. Before a request reaches a tool the
// proxy removes every cookie of berth's (`berth_*`, `__Host-berth_*`,
// `__Secure-berth_*`), Authorization, any `x-berth-*` header the client sent and
// the load balancer's `x-amzn-oidc-*` identity headers; on WebSockets too. berth's
// own API still gets its headers (it checks them itself).
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { type RunningProxy, startProxy } from '../../proxy/index.ts';
import {
  echoHandler,
  type Harness,
  startHarness,
  startUpstream,
  type Upstream,
} from '../proxy/support.ts';
import { routeDemoAndLab, send, sessionCookie } from './support.ts';

let h: Harness;
let proxy: RunningProxy;
let echo: Upstream;
let api: Upstream;
const wsTool = createServer();
let wss: WebSocketServer;
let wsHeaders: Record<string, string | string[] | undefined> = {};
let aliceCookie: string;

const FORGED = {
  'x-berth-user': 'root',
  'X-Berth-Tool-Secret': 'guess',
  'x-berth-admin': 'true',
  'x-amzn-oidc-data': 'eyJhbGciOiJFUzI1NiJ9.forged.sig',
  'x-amzn-oidc-identity': 'root',
  'X-Amzn-Oidc-Accesstoken': 'forged',
};

before(async () => {
  h = await startHarness();
  echo = await startUpstream(echoHandler);
  api = await startUpstream(echoHandler);
  wss = new WebSocketServer({ server: wsTool });
  wss.on('connection', (ws, req) => {
    wsHeaders = req.headers;
    ws.send('hi');
  });
  await new Promise<void>((r) => wsTool.listen(0, '127.0.0.1', r));
  proxy = await startProxy({
    pool: h.db.pool,
    store: h.store,
    port: 0,
    config: { baseDomain: 'localhost', apiUpstream: api.url },
  });
  await routeDemoAndLab(
    h,
    proxy,
    echo.url,
    `http://127.0.0.1:${(wsTool.address() as AddressInfo).port}`,
  );
  aliceCookie = await sessionCookie(h.sessions, 'alice', 'demo--alice.localhost');
});

after(async () => {
  for (const c of wss.clients) c.terminate();
  wss.close();
  wsTool.close();
  await proxy.close();
  await echo.close();
  await api.close();
  await h.close();
});

function berthCookies(session: string): string {
  return [
    session,
    'theirs=1',
    '__Host-berth_session=abc',
    '__Secure-berth_session=abc',
    'berth_launch=1',
    'berth_handoff_state=xyz',
    '__host-BERTH_oidc=q',
    'jupyter-session=2',
  ].join('; ');
}

function assertClean(headers: Record<string, unknown>, where: string): void {
  for (const name of Object.keys(headers)) {
    // The proxy's own tool secret (the launch's, for the gate) is the one x-berth-* header
    // a tool's side sees; the client's forged copy never is.
    if (name === 'x-berth-tool-secret') {
      assert.notEqual(headers[name], FORGED['X-Berth-Tool-Secret'], `${where}: the forged secret`);
      continue;
    }
    assert.doesNotMatch(name, /^x-berth-|^x-amzn-oidc-/i, `${where}: ${name} reached the tool`);
  }
  assert.equal(headers.authorization, undefined, where);
  assert.equal(headers.cookie, 'theirs=1; jupyter-session=2', `${where}: only the tool's cookies`);
}

test('a client-sent x-berth-* or x-amzn-oidc-* header and berth cookies never reach the tool', async () => {
  // Twice: the first request is authenticated, the second takes the fast path.
  for (const round of ['first', 'fast path']) {
    const r = await send(proxy, 'demo--alice.localhost', '/api', {
      headers: { ...FORGED, cookie: berthCookies(aliceCookie) },
    });
    assert.equal(r.status, 200, round);
    const seen = JSON.parse(r.text) as { headers: Record<string, unknown> };
    assertClean(seen.headers, round);
  }
});

test('nor on a WebSocket handshake', async () => {
  const cookie = await sessionCookie(h.sessions, 'alice', 'lab--alice.localhost');
  const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/ws`, {
    headers: {
      host: `lab--alice.localhost:${proxy.port}`,
      ...FORGED,
      cookie: berthCookies(cookie),
    },
    origin: `http://lab--alice.localhost:${proxy.port}`,
  });
  const first = await new Promise<string>((resolve, reject) => {
    ws.on('message', (d) => resolve(d.toString()));
    ws.on('error', reject);
  });
  ws.close();
  assert.equal(first, 'hi');
  assertClean(wsHeaders, 'websocket');
});

test("berth's own API still gets the headers it checks itself", async () => {
  const r = await send(proxy, 'localhost', '/apis', {
    headers: { 'x-berth-csrf': 't', 'x-amzn-oidc-data': 'from-the-alb', cookie: 'berth_session=s' },
  });
  const seen = JSON.parse(r.text) as { headers: Record<string, string> };
  assert.equal(seen.headers['x-berth-csrf'], 't');
  assert.equal(seen.headers['x-amzn-oidc-data'], 'from-the-alb');
  assert.equal(seen.headers.cookie, 'berth_session=s');
});
