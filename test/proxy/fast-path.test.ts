// The decision cache (the proxy's fast path, on when credentials are cached): a
// decision is per (Host, credential), so it never lets another user through, and
// it is dropped when a route's upstream or tool changes, with any definition
// change and every change of credentials; status writes that move no route keep it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startProxy } from '../../proxy/index.ts';
import { waitFor } from '../support/wait.ts';
import { CountingIdentity } from './support/counting-identity.ts';
import {
  addDefinition,
  bearer,
  get,
  type Harness,
  makeReady,
  startHarness,
  startUpstream,
  type Upstream,
  waitForRoute,
} from './support.ts';

let h: Harness;
let one: Upstream;
let two: Upstream;
const HOST = 'demo--alice.localhost';

before(async () => {
  h = await startHarness({ authCacheMs: 60_000 });
  one = await startUpstream((_req, res) => res.end('one'));
  two = await startUpstream((_req, res) => res.end('two'));
  await addDefinition(h, 'demo');
  await makeReady(h.store, 'alice', 'demo', one.url);
  await waitForRoute(h.proxy, HOST, one.url);
});

after(async () => {
  await h.close();
  await one.close();
  await two.close();
});

test('a cached decision is per credential: the owner gets through, others do not', async () => {
  for (let i = 0; i < 3; i++) {
    const r = await get(h.proxy, HOST, '/', bearer(h.tokens.alice));
    assert.equal(r.status, 200);
    assert.equal(r.text, 'one');
  }
  // Same Host header, another user's token, and no token: never the cached answer.
  assert.equal((await get(h.proxy, HOST, '/', bearer(h.tokens.bob))).status, 403);
  assert.equal((await get(h.proxy, HOST, '/', bearer(h.tokens.root))).status, 403);
  assert.equal((await get(h.proxy, HOST, '/')).status, 401);
  assert.equal((await get(h.proxy, HOST, '/', bearer('berth_forged_token'))).status, 401);
  // berth's own paths on the tool host are never taken by the fast path.
  const status = await get(h.proxy, HOST, '/_berth/status', bearer(h.tokens.alice));
  assert.equal(status.status, 200);
  assert.equal(JSON.parse(status.text).ready, true);
});

test('status writes that move no route leave cached decisions; a change of tool voids them', async () => {
  assert.equal((await get(h.proxy, HOST, '/', bearer(h.tokens.alice))).text, 'one');
  const version = h.proxy.routes.version;
  const seen = () => h.proxy.routes.get(HOST)?.instance;
  const before = seen()!.metadata.resourceVersion;
  // The proxy's own activity write (every 30 s per busy instance in production).
  await h.proxy.flushActivity();
  await waitFor(
    () => (seen()!.metadata.resourceVersion !== before ? true : undefined),
    10_000,
    'the route table sees the status write',
  );
  assert.ok((seen()!.status as { lastActivityAt?: string }).lastActivityAt);
  assert.equal(h.proxy.routes.version, version, 'decisions still stand');
  assert.equal((await get(h.proxy, HOST, '/', bearer(h.tokens.alice))).text, 'one');
  // Another tool behind the same instance: authorization rests on it, so decisions go.
  await addDefinition(h, 'other');
  const afterDefinition = await waitFor(
    () => (h.proxy.routes.definitions.has('other') ? h.proxy.routes.version : undefined),
    10_000,
    'the new definition',
  );
  await h.store.patch('ToolInstance', 'alice', 'demo', { spec: { toolRef: 'other' } });
  await waitFor(
    () => (seen()!.spec.toolRef === 'other' ? true : undefined),
    10_000,
    'the route follows the new tool',
  );
  assert.notEqual(h.proxy.routes.version, afterDefinition);
  await h.store.patch('ToolInstance', 'alice', 'demo', { spec: { toolRef: 'demo' } });
  await waitFor(() => (seen()!.spec.toolRef === 'demo' ? true : undefined), 10_000, 'back to demo');
});

test("a busy user's credential is checked again before its answer expires, though the fast path skips authentication", async () => {
  // Decisions end where the background re-check begins (the last fifth of the cached
  // answer's life), so fast-path traffic reaches the credential cache in time.
  const CACHE_MS = 4_000;
  const identity = new CountingIdentity(h.db.pool);
  const p = await startProxy({
    pool: h.db.pool,
    store: h.store,
    port: 0,
    identity,
    config: { baseDomain: 'localhost', authCacheMs: CACHE_MS, activityFlushMs: 0 },
  });
  try {
    // The proxy empties its cache once when its credential listener connects, so the
    // gap that tells is the one between the last two checks of a steady stream.
    const started = Date.now();
    const checks = () => identity.checks;
    while (checks() < 3) {
      assert.equal((await get(p, HOST, '/', bearer(h.tokens.alice))).status, 200);
      assert.ok(Date.now() - started < 3 * CACHE_MS, `only ${checks()} checks so far`);
    }
    const [, previous, last] = identity.startedAt as [number, number, number];
    assert.ok(
      last - previous < CACHE_MS,
      `checked again ${last - previous} ms after, within its life`,
    );
    // The proxy dates an answer from just before it asks; the identity notes the
    // start a moment later (a clock tick, more on a busy machine), hence the slack.
    const SLACK_MS = 50;
    assert.ok(
      last - previous >= (CACHE_MS * 4) / 5 - SLACK_MS,
      `${last - previous} ms: not before the last fifth`,
    );
  } finally {
    await p.close();
  }
});

test('a route change voids cached decisions at once', async () => {
  assert.equal((await get(h.proxy, HOST, '/', bearer(h.tokens.alice))).text, 'one');
  await makeReady(h.store, 'alice', 'demo', two.url);
  await waitForRoute(h.proxy, HOST, two.url);
  assert.equal((await get(h.proxy, HOST, '/', bearer(h.tokens.alice))).text, 'two');
  // Stopped: the route goes, and so does the decision (no forwarding, a 503 without launch).
  await h.store.patch('ToolInstance', 'alice', 'demo', { spec: { state: 'Stopped' } });
  await waitFor(
    () => (h.proxy.routes.get(HOST)?.upstream ? undefined : true),
    10_000,
    'route dropped',
  );
  const r = await get(h.proxy, HOST, '/', {
    ...bearer(h.tokens.alice),
    'x-berth-no-launch': '1',
  });
  assert.equal(r.status, 503);
});
