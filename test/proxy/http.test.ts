// HTTP forwarding through the proxy to real upstream servers.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { startProxy } from '../../proxy/index.ts';
import { rawRequest } from '../support/raw-http.ts';
import { waitFor } from '../support/wait.ts';
import { CountingIdentity } from './support/counting-identity.ts';
import {
  addDefinition,
  bearer,
  echoHandler,
  get,
  type Harness,
  makeReady,
  parseHistogram,
  startHarness,
  startUpstream,
  type Upstream,
  waitForRoute,
} from './support.ts';

let h: Harness;
let echo: Upstream;
const HOST = 'demo--alice.localhost';

before(async () => {
  h = await startHarness();
  echo = await startUpstream(echoHandler);
  await addDefinition(h, 'demo');
  await makeReady(h.store, 'alice', 'demo', echo.url);
  await waitForRoute(h.proxy, HOST);
});

after(async () => {
  await h.close();
  await echo.close();
});

test('forwards with Host preserved, X-Forwarded-* set, berth credentials and hop-by-hop headers removed', async () => {
  // A raw socket: clients such as undici refuse to send some hop-by-hop headers.
  const out = await rawRequest(h.proxy.url, 'GET', '/some/path?q=1', {
    Host: `Demo--Alice.localhost.:${h.proxy.port}`,
    Authorization: `Bearer ${h.tokens.alice}`,
    Cookie: 'a=1; berth_session=secret; b=2; __Host-berth_session=x',
    Connection: 'close, x-private',
    'X-Private': 'named by Connection',
    'Keep-Alive': 'timeout=5',
    'Proxy-Connection': 'keep-alive',
    TE: 'trailers',
    Trailer: 'x-t',
    Upgrade: 'h2c',
    'X-Forwarded-For': '6.6.6.6',
    'X-Forwarded-Host': 'bob.example',
    'X-Forwarded-Proto': 'https',
    'X-Kept': 'yes',
  });
  assert.equal(out.status, 200);
  const seen = JSON.parse(out.body) as {
    url: string;
    headers: Record<string, string>;
  };
  assert.equal(seen.url, '/some/path?q=1');
  assert.equal(seen.headers.host, `Demo--Alice.localhost.:${h.proxy.port}`);
  assert.equal(seen.headers.authorization, undefined);
  assert.equal(seen.headers.cookie, 'a=1; b=2');
  for (const hop of ['x-private', 'keep-alive', 'proxy-connection', 'te', 'upgrade', 'trailer']) {
    assert.equal(seen.headers[hop], undefined, hop);
  }
  assert.equal(seen.headers['x-kept'], 'yes');
  // No trusted hops by default: the client's forgeries are replaced.
  assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
  assert.equal(seen.headers['x-forwarded-host'], `Demo--Alice.localhost.:${h.proxy.port}`);
  assert.equal(seen.headers['x-forwarded-proto'], 'http');
});

test('only berth cookies go: a Cookie header of nothing else is dropped, others pass', async () => {
  const r = await get(h.proxy, HOST, '/', {
    ...bearer(h.tokens.alice),
    cookie: 'berth_session=zzz',
  });
  assert.equal(
    (JSON.parse(r.text) as { headers: Record<string, string> }).headers.cookie,
    undefined,
  );
});

test('hop-by-hop response headers are removed, others pass unchanged', async () => {
  const up = await startUpstream((_req, res) => {
    res.setHeader('connection', 'keep-alive, x-hop');
    res.setHeader('x-hop', 'hop');
    res.setHeader('keep-alive', 'timeout=5');
    res.setHeader('trailer', 'x-t');
    res.setHeader('upgrade', 'h2c');
    res.setHeader('proxy-connection', 'keep-alive');
    res.setHeader('set-cookie', ['a=1', 'b=2']);
    res.setHeader('x-tool', 'kept');
    res.end('ok');
  });
  try {
    await makeReady(h.store, 'alice', 'hops', up.url);
    await addDefinition(h, 'hops');
    await waitForRoute(h.proxy, 'hops--alice.localhost');
    const r = await get(h.proxy, 'hops--alice.localhost', '/', bearer(h.tokens.alice));
    assert.equal(r.status, 200);
    assert.equal(r.text, 'ok');
    for (const hop of ['x-hop', 'trailer', 'upgrade', 'proxy-connection']) {
      assert.equal(r.headers[hop], undefined, hop);
    }
    // Node adds its own Keep-Alive for the client connection; the tool's is gone.
    assert.notEqual(r.headers['keep-alive'], 'timeout=5');
    assert.deepEqual(r.headers['set-cookie'], ['a=1', 'b=2']);
    assert.equal(r.headers['x-tool'], 'kept');
  } finally {
    await up.close();
  }
});

test('trusted hops: X-Forwarded-* from the trusted proxy in front are kept', async () => {
  const db = h.db;
  const p = await startProxy({
    pool: db.pool,
    store: h.store,
    port: 0,
    config: { baseDomain: 'localhost', trustedHops: 1, authCacheMs: 0 },
  });
  try {
    await waitForRoute(p, HOST);
    const r = await get(p, HOST, '/', {
      ...bearer(h.tokens.alice),
      'x-forwarded-for': '1.1.1.1, 10.0.0.9',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'demo--alice.berth.example',
    });
    const seen = JSON.parse(r.text) as { headers: Record<string, string> };
    assert.equal(seen.headers['x-forwarded-for'], '10.0.0.9, 127.0.0.1');
    assert.equal(seen.headers['x-forwarded-proto'], 'https');
    assert.equal(seen.headers['x-forwarded-host'], 'demo--alice.berth.example');
  } finally {
    await p.close();
  }
});

test('server-sent events arrive as produced, before the upstream finishes', async () => {
  let finish: (() => void) | undefined;
  const up = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write('data: first\n\n');
    finish = () => res.end('data: last\n\n');
  });
  try {
    await addDefinition(h, 'sse');
    await makeReady(h.store, 'alice', 'sse', up.url);
    await waitForRoute(h.proxy, 'sse--alice.localhost');
    const r = await request(`${h.proxy.url}/events`, {
      headers: { host: 'sse--alice.localhost', ...bearer(h.tokens.alice) },
    });
    assert.equal(r.statusCode, 200);
    const it = r.body[Symbol.asyncIterator]();
    const first = await it.next();
    assert.match(String(first.value), /data: first/);
    assert.ok(finish, 'the upstream is still open');
    finish();
    let rest = '';
    for (;;) {
      const n = await it.next();
      if (n.done) break;
      rest += String(n.value);
    }
    assert.match(rest, /data: last/);
  } finally {
    await up.close();
  }
});

test('a client gone while its request is authenticated leaves nothing open at the tool', async () => {
  // An endless event stream: only the proxy closing it ends a request here.
  let seen = 0;
  let open = 0;
  const up = await startUpstream((req, res) => {
    seen++;
    open++;
    req.socket.once('close', () => open--);
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: hello\n\n');
  });
  // A proxy whose token checks the test holds back, so every client is surely
  // gone before its check answers.
  const identity = new CountingIdentity(h.db.pool);
  const proxy = await startProxy({
    pool: h.db.pool,
    store: h.store,
    port: 0,
    identity,
    config: { baseDomain: 'localhost', authCacheMs: 0, activityFlushMs: 0 },
  });
  const HANGUPS = 6;
  try {
    await addDefinition(h, 'endless', {}, proxy);
    await makeReady(h.store, 'alice', 'endless', up.url);
    await waitForRoute(proxy, 'endless--alice.localhost');
    // A token each: requests with one token would share a single check.
    const tokens = await Promise.all(
      Array.from(
        { length: HANGUPS },
        async () => (await h.identity.createToken({ user: 'alice' })).token,
      ),
    );
    const release = identity.holdAnswers();
    for (const token of tokens) {
      await new Promise<void>((resolve, reject) => {
        const s = connect(proxy.port, '127.0.0.1', () => {
          s.end(
            `GET /events HTTP/1.1\r\nHost: endless--alice.localhost\r\nAuthorization: Bearer ${token}\r\n\r\n`,
          );
          s.destroy();
        });
        s.on('close', () => resolve());
        s.on('error', reject);
      });
    }
    await waitFor(() => identity.checks >= HANGUPS, 10_000, 'every hung-up request in its check');
    release();
    await waitFor(() => identity.finished >= HANGUPS, 10_000, 'every check answered');
    // A client that stays: its request, authenticated after all the others, reaches the
    // tool, so any of theirs the proxy sent on has reached it by now too.
    const stays = await request(`${proxy.url}/events`, {
      headers: { host: 'endless--alice.localhost', ...bearer(h.tokens.alice) },
    });
    assert.equal(stays.statusCode, 200);
    await waitFor(() => seen >= 1, 10_000, 'the staying request at the tool');
    stays.body.destroy();
    await waitFor(() => open === 0, 10_000, 'no request left open at the tool');
    assert.equal(seen, 1, 'the requests of clients already gone never reached the tool');
  } finally {
    await proxy.close();
    await up.close();
  }
});

test('unknown tool host: 404 page with strict headers; unknown shapes too', async () => {
  const r = await get(h.proxy, 'nosuch--alice.localhost', '/', {
    ...bearer(h.tokens.alice),
    'x-berth-no-launch': '1',
  });
  assert.equal(r.status, 404);
  assert.match(String(r.headers['content-security-policy']), /frame-ancestors 'none'/);
  assert.equal(r.headers['x-content-type-options'], 'nosniff');
  for (const host of [
    'a.b.localhost',
    'example.org',
    'demo--alice.localhost.evil.org',
    '-x.localhost',
  ]) {
    const o = await get(h.proxy, host, '/', bearer(h.tokens.alice));
    assert.equal(o.status, 404, host);
  }
});

test('refused upstream gives 502, a silent one 504, and the proxy lives on', async () => {
  const dead = await startUpstream(() => {});
  const deadUrl = dead.url;
  await dead.close();
  await addDefinition(h, 'gone');
  await makeReady(h.store, 'alice', 'gone', deadUrl);
  await waitForRoute(h.proxy, 'gone--alice.localhost');
  const r = await get(h.proxy, 'gone--alice.localhost', '/', {
    ...bearer(h.tokens.alice),
    accept: 'text/html',
  });
  assert.equal(r.status, 502);
  assert.match(r.text, /did not answer/);

  const silent = await startUpstream(() => {
    /* never answers */
  });
  const p = await startProxy({
    pool: h.db.pool,
    store: h.store,
    port: 0,
    config: { baseDomain: 'localhost', headersTimeoutMs: 300, authCacheMs: 0 },
  });
  try {
    await addDefinition(h, 'slow');
    await makeReady(h.store, 'alice', 'slow', silent.url);
    await waitForRoute(p, 'slow--alice.localhost');
    const t = await get(p, 'slow--alice.localhost', '/', bearer(h.tokens.alice));
    assert.equal(t.status, 504);
  } finally {
    await p.close();
    await silent.close();
  }
  assert.equal((await get(h.proxy, HOST, '/', bearer(h.tokens.alice))).status, 200);
});

test('an upstream dying mid-body gives the client an error, not a short success', async () => {
  const up = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-length': '1000000' });
    res.write(Buffer.alloc(1000));
    setTimeout(() => res.socket?.destroy(), 20);
  });
  try {
    await addDefinition(h, 'dies');
    await makeReady(h.store, 'alice', 'dies', up.url);
    await waitForRoute(h.proxy, 'dies--alice.localhost');
    const r = await request(`${h.proxy.url}/`, {
      headers: { host: 'dies--alice.localhost', ...bearer(h.tokens.alice) },
    });
    assert.equal(r.statusCode, 200);
    await assert.rejects(r.body.arrayBuffer());
    assert.equal((await get(h.proxy, HOST, '/', bearer(h.tokens.alice))).status, 200);
  } finally {
    await up.close();
  }
});

test('a route follows Ready=True at once (not at the next resync), and moves when the endpoint changes', async () => {
  // The full relist comes every 5 minutes: a route within seconds came from the change itself.
  assert.ok(h.proxy.config.resyncMs >= 300_000, `resync every ${h.proxy.config.resyncMs} ms`);
  await addDefinition(h, 'quick');
  const t0 = performance.now();
  await makeReady(h.store, 'alice', 'quick', echo.url);
  await waitFor(
    async () => {
      const r = await get(h.proxy, 'quick--alice.localhost', '/', {
        ...bearer(h.tokens.alice),
        'x-berth-no-launch': '1',
      });
      return r.status === 200;
    },
    30_000,
    '200 through the proxy',
  );
  const ms = performance.now() - t0;
  assert.ok(ms < h.proxy.config.resyncMs / 10, `route took ${ms.toFixed(0)} ms`);

  const old = h.proxy.routes.get('quick--alice.localhost')!.upstream!;
  const other = await startUpstream((_req, res) => res.end('other'));
  try {
    await h.store.patchStatus('ToolInstance', 'alice', 'quick', {
      status: { endpoint: other.url },
    });
    await waitForRoute(h.proxy, 'quick--alice.localhost', other.url);
    assert.equal(old.closed, true, 'the old upstream pool is dropped');
    assert.equal(
      (await get(h.proxy, 'quick--alice.localhost', '/', bearer(h.tokens.alice))).text,
      'other',
    );
    // Stopped: the route goes.
    await h.store.patch('ToolInstance', 'alice', 'quick', { spec: { state: 'Stopped' } });
    await waitFor(
      () => (h.proxy.routes.get('quick--alice.localhost')?.upstream ? undefined : true),
      10_000,
      'route dropped',
    );
  } finally {
    await other.close();
  }
});

test('a restarted proxy routes at once (the table comes from the database)', async () => {
  const p = await startProxy({
    pool: h.db.pool,
    store: h.store,
    port: 0,
    config: { baseDomain: 'localhost', authCacheMs: 0 },
  });
  try {
    const r = await get(p, HOST, '/', bearer(h.tokens.alice));
    assert.equal(r.status, 200);
  } finally {
    await p.close();
  }
});

test('activity is batched: many requests, one lastActivityAt write', async () => {
  const before = await h.store.get('ToolInstance', 'alice', 'demo');
  for (let i = 0; i < 20; i++) await get(h.proxy, HOST, '/', bearer(h.tokens.alice));
  const mid = await h.store.get('ToolInstance', 'alice', 'demo');
  assert.equal(
    mid.metadata.resourceVersion,
    before.metadata.resourceVersion,
    'no write per request',
  );
  await h.proxy.flushActivity();
  const afterFlush = await h.store.get('ToolInstance', 'alice', 'demo');
  assert.ok((afterFlush.status as { lastActivityAt?: string }).lastActivityAt);
  assert.equal(
    Number(afterFlush.metadata.resourceVersion) - Number(before.metadata.resourceVersion) >= 1,
    true,
  );
  await h.proxy.flushActivity();
  const again = await h.store.get('ToolInstance', 'alice', 'demo');
  assert.equal(
    again.metadata.resourceVersion,
    afterFlush.metadata.resourceVersion,
    'nothing new, nothing written',
  );
});

test('health, readiness and metrics on berth host; everything else of it goes to the API upstream', async () => {
  assert.equal((await get(h.proxy, 'localhost', '/healthz')).status, 200);
  assert.equal((await get(h.proxy, 'localhost', '/readyz')).status, 200);
  const m = await get(h.proxy, 'localhost', '/metrics');
  assert.match(m.text, /berth_proxy_requests_total\{code="200"\}/);
  const ok = Number(/^berth_proxy_requests_total\{code="200"\} (\d+)$/m.exec(m.text)?.[1]);
  const latency = parseHistogram(m.text, 'berth_proxy_request_duration_seconds');
  assert.ok(ok >= 2, `the health and readiness checks just made at least: ${ok}`);
  assert.ok(latency.count >= ok, `every answered request is timed: ${latency.count} >= ${ok}`);
  assert.ok(latency.sum > 0 && latency.sum < latency.count * 10, `sum ${latency.sum}`);
  assert.deepEqual(
    latency.buckets.map(([le]) => le),
    [
      '0.001',
      '0.0025',
      '0.005',
      '0.01',
      '0.025',
      '0.05',
      '0.1',
      '0.25',
      '0.5',
      '1',
      '2.5',
      '10',
      '+Inf',
    ],
  );
  // Counted when they happen, not when scraped: a second scrape sees the first.
  const again = await get(h.proxy, 'localhost', '/metrics');
  const okAgain = Number(/^berth_proxy_requests_total\{code="200"\} (\d+)$/m.exec(again.text)?.[1]);
  assert.equal(okAgain, ok + 1);
  assert.equal(
    parseHistogram(again.text, 'berth_proxy_request_duration_seconds').count,
    latency.count + 1,
  );
  assert.match(m.text, /berth_proxy_routes \d+/);
  assert.doesNotMatch(m.text, /alice/);
  // The default API upstream (127.0.0.1:8080) is not running in this test: 502.
  const apiUp = await startUpstream(echoHandler);
  const p = await startProxy({
    pool: h.db.pool,
    store: h.store,
    port: 0,
    config: { baseDomain: 'localhost', apiUpstream: apiUp.url },
  });
  try {
    const r = await get(p, 'localhost', '/apis/berth/v1alpha1/tooldefinitions', {
      ...bearer(h.tokens.alice),
      cookie: 'berth_session=abc',
    });
    const seen = JSON.parse(r.text) as { url: string; headers: Record<string, string> };
    assert.equal(seen.url, '/apis/berth/v1alpha1/tooldefinitions');
    assert.equal(
      seen.headers.authorization,
      `Bearer ${h.tokens.alice}`,
      'the API authenticates for itself',
    );
  } finally {
    await p.close();
    await apiUp.close();
  }
});

test('absolute-form request targets: same host is fine, another host is refused', async () => {
  const raw = async (target: string, host: string) =>
    (
      await rawRequest(h.proxy.url, 'GET', target, {
        Host: host,
        Authorization: `Bearer ${h.tokens.alice}`,
      })
    ).status;
  assert.equal(await raw(`http://${HOST}/x`, HOST), 200);
  assert.equal(await raw('http://demo--bob.localhost/x', HOST), 400);
  assert.equal(await raw(`http://${HOST}/x`, 'demo--bob.localhost'), 400);
});
