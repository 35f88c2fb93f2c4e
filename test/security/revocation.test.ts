// Wall: revocation reaches live connections (issue 15, section 5). A WebSocket
// through the proxy and an API watch are authorised once, when they open; a
// sign-out, a token revocation, a disabled user or access taken away must close
// them within 5 s (measured here from the moment the revocation committed), and
// a forged sign-out must not empty the proxy's credential cache for everyone.
// Real parts: PostgreSQL, the API with the development sign-in, the proxy, the
// demo tool (examples/demo/server.ts) as a process, the berth CLI as a process.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { WebSocket } from 'ws';
import { type RunningApi, startApi } from '../../api/index.ts';
import { type RunningProxy, startProxy } from '../../proxy/index.ts';
import { freePort, type ResourceStore, Sessions } from '../../store/index.ts';
import { Browser } from '../api/sign-in-support.ts';
import { ROOT, runBerth } from '../cli/harness.ts';
import { CountingIdentity } from '../proxy/support/counting-identity.ts';
import { makeReady, waitForRoute } from '../proxy/support.ts';
import { freshDatabase, type TestDatabase } from '../support/db.ts';
import { toolDefinition } from '../support/fixtures.ts';
import { waitFor } from '../support/wait.ts';

const LIMIT_MS = 5_000;
const USERS = ['alice', 'bob', 'carol', 'dave', 'erin'];
const API = '/apis/berth/v1alpha1';

let db: TestDatabase;
let api: RunningApi;
let proxy: RunningProxy;
let store: ResourceStore;
let sessions: Sessions;
let identity: CountingIdentity;
let demo: ChildProcess;
let proxyPort: number;
let adminToken: string;
const figures: string[] = [];

before(async () => {
  db = await freshDatabase();
  proxyPort = await freePort();
  api = await startApi({
    pool: db.pool,
    port: 0,
    config: { logLevel: 'silent', maintenanceIntervalMs: 0 },
    signIn: {
      mode: 'dev',
      baseDomain: 'localhost',
      publicPort: proxyPort,
      devUsers: USERS.map((u) => `${u}:user`).join(','),
    },
  });
  store = api.store;
  sessions = new Sessions(db.pool);
  identity = new CountingIdentity(db.pool);
  proxy = await startProxy({
    pool: db.pool,
    store,
    port: proxyPort,
    identity,
    // A long cache: only a notification, never expiry, can make the proxy forget.
    config: { baseDomain: 'localhost', apiUpstream: api.url, authCacheMs: 60_000 },
  });
  adminToken = (await api.identity.createToken({ user: 'root', admin: true })).token;
  const demoPort = await freePort();
  demo = spawn(process.execPath, [join(ROOT, 'examples', 'demo', 'server.ts')], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(demoPort) },
    stdio: 'ignore',
  });
  const demoUrl = `http://127.0.0.1:${demoPort}`;
  await waitFor(
    () =>
      fetch(demoUrl).then(
        (r) => r.ok,
        () => false,
      ),
    20_000,
    'the demo tool to listen',
  );
  await store.create(
    'ToolDefinition',
    toolDefinition('demo', { access: { users: USERS, groups: [] } }),
  );
  for (const u of USERS) {
    await api.identity.upsertUser({ name: u });
    await makeReady(store, u, 'demo', demoUrl);
  }
  for (const u of USERS) await waitForRoute(proxy, `demo--${u}.localhost`);
});

after(async () => {
  console.log(`revocation figures: ${figures.join('; ')}`);
  await proxy?.close();
  await api?.close();
  demo?.kill();
  await db?.drop();
});

/** A WebSocket to the demo tool's echo through the proxy, open and echoing. */
async function openToolSocket(
  user: string,
  auth: { cookie?: string; token?: string },
): Promise<{ ws: WebSocket; closed: Promise<{ code: number; at: number }> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${proxyPort}/ws`, {
    headers: {
      host: `demo--${user}.localhost:${proxyPort}`,
      origin: `http://demo--${user}.localhost:${proxyPort}`,
      ...(auth.cookie ? { cookie: auth.cookie } : {}),
      ...(auth.token ? { authorization: `Bearer ${auth.token}` } : {}),
    },
  });
  const closed = new Promise<{ code: number; at: number }>((resolve) =>
    ws.on('close', (code) => resolve({ code, at: Date.now() })),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) =>
      reject(new Error(`upgrade answered ${res.statusCode}`)),
    );
    ws.once('error', reject);
  });
  const echoed = new Promise<string>((resolve) => ws.once('message', (d) => resolve(String(d))));
  ws.send('ping-through-proxy');
  assert.equal(await echoed, 'ping-through-proxy');
  return { ws, closed };
}

/** An API watch of the user's ToolInstances through the proxy; `ended` resolves when its stream ends. */
async function openWatch(
  user: string,
  auth: { token?: string; cookie?: string },
): Promise<{ ended: Promise<number>; abort: AbortController }> {
  const abort = new AbortController();
  const res = await request(
    `http://127.0.0.1:${proxyPort}${API}/namespaces/${user}/toolinstances?watch=true`,
    {
      headers: {
        host: `localhost:${proxyPort}`,
        ...(auth.token ? { authorization: `Bearer ${auth.token}` } : {}),
        ...(auth.cookie ? { cookie: auth.cookie } : {}),
      },
      signal: abort.signal,
    },
  );
  assert.equal(res.statusCode, 200);
  const chunks = res.body[Symbol.asyncIterator]();
  // The watch starts with the user's instance (ADDED): it is really open.
  const first = await chunks.next();
  assert.match(String(first.value ?? ''), /"ADDED"/);
  const ended = (async () => {
    try {
      while (!(await chunks.next()).done);
    } catch {
      // a cut connection ends it too
    }
    return Date.now();
  })();
  return { ended, abort };
}

/** `p`, or a failure naming `what` when it has not settled after `ms` (a never, not a slow). */
function settled<T>(p: Promise<T>, what: string, ms = 30_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The connection ended at most 5 s after the revocation committed, which was
 * before `committedBy` (the write returned; for the CLI, its process ended). When
 * the revocation ran in a CLI process, `startedAt` (its start) gives the figure
 * an upper bound that includes that process's start-up.
 */
function within(what: string, committedBy: number, at: number, startedAt?: number): void {
  const ms = at - committedBy;
  figures.push(
    startedAt === undefined
      ? `${what} ${ms} ms`
      : `${what} ${at - startedAt} ms after the CLI started (it returned after ${committedBy - startedAt} ms)`,
  );
  assert.ok(ms <= LIMIT_MS, `${what} took ${ms} ms after the revocation (limit ${LIMIT_MS} ms)`);
}

function cliEnv(token: string) {
  return {
    BERTH_SERVER: api.url,
    BERTH_TOKEN: token,
    BERTH_CONFIG: join(ROOT, '.no-such-config.yaml'),
  };
}

test('signing out closes the WebSocket of a tool-host session it issued within 5 s (1008)', async () => {
  const b = new Browser({ port: proxyPort });
  const csrf = await b.devSignIn('alice');
  const parent = await sessions.verifySession(b.jar.get('berth_session')!, 'localhost');
  assert.ok(parent);
  // The tool host's own session, as the handoff makes it: a child of berth's.
  const child = await sessions.createSession({
    user: 'alice',
    host: 'demo--alice.localhost',
    parentId: parent.sessionId,
    idleMs: 3_600_000,
    absoluteMs: 3_600_000,
  });
  assert.ok(child);
  const { closed } = await openToolSocket('alice', {
    cookie: `berth_session=${child.cookieValue}`,
  });
  const out = await b.send('POST', '/auth/sign-out', {
    headers: { 'x-berth-csrf': csrf, origin: `http://localhost:${proxyPort}` },
  });
  const revokedAt = Date.now();
  assert.equal(out.status, 200);
  const c = await settled(closed, 'the WebSocket to close');
  assert.equal(c.code, 1008, 'closed for policy');
  within('sign-out -> WebSocket closed', revokedAt, c.at);
});

test('revoking a token (berth token revoke) ends its API watch and its WebSocket within 5 s', async () => {
  const { id, token } = await api.identity.createToken({ user: 'bob', description: 'script' });
  // berth token list: your own, with id and description, never the secret.
  const list = await runBerth(['token', 'list'], { env: cliEnv(token) });
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^ID\s+USER\s+DESCRIPTION\s+CREATED\s+EXPIRES\s+LAST USED/);
  assert.match(list.stdout, new RegExp(`${id}\\s+bob\\s+script`));
  assert.match(list.stdout, /in 8\dd/, 'the default lifetime (90 days) shows as its expiry');
  assert.ok(!list.stdout.includes(token.slice(-20)), 'no secret in the list');
  const others = await runBerth(['token', 'list', '--all-users'], { env: cliEnv(token) });
  assert.notEqual(others.code, 0, "a user cannot list everyone's tokens");

  const watch = await openWatch('bob', { token });
  const { closed } = await openToolSocket('bob', { token });
  const cliStart = Date.now();
  const revoke = await runBerth(['token', 'revoke', id], { env: cliEnv(token) });
  const revokedAt = Date.now();
  assert.equal(revoke.code, 0, revoke.stderr);
  assert.match(revoke.stdout, new RegExp(`token ${id} revoked`));
  const c = await settled(closed, 'the WebSocket to close');
  assert.equal(c.code, 1008);
  within('token revoke -> WebSocket closed', revokedAt, c.at, cliStart);
  within(
    'token revoke -> watch ended',
    revokedAt,
    await settled(watch.ended, 'the watch to end'),
    cliStart,
  );
});

test('disabling a user (berth user disable) closes their WebSocket and watch, stops their tools and refuses sign-in', async () => {
  const { token } = await api.identity.createToken({ user: 'carol' });
  const b = new Browser({ port: proxyPort });
  await b.devSignIn('carol');
  const cookie = `berth_session=${b.jar.get('berth_session')}`;
  const watch = await openWatch('carol', { cookie });
  const { closed } = await openToolSocket('carol', { token });

  const cliStart = Date.now();
  const disable = await runBerth(['user', 'disable', 'carol'], { env: cliEnv(adminToken) });
  const revokedAt = Date.now();
  assert.equal(disable.code, 0, disable.stderr);
  assert.match(disable.stdout, /user\/carol disabled/);
  const c = await settled(closed, 'the WebSocket to close');
  within('user disable -> WebSocket closed', revokedAt, c.at, cliStart);
  within(
    'user disable -> watch ended',
    revokedAt,
    await settled(watch.ended, 'the watch to end'),
    cliStart,
  );

  const ti = await store.get('ToolInstance', 'carol', 'demo');
  assert.equal((ti.spec as { state: string }).state, 'Stopped', 'their tool is stopped');
  const events = await store.list('Event', { namespace: 'carol' });
  assert.ok(
    events.items.some((e) => (e as unknown as { reason: string }).reason === 'UserDisabled'),
    'an Event says why',
  );
  const users = await runBerth(['user', 'list'], { env: cliEnv(adminToken) });
  assert.match(users.stdout, /^NAME\s+EMAIL\s+GROUPS\s+ADMIN\s+DISABLED\s+AGE/);
  assert.match(users.stdout, /\ncarol\s+<none>\s+<none>\s+false\s+true\s+/);

  // Neither the old credentials nor a new sign-in or token work.
  const whoami = await fetch(`${api.url}${API}/whoami`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(whoami.status, 401);
  const again = await new Browser({ port: proxyPort }).postForm('/auth/dev-sign-in', {
    user: 'carol',
    next: '/',
  });
  assert.equal(again.status, 403);
  assert.match(again.text, /This account is disabled/);
  assert.doesNotMatch(again.text, /at .*\.ts:\d+/, 'no stack');
  const mint = await runBerth(['token', 'create', '--user', 'carol'], { env: cliEnv(adminToken) });
  assert.notEqual(mint.code, 0);
  assert.match(mint.stderr, /disabled/);

  // Enabling restores sign-in, not the old token.
  const enable = await runBerth(['user', 'enable', 'carol'], { env: cliEnv(adminToken) });
  assert.equal(enable.code, 0, enable.stderr);
  assert.equal(
    (await fetch(`${api.url}${API}/whoami`, { headers: { authorization: `Bearer ${token}` } }))
      .status,
    401,
  );
  const back = await new Browser({ port: proxyPort }).postForm('/auth/dev-sign-in', {
    user: 'carol',
    next: '/',
  });
  assert.equal(back.status, 303);
});

test("taking a user out of a ToolDefinition's access closes their WebSocket to it within 5 s", async () => {
  const { token } = await api.identity.createToken({ user: 'dave' });
  const { closed } = await openToolSocket('dave', { token });
  const def = await store.get('ToolDefinition', undefined, 'demo');
  await store.patch('ToolDefinition', undefined, 'demo', {
    spec: { access: { users: USERS.filter((u) => u !== 'dave'), groups: [] } },
  });
  const revokedAt = Date.now();
  const c = await settled(closed, 'the WebSocket to close');
  assert.equal(c.code, 1008);
  within('access removed -> WebSocket closed', revokedAt, c.at);
  await store.patch('ToolDefinition', undefined, 'demo', {
    spec: { access: (def.spec as { access: unknown }).access },
  });
});

test("a forged sign-out POST neither ends others' sessions nor empties the proxy's cache", async () => {
  const { token } = await api.identity.createToken({ user: 'erin' });
  const b = new Browser({ port: proxyPort });
  await b.devSignIn('erin');
  const erinCookie = b.jar.get('berth_session')!;
  const tool = async (headers: Record<string, string>) => {
    const r = await request(`http://127.0.0.1:${proxyPort}/`, {
      headers: { host: `demo--erin.localhost:${proxyPort}`, ...headers },
    });
    await r.body.dump();
    return r.statusCode;
  };
  assert.equal(await tool({ authorization: `Bearer ${token}` }), 200);
  const checks = identity.checks;
  const forger = new Browser({ port: proxyPort });
  // Cross-site, and "same-site" but with no session (a script can send any Origin).
  for (const origin of ['https://evil.example', `http://localhost:${proxyPort}`]) {
    const r = await forger.postForm('/_berth/sign-out', {}, origin);
    assert.ok(r.status === 403 || r.status === 303, `forged sign-out answered ${r.status}`);
    const a = await forger.send('POST', '/auth/sign-out', { headers: { origin } });
    assert.ok(a.status < 500);
  }
  assert.equal(await tool({ authorization: `Bearer ${token}` }), 200);
  assert.equal(identity.checks, checks, 'the cached answer stayed: nothing was flushed');
  assert.ok(await sessions.verifySession(erinCookie, 'localhost'), "erin's session lives on");
});
