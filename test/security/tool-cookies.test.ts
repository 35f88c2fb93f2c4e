// Wall: a tool cannot set cookies for other hosts nor cookies named like
// berth's. A tool's Set-Cookie with a Domain attribute (which would reach every
// tool host under the parent domain, and berth's own host when tools share its
// domain) or named like one of berth's cookies (the session, the launch intent,
// any `berth_*`, `__Host-`/`__Secure-` spellings included) is not delivered; the
// tool's other cookies are. Dropped cookies are counted and logged by name only.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { type RunningProxy, startProxy } from '../../proxy/index.ts';
import { type Harness, startHarness, startUpstream, type Upstream } from '../proxy/support.ts';
import { metricValue } from '../support/metrics.ts';
import { routeDemoAndLab, send, sessionCookie } from './support.ts';

const GOOD = ['_xsrf=2|abc; Path=/', 'username-demo=alice; HttpOnly; Path=/; SameSite=Lax'];
const BAD = [
  'wide=1; Domain=localhost; Path=/',
  'wider=1; Path=/; domain=.localhost',
  'empty=1; Domain=; Path=/',
  'berth_session=attackers-session; Path=/; HttpOnly',
  '__Host-berth_session=attackers-session; Path=/; Secure',
  '__Secure-berth_session=x; Path=/; Secure',
  'BERTH_launch=1; Path=/',
  'berth_handoff=fixed; Path=/',
];
const SECRET_VALUE = 'attackers-session';

let h: Harness;
let proxy: RunningProxy;
let tool: Upstream;
const wsTool = createServer();
let wss: WebSocketServer;
const logs: Array<{ obj: object; msg?: string }> = [];

before(async () => {
  h = await startHarness();
  tool = await startUpstream((req, res) => {
    req.resume();
    res.writeHead(200, { 'set-cookie': [...BAD.slice(0, 4), ...GOOD, ...BAD.slice(4)] }).end('ok');
  });
  wss = new WebSocketServer({ server: wsTool });
  wss.on('headers', (headers) => {
    headers.push('Set-Cookie: ws-wide=1; Domain=localhost', 'Set-Cookie: ws-ok=1; Path=/');
  });
  await new Promise<void>((r) => wsTool.listen(0, '127.0.0.1', r));
  const log = (obj: object, msg?: string) => logs.push({ obj, ...(msg ? { msg } : {}) });
  proxy = await startProxy({
    pool: h.db.pool,
    store: h.store,
    port: 0,
    config: { baseDomain: 'localhost' },
    log: { info: () => {}, warn: log, error: log },
  });
  await routeDemoAndLab(
    h,
    proxy,
    tool.url,
    `http://127.0.0.1:${(wsTool.address() as AddressInfo).port}`,
  );
});

after(async () => {
  for (const c of wss.clients) c.terminate();
  wss.close();
  wsTool.close();
  await proxy.close();
  await tool.close();
  await h.close();
});

test("a tool's Domain= cookie and a cookie named like berth's session are not delivered; its own are", async () => {
  const cookie = await sessionCookie(h.sessions, 'alice', 'demo--alice.localhost');
  for (const round of ['first', 'fast path']) {
    const r = await send(proxy, 'demo--alice.localhost', '/', { headers: { cookie } });
    assert.equal(r.status, 200, round);
    assert.deepEqual(r.setCookies, GOOD, round);
  }
  const { text } = await send(proxy, 'localhost', '/metrics');
  assert.equal(await metricValue(text, 'berth_proxy_tool_cookies_dropped_total'), BAD.length * 2);
  assert.equal(
    await metricValue(text, 'berth_proxy_tool_cookies_dropped_total', { reason: 'domain' }),
    6,
  );
  const dropped = logs.filter((l) => /Set-Cookie was not delivered/.test(l.msg ?? ''));
  assert.equal(dropped.length, BAD.length * 2);
  assert.deepEqual(
    new Set(dropped.map((l) => (l.obj as { cookie: string }).cookie)),
    new Set([
      'wide',
      'wider',
      'empty',
      'berth_session',
      '__Host-berth_session',
      '__Secure-berth_session',
      'BERTH_launch',
      'berth_handoff',
    ]),
  );
  assert.doesNotMatch(JSON.stringify(logs), new RegExp(SECRET_VALUE), 'names only, never values');
});

test('the same holds for the Set-Cookie of a WebSocket handshake', async () => {
  const cookie = await sessionCookie(h.sessions, 'alice', 'lab--alice.localhost');
  const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/`, {
    headers: { host: `lab--alice.localhost:${proxy.port}`, cookie },
    origin: `http://lab--alice.localhost:${proxy.port}`,
  });
  const setCookie = await new Promise<string[] | undefined>((resolve, reject) => {
    ws.on('upgrade', (res) => resolve(res.headers['set-cookie']));
    ws.on('error', reject);
  });
  ws.terminate();
  assert.deepEqual(setCookie, ['ws-ok=1; Path=/']);
});
