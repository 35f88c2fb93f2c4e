// Wall: a page of another site (or of another tool under the same parent
// domain) cannot open a WebSocket to a user's tool with the user's cookie
// (cross-site WebSocket hijacking) nor send it a write (POST and the like).
// Tool hosts accept both only from their own origin; the refusal is a 403 before
// anything reaches the tool.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import {
  addDefinition,
  bearer,
  type Harness,
  makeReady,
  startHarness,
  waitForRoute,
} from '../proxy/support.ts';
import { send, sessionCookie } from './support.ts';

let h: Harness;
const tool = createServer();
let wss: WebSocketServer;
/** Everything that reached the tool: HTTP requests and WebSocket handshakes. */
const reached: string[] = [];
let aliceCookie: string;
let host: string;
let ownOrigin: string;

before(async () => {
  h = await startHarness();
  tool.on('request', (req: IncomingMessage, res) => {
    reached.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end('tool says ok'));
  });
  wss = new WebSocketServer({ server: tool });
  wss.on('connection', (ws, req) => {
    reached.push(`WS ${req.url}`);
    ws.on('message', (d) => ws.send(d));
  });
  await new Promise<void>((r) => tool.listen(0, '127.0.0.1', r));
  await addDefinition(h, 'demo');
  await makeReady(
    h.store,
    'alice',
    'demo',
    `http://127.0.0.1:${(tool.address() as AddressInfo).port}`,
  );
  await waitForRoute(h.proxy, 'demo--alice.localhost');
  host = 'demo--alice.localhost';
  ownOrigin = `http://${host}:${h.proxy.port}`;
  aliceCookie = await sessionCookie(h.sessions, 'alice', host);
});

after(async () => {
  for (const c of wss.clients) c.terminate();
  wss.close();
  tool.close();
  await h.close();
});

/** Opens a WebSocket to alice's tool through the proxy: the status it got, or 101 and an echo. */
function openSocket(headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const { origin, ...rest } = headers;
    const ws = new WebSocket(`ws://127.0.0.1:${h.proxy.port}/api/kernels/k1/channels`, {
      headers: { host: `${host}:${h.proxy.port}`, ...rest },
      ...(origin ? { origin } : {}),
    });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on('open', () => ws.send('ping'));
    ws.on('message', (d) => {
      resolve({ status: 101, body: d.toString() });
      ws.close();
    });
    ws.on('error', (e) => {
      if (!String(e.message).includes('Unexpected server response')) reject(e);
    });
  });
}

test('a cross-origin WebSocket to a tool host gets 403 and never reaches the tool; same-origin works', async () => {
  reached.length = 0;
  for (const origin of [
    `http://other--alice.localhost:${h.proxy.port}`, // a sibling tool host, the same user's
    `http://demo--bob.localhost:${h.proxy.port}`, // another user's tool host
    `http://localhost:${h.proxy.port}`, // berth's own host is another origin too
    'https://evil.example', // an unrelated site
    `https://${host}:${h.proxy.port}`, // the right host under the wrong scheme
    'null', // sandboxed frames and data: URLs
  ]) {
    const r = await openSocket({ cookie: aliceCookie, origin });
    assert.equal(r.status, 403, origin);
    assert.match(r.body, /another site/, origin);
  }
  // A cookie and no Origin is not a browser's WebSocket: refused as well.
  assert.equal((await openSocket({ cookie: aliceCookie })).status, 403);
  assert.deepEqual(reached, [], 'nothing reached the tool');

  const same = await openSocket({ cookie: aliceCookie, origin: ownOrigin });
  assert.deepEqual(same, { status: 101, body: 'ping' });
  // An API token (never sent by a browser page by itself) needs no Origin.
  const token = await openSocket(bearer(h.tokens.alice));
  assert.deepEqual(token, { status: 101, body: 'ping' });
});

test('a cross-origin POST to a tool host gets 403, also once the fast path knows the credential', async () => {
  // A GET first: the proxy then remembers (Host, cookie) and forwards without authenticating.
  const warm = await send(h.proxy, host, '/', { headers: { cookie: aliceCookie } });
  assert.equal(warm.status, 200);
  reached.length = 0;
  for (const origin of [`http://other--alice.localhost:${h.proxy.port}`, 'https://evil.example']) {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const r = await send(h.proxy, host, '/api/contents/x', {
        method,
        headers: { cookie: aliceCookie, origin, 'content-type': 'text/plain' },
        body: 'rm -rf ~',
      });
      assert.equal(r.status, 403, `${method} from ${origin}`);
      assert.match(r.text, /came from another site/);
    }
  }
  // With an API token too: a page of another site must not be the one asking.
  const tokenCross = await send(h.proxy, host, '/api/contents/x', {
    method: 'POST',
    headers: { ...bearer(h.tokens.alice), origin: 'https://evil.example' },
    body: 'x',
  });
  assert.equal(tokenCross.status, 403);
  // A cookie and no Origin: no browser sends a POST so; refused.
  const bare = await send(h.proxy, host, '/api/contents/x', {
    method: 'POST',
    headers: { cookie: aliceCookie },
    body: 'x',
  });
  assert.equal(bare.status, 403);
  assert.deepEqual(reached, [], 'nothing reached the tool');

  const same = await send(h.proxy, host, '/api/contents/x', {
    method: 'POST',
    headers: { cookie: aliceCookie, origin: ownOrigin },
    body: 'x',
  });
  assert.equal(same.status, 200);
  assert.equal(same.text, 'tool says ok');
  const script = await send(h.proxy, host, '/api/contents/x', {
    method: 'POST',
    headers: bearer(h.tokens.alice),
    body: 'x',
  });
  assert.equal(script.status, 200, 'a script with a token and no Origin');
  // GET and HEAD are not checked: links and bookmarks from anywhere still open the tool.
  const get = await send(h.proxy, host, '/', {
    headers: { cookie: aliceCookie, origin: 'https://evil.example' },
  });
  assert.equal(get.status, 200);
  assert.deepEqual(reached, ['POST /api/contents/x', 'POST /api/contents/x', 'GET /']);
});
