// End to end with the real stack in this process: a fresh database, ecs-local
// running the demo tool (examples/demo/images.yaml), the controllers (their store's
// writes enqueue reconciles) and the proxy over the same store. A GET to the
// demo's host launches it, the starting page's status turns ready, the tool's
// page comes through the proxy, the route follows Ready=True at once (well before
// the periodic relist), a restarted proxy routes at once, and the demo's
// WebSocket echo works through it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { WebSocket } from 'ws';
import { getCondition, type ToolInstance } from '../../crds/index.ts';
import { type RunningProxy, startProxy } from '../../proxy/index.ts';
import { Identity } from '../../store/index.ts';
import { type Env, examples, startEnv } from '../controllers/reconcile-support.ts';
import { waitFor } from '../support/wait.ts';
import { bearer, get } from './support.ts';

const HOST = 'demo--alice.localhost';
let env: Env;
let proxy: RunningProxy;
let token: string;

async function openProxy(port = 0): Promise<RunningProxy> {
  return startProxy({
    pool: env.db.pool,
    store: env.store,
    port,
    config: { baseDomain: 'localhost', activityFlushMs: 0 },
  });
}

before(async () => {
  env = await startEnv({ addressOctet: 41 });
  token = (await new Identity(env.db.pool).createToken({ user: 'alice' })).token;
  const { parse } = await import('yaml');
  await env.store.create(
    'ToolDefinition',
    parse(readFileSync(join(examples, 'demo.yaml'), 'utf8')),
  );
  proxy = await openProxy();
  await waitFor(
    () => (proxy.routes.definitions.has('demo') ? true : undefined),
    10_000,
    'demo definition in the route table',
  );
});

after(async () => {
  await proxy?.close();
  await env?.close();
});

function isReady(ti: ToolInstance): boolean {
  return getCondition(ti.status?.conditions, 'Ready')?.status === 'True' && !!ti.status?.endpoint;
}

test('a GET launches the demo; the starting page turns ready; the route follows Ready=True at once', async (t) => {
  // Watch the instance from now on: the moment Ready=True is written is what we time.
  const abort = new AbortController();
  const list = await env.store.list('ToolInstance');
  const watch = await env.store.watch('ToolInstance', {
    namespace: 'alice',
    resourceVersion: list.metadata.resourceVersion,
    signal: abort.signal,
  });
  const readySeen = (async () => {
    for await (const ev of watch) {
      if (ev.type !== 'ADDED' && ev.type !== 'MODIFIED') continue;
      if (ev.object.metadata.name === 'demo' && isReady(ev.object as unknown as ToolInstance))
        return performance.now();
    }
    throw new Error('watch ended before Ready=True');
  })();
  try {
    // Not running yet (there is no instance at all): the GET launches it.
    const first = await get(proxy, HOST, '/', { ...bearer(token), accept: 'text/html' });
    assert.equal(first.status, 202);
    assert.match(first.text, /starting/i);
    const created = (await env.store.get(
      'ToolInstance',
      'alice',
      'demo',
    )) as unknown as ToolInstance;
    assert.equal(created.spec.state, 'Running');

    const readyAt = await Promise.race([
      readySeen,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('demo not Ready within 60 s')), 60_000).unref(),
      ),
    ]);
    // From the Ready=True write (as a watcher sees it) to the first answer from the tool:
    // the route comes from the change itself, not from the full relist every 5 minutes.
    // Seconds on a loaded machine are fine; a route that waited for the relist is not.
    let firstOk = 0;
    await waitFor(
      async () => {
        const r = await get(proxy, HOST, '/', { ...bearer(token), 'x-berth-no-launch': '1' });
        if (r.status !== 200) return undefined;
        firstOk = performance.now();
        assert.match(r.text, /Hello, <span id="who">alice<\/span>/);
        return true;
      },
      30_000,
      'the first 200 through the proxy',
    );
    const lag = firstOk - readyAt;
    t.diagnostic(`Ready=True -> first 200 through the proxy: ${lag.toFixed(0)} ms`);
    assert.ok(proxy.config.resyncMs >= 300_000, `resync every ${proxy.config.resyncMs} ms`);
    assert.ok(
      lag < proxy.config.resyncMs / 10,
      `route appeared ${lag.toFixed(0)} ms after Ready=True (the relist comes every ${proxy.config.resyncMs} ms)`,
    );

    // The starting page's status endpoint says ready, and the next GET is the tool.
    const status = await get(proxy, HOST, '/_berth/status', bearer(token));
    assert.equal(status.status, 200);
    assert.equal(JSON.parse(status.text).ready, true);
    const page = await get(proxy, HOST, '/', { ...bearer(token), accept: 'text/html' });
    assert.equal(page.status, 200);
    assert.match(page.text, /Hello, <span id="who">alice<\/span>/);
  } finally {
    abort.abort();
  }
});

test('a restarted proxy routes at once', async () => {
  const port = proxy.port;
  await proxy.close();
  proxy = await openProxy(port);
  // No waiting: startProxy resolves once the route table is loaded.
  const r = await get(proxy, HOST, '/', { ...bearer(token), 'x-berth-no-launch': '1' });
  assert.equal(r.status, 200);
  assert.match(r.text, /Hello, <span id="who">alice<\/span>/);
});

test("the demo's WebSocket echo works through the proxy", async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/ws`, {
    headers: { host: `${HOST}:${proxy.port}`, ...bearer(token) },
  });
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const echoed = new Promise<string>((resolve) =>
      ws.once('message', (data) => resolve(String(data))),
    );
    ws.send('hello through berth');
    assert.equal(await echoed, 'hello through berth');
  } finally {
    ws.terminate();
  }
});
