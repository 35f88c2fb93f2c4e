// The gate alone (sidecars/gate), in front of a small tool in this process: what
// it admits, what reaches the tool (not the secret, the Host as sent), streaming
// both ways, WebSocket upgrades, and its settings.
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { WebSocket, WebSocketServer } from 'ws';
import { ConfigError } from '../../settings/index.ts';
import { loadGateConfig, type RunningGate, startGate } from '../../sidecars/index.ts';

const SECRET = 'this-launch-secret-0123456789';
let tool: Server;
let gate: RunningGate;
let seen: IncomingHttpHeaders = {};

before(async () => {
  tool = createServer((req, res) => {
    seen = req.headers;
    if (req.url === '/upload') {
      let n = 0;
      req.on('data', (c: Buffer) => {
        n += c.length;
      });
      req.on('end', () => res.end(String(n)));
      return;
    }
    res.end(`tool ${req.url}`);
  });
  new WebSocketServer({ server: tool }).on('connection', (ws) =>
    ws.on('message', (m) => ws.send(String(m))),
  );
  await new Promise<void>((r) => tool.listen(0, '127.0.0.1', r));
  gate = await startGate({
    secret: SECRET,
    listenHost: '127.0.0.1',
    port: 0,
    upstreamHost: '127.0.0.1',
    upstreamPort: (tool.address() as AddressInfo).port,
  });
});

after(async () => {
  await gate?.close();
  tool?.closeAllConnections();
  await new Promise((r) => tool?.close(r));
});

const url = (path: string) => `http://127.0.0.1:${gate.port}${path}`;

test('without the secret: 403 naming no secret; with it: the tool answers, without the secret header, Host as sent', async () => {
  const refused = await request(url('/x'));
  assert.equal(refused.statusCode, 403);
  assert.ok(!(await refused.body.text()).includes(SECRET));
  const health = await request(url('/_berth_gate/healthz'));
  assert.equal(health.statusCode, 403, 'the health path too needs the secret');
  await health.body.dump();

  const ok = await request(url('/x?y=1'), {
    headers: { 'x-berth-tool-secret': SECRET, host: 'demo--alice.localhost:8000' },
  });
  assert.equal(ok.statusCode, 200);
  assert.equal(await ok.body.text(), 'tool /x?y=1');
  assert.equal(seen['x-berth-tool-secret'], undefined, 'the tool never sees the secret');
  assert.equal(seen.host, 'demo--alice.localhost:8000');
});

test('a request body streams through to the tool', async () => {
  const body = Buffer.alloc(8 * 1024 * 1024, 1);
  const r = await request(url('/upload'), {
    method: 'POST',
    headers: { 'x-berth-tool-secret': SECRET },
    body,
  });
  assert.equal(await r.body.text(), String(body.length));
});

test('a WebSocket with the secret echoes; without it the upgrade gets 403', async () => {
  const ws = new WebSocket(url('/ws').replace('http', 'ws'), {
    headers: { 'x-berth-tool-secret': SECRET },
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const echoed = new Promise<string>((r) => ws.once('message', (m) => r(String(m))));
  ws.send('through the gate');
  assert.equal(await echoed, 'through the gate');
  ws.terminate();

  const bare = new WebSocket(url('/ws').replace('http', 'ws'));
  const status = await new Promise<number>((resolve) => {
    bare.once('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
    bare.once('open', () => resolve(101));
    bare.once('error', () => resolve(-1));
  });
  bare.terminate();
  assert.equal(status, 403);
});

test('its settings: the secret and the tool port are required, and the secret is never echoed', () => {
  assert.throws(
    () => loadGateConfig({ BERTH_TOOL_SECRET: 'short-secret' }),
    (err: Error) =>
      err instanceof ConfigError &&
      /BERTH_TOOL_SECRET/.test(err.message) &&
      /BERTH_GATE_UPSTREAM_PORT/.test(err.message) &&
      !err.message.includes('short-secret'),
  );
  const c = loadGateConfig({ BERTH_TOOL_SECRET: SECRET, BERTH_GATE_UPSTREAM_PORT: '8888' });
  assert.deepEqual(
    { listen: c.listenHost, port: c.port, upstream: c.upstreamHost },
    { listen: '0.0.0.0', port: 8000, upstream: '127.0.0.1' },
  );
});
