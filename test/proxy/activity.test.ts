// What counts as a person's use of a tool (status.lastActivityAt), through a real
// proxy to a real tool: WebSocket data frames from the browser count (fragments
// too); pings and pongs (the proxy's pings and the browser's answers, the
// browser's own pings) and the tool's own frames do not; HTTP requests count
// except under the tool's spec.idle.ignoredPaths and berth's /_berth/ pages.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, test } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { waitFor } from '../support/wait.ts';
import {
  addDefinition,
  bearer,
  get,
  type Harness,
  makeReady,
  startHarness,
  waitForRoute,
} from './support.ts';

const HOST = 'demo--alice.localhost';
let h: Harness;
let wss: WebSocketServer;
const server = createServer((req, res) => res.end(`tool saw ${req.url}`));

before(async () => {
  // Pings after 200 ms of quiet; the sweep that records frames runs every 100 ms.
  h = await startHarness({ wsPingMs: 200 });
  wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => {
      if (data.toString() === 'chatter') {
        for (let i = 0; i < 5; i++) ws.send(`tool says ${i}`);
      } else ws.send(data, { binary: isBinary });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  await addDefinition(h, 'demo', { idle: { ignoredPaths: ['/api/kernels', '/poll'] } });
  await makeReady(
    h.store,
    'alice',
    'demo',
    `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
  );
  await waitForRoute(h.proxy, HOST);
});

after(async () => {
  for (const c of wss.clients) c.terminate();
  wss.close();
  server.close();
  await h.close();
});

async function lastActivity(): Promise<string | undefined> {
  await h.proxy.flushActivity();
  const ti = await h.store.get('ToolInstance', 'alice', 'demo');
  return (ti.status as { lastActivityAt?: string }).lastActivityAt;
}

beforeEach(async () => {
  await h.proxy.flushActivity();
  await h.store.patchStatus('ToolInstance', 'alice', 'demo', { status: { lastActivityAt: null } });
});

function open(): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${h.proxy.port}/ws`, {
    headers: { host: `${HOST}:${h.proxy.port}`, ...bearer(h.tokens.alice) },
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function once<T extends unknown[]>(ws: WebSocket, event: string): Promise<T> {
  return new Promise((resolve) => ws.once(event, (...args: unknown[]) => resolve(args as T)));
}

/** Waits for `n` messages (several may come in one chunk, so one listener counts them). */
function messages(ws: WebSocket, n: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const on = () => {
      if (++seen < n) return;
      ws.off('message', on);
      resolve();
    };
    ws.on('message', on);
  });
}

/** Waits for `n` pings from the proxy: each comes from a sweep that saw what went before it. */
async function proxyPings(ws: WebSocket, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await once(ws, 'ping');
}

test('a data frame from the browser is activity', async () => {
  const ws = await open();
  try {
    await proxyPings(ws, 1);
    assert.equal(await lastActivity(), undefined, 'opening it and the ping are not use');
    const since = Date.now() - 1000;
    ws.send('hello');
    await once(ws, 'message');
    const at = await waitFor(lastActivity, 10_000, 'lastActivityAt after a message');
    assert.ok(Date.parse(at) >= since);
  } finally {
    ws.close();
  }
});

test("pongs to the proxy's pings and the browser's own pings are not activity", async () => {
  const ws = await open();
  try {
    // ws answers every ping with a pong by itself.
    await proxyPings(ws, 2);
    for (let i = 0; i < 3; i++) {
      ws.ping();
      await once(ws, 'pong'); // the tool's answer, relayed back
    }
    await proxyPings(ws, 2);
    assert.equal(await lastActivity(), undefined);
  } finally {
    ws.terminate();
  }
});

test("the tool's own frames are not activity", async () => {
  const ws = await open();
  try {
    const chatter = messages(ws, 5);
    ws.send('chatter');
    await chatter;
    await waitFor(lastActivity, 10_000, 'the one message sent');
    await h.store.patchStatus('ToolInstance', 'alice', 'demo', {
      status: { lastActivityAt: null },
    });
    // The tool talks on its own (ws server pushes) while the browser says nothing.
    const pushed = messages(ws, 5);
    for (const c of wss.clients) for (let i = 0; i < 5; i++) c.send('push');
    await pushed;
    await proxyPings(ws, 2);
    assert.equal(await lastActivity(), undefined);
  } finally {
    ws.terminate();
  }
});

test('a fragmented message: its continuation frame counts by itself', async () => {
  const ws = await open();
  try {
    ws.send('frag', { fin: false });
    await waitFor(lastActivity, 10_000, 'the first fragment');
    await proxyPings(ws, 1);
    await h.store.patchStatus('ToolInstance', 'alice', 'demo', {
      status: { lastActivityAt: null },
    });
    ws.send('ment', { fin: true });
    const [echo] = await once<[Buffer]>(ws, 'message');
    assert.equal(echo.toString(), 'fragment');
    await waitFor(lastActivity, 10_000, 'the continuation');
  } finally {
    ws.close();
  }
});

test('HTTP requests are activity, except under ignoredPaths and /_berth/', async () => {
  for (const path of ['/api/kernels', '/api/kernels/abc?x=1', '/poll/status']) {
    const r = await get(h.proxy, HOST, path, bearer(h.tokens.alice));
    assert.equal(r.status, 200, path);
    assert.equal(r.text, `tool saw ${path}`);
  }
  // Twice: the second goes the fast path (a remembered decision).
  await get(h.proxy, HOST, '/api/kernels', bearer(h.tokens.alice));
  const status = await get(h.proxy, HOST, '/_berth/status', bearer(h.tokens.alice));
  assert.equal(status.status, 200);
  assert.equal(await lastActivity(), undefined);
  for (let i = 0; i < 2; i++) await get(h.proxy, HOST, '/lab/tree', bearer(h.tokens.alice));
  assert.ok(await lastActivity(), 'a request outside them');
});

test('an ignoredPaths change applies at once (the fast path too)', async () => {
  await get(h.proxy, HOST, '/lab', bearer(h.tokens.alice));
  await get(h.proxy, HOST, '/lab', bearer(h.tokens.alice));
  assert.ok(await lastActivity());
  await h.store.patch('ToolDefinition', undefined, 'demo', {
    spec: { idle: { ignoredPaths: ['/lab'] } },
  });
  await waitFor(
    () => (h.proxy.routes.ignoredPaths('demo').includes('/lab') ? true : undefined),
    10_000,
    'the new ignoredPaths',
  );
  await h.store.patchStatus('ToolInstance', 'alice', 'demo', { status: { lastActivityAt: null } });
  await get(h.proxy, HOST, '/lab', bearer(h.tokens.alice));
  await get(h.proxy, HOST, '/lab', bearer(h.tokens.alice));
  assert.equal(await lastActivity(), undefined);
  await h.store.patch('ToolDefinition', undefined, 'demo', {
    spec: { idle: { ignoredPaths: ['/api/kernels', '/poll'] } },
  });
});
