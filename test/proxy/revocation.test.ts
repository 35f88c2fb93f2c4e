// A revocation takes effect at once on every replica, although each caches
// verified credentials (here for 60 s, so a lingering answer would be seen): the
// database notifies on berth_credentials when a token or session is deleted or a
// user's rights change, and every proxy forgets its cached answers.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type RunningProxy, startProxy } from '../../proxy/index.ts';
import { waitFor } from '../support/wait.ts';
import {
  addDefinition,
  bearer,
  echoHandler,
  get,
  type Harness,
  makeReady,
  startHarness,
  startUpstream,
  type Upstream,
  waitForRoute,
} from './support.ts';

const CACHE_MS = 60_000;
const TOOL = 'demo--alice.localhost';
const SHARED = 'board.localhost';
let h: Harness;
let replica: RunningProxy;
let echo: Upstream;

before(async () => {
  h = await startHarness({ authCacheMs: CACHE_MS });
  replica = await startProxy({
    pool: h.db.pool,
    store: h.store,
    port: 0,
    config: { baseDomain: 'localhost', authCacheMs: CACHE_MS, activityFlushMs: 0 },
  });
  echo = await startUpstream(echoHandler);
  await addDefinition(h, 'demo', {}, replica);
  await addDefinition(h, 'board', { sharing: 'shared', access: { groups: ['analysts'] } }, replica);
  await makeReady(h.store, 'alice', 'demo', echo.url);
  await makeReady(h.store, 'shared', 'board', echo.url);
  for (const p of [h.proxy, replica]) {
    await waitForRoute(p, TOOL);
    await waitForRoute(p, SHARED);
  }
});

after(async () => {
  await replica.close();
  await h.close();
  await echo.close();
});

/** Waits (well under CACHE_MS) until `proxy` answers `host` with something other than 200. */
async function refusedBy(proxy: RunningProxy, host: string, headers: Record<string, string>) {
  return waitFor(
    async () => {
      const r = await get(proxy, host, '/', { ...headers, 'x-berth-no-launch': '1' });
      return r.status === 200 ? undefined : r.status;
    },
    10_000,
    `${host} refused`,
  );
}

test('a deleted API token stops working on every replica at once', async () => {
  const { id, token } = await h.identity.createToken({ user: 'alice' });
  for (const p of [h.proxy, replica])
    assert.equal((await get(p, TOOL, '/', bearer(token))).status, 200);
  assert.equal(await h.identity.revokeToken(id), true);
  for (const p of [h.proxy, replica]) assert.equal(await refusedBy(p, TOOL, bearer(token)), 401);
});

test('a session signed out on one replica stops working on the others at once', async () => {
  const s = await h.sessions.createSession({
    user: 'alice',
    host: TOOL,
    idleMs: 3_600_000,
    absoluteMs: 3_600_000,
  });
  assert.ok(s);
  const cookie = { cookie: `berth_session=${s.cookieValue}` };
  for (const p of [h.proxy, replica]) assert.equal((await get(p, TOOL, '/', cookie)).status, 200);
  await h.sessions.revokeSession(s.id);
  for (const p of [h.proxy, replica]) assert.equal(await refusedBy(p, TOOL, cookie), 401);
});

test("a user taken out of a shared app's group is refused at once", async () => {
  const { token } = await h.identity.createToken({ user: 'dave' });
  await h.identity.upsertUser({ name: 'dave', groups: ['analysts'] });
  for (const p of [h.proxy, replica])
    assert.equal((await get(p, SHARED, '/', bearer(token))).status, 200);
  await h.identity.upsertUser({ name: 'dave', groups: [] });
  for (const p of [h.proxy, replica]) assert.equal(await refusedBy(p, SHARED, bearer(token)), 403);
});

test('after the listening connection is lost, revocations still arrive', async () => {
  const { id, token } = await h.identity.createToken({ user: 'alice' });
  assert.equal((await get(replica, TOOL, '/', bearer(token))).status, 200);
  const listeners = async () =>
    (
      await h.db.pool.query<{ pid: number }>(
        "select pid from pg_stat_activity where application_name = 'berth-proxy-credentials' and datname = current_database()",
      )
    ).rows.map((r) => r.pid);
  const before = await listeners();
  assert.equal(before.length, 2, 'one listening connection per proxy');
  await h.db.pool.query('select pg_terminate_backend(pid) from unnest($1::int[]) pid', [before]);
  // Both reconnect (new backends) on their own.
  await waitFor(
    async () => {
      const now = await listeners();
      return now.length === 2 && now.every((p) => !before.includes(p)) ? true : undefined;
    },
    10_000,
    'listeners back',
  );
  await h.identity.revokeToken(id);
  for (const p of [h.proxy, replica]) assert.equal(await refusedBy(p, TOOL, bearer(token)), 401);
});
