// WebSockets through the proxy: echo both ways, subprotocols, close codes, idle
// pings, and a tool that dies mid-connection.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { WebSocket, WebSocketServer } from 'ws';
import { type RunningProxy, startProxy } from '../../proxy/index.ts';
import { metricValue } from '../support/metrics.ts';
import { waitFor } from '../support/wait.ts';
import { addDefinition, type Harness, makeReady, startHarness, waitForRoute } from './support.ts';

let h: Harness;
let proxy: RunningProxy;
let wss: WebSocketServer;
const server = createServer();
let lastHeaders: Record<string, string | string[] | undefined> = {};

before(async () => {
  h = await startHarness();
  proxy = await startProxy({
    pool: h.db.pool,
    store: h.store,
    port: 0,
    config: { baseDomain: 'localhost', wsPingMs: 200, authCacheMs: 0 },
  });
  wss = new WebSocketServer({
    server,
    handleProtocols: (protocols) => (protocols.has('v2.echo') ? 'v2.echo' : false),
  });
  wss.on('connection', (ws, req) => {
    lastHeaders = req.headers;
    ws.on('message', (data, isBinary) => {
      const text = data.toString();
      if (text.startsWith('close:')) ws.close(Number(text.slice(6)), 'bye from tool');
      else if (text === 'die') ws.terminate();
      else ws.send(data, { binary: isBinary });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  await addDefinition(h, 'demo', {}, proxy);
  await makeReady(
    h.store,
    'alice',
    'demo',
    `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
  );
  await waitForRoute(proxy, 'demo--alice.localhost');
});

after(async () => {
  await proxy.close();
  for (const c of wss.clients) c.terminate();
  wss.close();
  server.close();
  await h.close();
});

function open(
  token: string | undefined,
  protocols: string[] = ['v1.echo', 'v2.echo'],
  host = 'demo--alice.localhost',
) {
  return new WebSocket(`ws://127.0.0.1:${proxy.port}/ws`, protocols, {
    headers: {
      host: `${host}:${proxy.port}`,
      authorization: `Bearer ${token}`,
      cookie: 'berth_session=x; k=v',
    },
  });
}

function once<T>(ws: WebSocket, event: string): Promise<T> {
  return new Promise((resolve, reject) => {
    ws.once(event, (...args: unknown[]) => resolve(args as T));
    if (event !== 'error') ws.once('error', reject);
  });
}

test('echo both ways with the negotiated subprotocol; credentials stripped; close codes passed on', async () => {
  const ws = open(h.tokens.alice);
  await once(ws, 'open');
  assert.equal(ws.protocol, 'v2.echo');
  assert.equal(lastHeaders.authorization, undefined);
  assert.equal(lastHeaders.cookie, 'k=v');
  assert.match(String(lastHeaders.host), /^demo--alice\.localhost/);
  ws.send('hello');
  const [msg] = await once<[Buffer]>(ws, 'message');
  assert.equal(msg.toString(), 'hello');
  const big = Buffer.alloc(1 << 20, 7);
  ws.send(big);
  const [echoed, isBinary] = await once<[Buffer, boolean]>(ws, 'message');
  assert.equal(isBinary, true);
  assert.equal(Buffer.compare(echoed, big), 0);
  // Tool-initiated close with an application code.
  ws.send('close:4001');
  const [code, reason] = await once<[number, Buffer]>(ws, 'close');
  assert.equal(code, 4001);
  assert.equal(reason.toString(), 'bye from tool');
});

test('client-initiated close codes reach the tool', async () => {
  const ws = open(h.tokens.alice);
  await once(ws, 'open');
  const serverClose = new Promise<number>((resolve) => {
    const c = [...wss.clients].at(-1)!;
    c.once('close', (code) => resolve(code));
  });
  ws.close(4002, 'bye from browser');
  assert.equal(await serverClose, 4002);
});

test('an idle connection gets pings from the proxy', async () => {
  const ws = open(h.tokens.alice);
  await once(ws, 'open');
  await once(ws, 'ping');
  ws.send('still works');
  const [msg] = await once<[Buffer]>(ws, 'message');
  assert.equal(msg.toString(), 'still works');
  ws.close();
});

test('the tool dying mid-connection gives the browser close code 1011; the proxy lives on', async () => {
  const ws = open(h.tokens.alice);
  await once(ws, 'open');
  ws.send('die');
  const [code] = await once<[number]>(ws, 'close');
  assert.equal(code, 1011);
  const again = open(h.tokens.alice);
  await once(again, 'open');
  again.close();
});

test('refused upgrades: no credentials 401, another user 403, unknown host 404', async () => {
  for (const [token, host, status] of [
    [undefined, 'demo--alice.localhost', 401],
    [h.tokens.bob, 'demo--alice.localhost', 403],
    [h.tokens.alice, 'nope.example', 404],
  ] as const) {
    const ws = open(token, ['v2.echo'], host);
    const [, res] = await once<[unknown, { statusCode: number }]>(ws, 'unexpected-response');
    assert.equal(res.statusCode, status);
    ws.terminate();
  }
});

test("a tool that refuses the upgrade: the browser gets the tool's own answer, not a 502", async () => {
  // Jupyter answers 404 for a kernel that is gone, 403 for a bad origin; such an
  // answer (either framing) must reach the browser as the tool gave it.
  const refusing = createServer();
  refusing.on('upgrade', (req, socket) => {
    if (req.url === '/chunked')
      socket.end(
        'HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nX-Tool: yes\r\n\r\n9\r\nbad origi\r\n2\r\nn\n\r\n0\r\n\r\n',
      );
    else
      socket.end(
        'HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 15\r\nX-Tool: yes\r\n\r\nno such kernel\n',
      );
  });
  await new Promise<void>((r) => refusing.listen(0, '127.0.0.1', r));
  try {
    await addDefinition(h, 'refuser', {}, proxy);
    await makeReady(
      h.store,
      'alice',
      'refuser',
      `http://127.0.0.1:${(refusing.address() as AddressInfo).port}`,
    );
    await waitForRoute(proxy, 'refuser--alice.localhost');
    for (const [path, status, body] of [
      ['/api/kernels/gone/channels', 404, 'no such kernel\n'],
      ['/chunked', 403, 'bad origin\n'],
    ] as const) {
      const answer = await new Promise<string>((resolve, reject) => {
        const s = connect(proxy.port, '127.0.0.1', () =>
          s.write(
            `GET ${path} HTTP/1.1\r\nHost: refuser--alice.localhost\r\nAuthorization: Bearer ${h.tokens.alice}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
          ),
        );
        let out = '';
        s.on('data', (d) => {
          out += d;
        });
        s.on('close', () => resolve(out));
        s.on('error', reject);
      });
      const [head, ...rest] = answer.split('\r\n\r\n');
      assert.match(head!, new RegExp(`^HTTP/1.1 ${status} `), answer);
      assert.match(head!, /\r\nx-tool: yes/i);
      assert.doesNotMatch(head!, /transfer-encoding/i, 'hop-by-hop headers stay behind');
      assert.equal(rest.join('\r\n\r\n'), body);
    }
  } finally {
    refusing.close();
  }
});

test('open WebSockets are counted in /metrics', async () => {
  const ws = open(h.tokens.alice);
  await once(ws, 'open');
  const metrics = async () =>
    (await request(`${proxy.url}/metrics`, { headers: { host: 'localhost' } })).body.text();
  const gauge = async () => metricValue(await metrics(), 'berth_proxy_websockets_open');
  assert.equal(await gauge(), 1);
  ws.close();
  await waitFor(async () => (await gauge()) === 0, 10_000, 'gauge back to 0');
});
