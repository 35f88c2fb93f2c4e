// The audit log (issue 15, section 8): every hooked action leaves exactly one entry
// with the right actor, action and how; the log is append-only in the database;
// only admins read it; the retention sweep removes old entries only; and no
// secret (token, cookie, handoff code) reaches an entry or an audit log line.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { type RunningApi, startApi } from '../../api/index.ts';
import { KINDS } from '../../crds/index.ts';
import { type RunningProxy, startProxy } from '../../proxy/index.ts';
import { freePort, ResourceStore, recordAudit, recordAuditAfter } from '../../store/index.ts';
import { Browser } from '../api/sign-in-support.ts';
import { freshDatabase, type TestDatabase } from '../support/db.ts';
import { toolDefinition, toolInstance } from '../support/fixtures.ts';
import { waitFor } from '../support/wait.ts';

// biome-ignore lint/suspicious/noExplicitAny: entries are read as JSON and asserted on
type Json = any;

let db: TestDatabase;
let api: RunningApi;
let apiPort: number;
let proxy: RunningProxy;
let store: ResourceStore;
let adminToken: string;
let aliceToken: string;
/** Every line the API and the proxy logged. */
const logLines: string[] = [];
/** Every secret the test handled: none may appear in the table or the logs. */
const secrets: string[] = [];

before(async () => {
  db = await freshDatabase();
  apiPort = await freePort();
  api = await startApi({
    pool: db.pool,
    port: apiPort,
    config: { logLevel: 'info', maintenanceIntervalMs: 0 },
    signIn: {
      mode: 'dev',
      baseDomain: 'localhost',
      publicPort: apiPort,
      devUsers: ['alice', 'root:admin'],
    },
    logStream: { write: (line: string) => void logLines.push(line) },
  });
  store = new ResourceStore(db.pool, { kinds: [...KINDS] });
  proxy = await startProxy({
    pool: db.pool,
    store,
    port: 0,
    config: { baseDomain: 'localhost', authCacheMs: 0, activityFlushMs: 0 },
    log: {
      info: (o, m) => void logLines.push(JSON.stringify({ ...o, msg: m })),
      warn: (o, m) => void logLines.push(JSON.stringify({ ...o, msg: m })),
      error: (o, m) => void logLines.push(JSON.stringify({ ...o, msg: m })),
    },
  });
  adminToken = (await api.identity.createToken({ user: 'root', admin: true })).token;
  aliceToken = (await api.identity.createToken({ user: 'alice' })).token;
  secrets.push(adminToken, aliceToken);
  await store.create('ToolDefinition', toolDefinition('demo'));
  await waitFor(() => proxy.routes.definitions.has('demo'), 10_000, 'the proxy to see demo');
});

after(async () => {
  await proxy?.close();
  await store?.close();
  await api?.close();
  await db?.drop();
});

async function lastId(): Promise<number> {
  const { rows } = await db.pool.query<{ id: number | null }>(
    'select max(id) as id from audit_log',
  );
  return rows[0]?.id ?? 0;
}

/** Entries written after `since` (an id), oldest first. */
async function entriesAfter(since: number): Promise<Json[]> {
  const { rows } = await db.pool.query('select * from audit_log where id > $1 order by id', [
    since,
  ]);
  return rows;
}

function apiCall(
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; type?: string; agent?: string } = {},
) {
  return fetch(`${api.url}${path}`, {
    method,
    headers: {
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...(opts.body !== undefined ? { 'content-type': opts.type ?? 'application/json' } : {}),
      'user-agent': opts.agent ?? 'curl/8.5.0',
    },
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  });
}

const BASE = '/apis/berth/v1alpha1';

test('tokens: create and revoke each leave one entry naming the admin, the token id and how (cli)', async () => {
  const from = await lastId();
  const created = await apiCall('POST', `${BASE}/tokens`, {
    token: adminToken,
    body: { user: 'alice', expiresIn: '1d' },
    agent: 'berth-cli',
  });
  assert.equal(created.status, 201);
  const { id, token } = (await created.json()) as { id: string; token: string };
  secrets.push(token);
  const revoked = await apiCall('DELETE', `${BASE}/tokens/${id}`, { token: adminToken });
  assert.equal(revoked.status, 200);
  const e = await entriesAfter(from);
  assert.deepEqual(
    e.map((x) => [x.actor, x.action, x.how, x.target_kind, x.target_name, x.outcome]),
    [
      ['root', 'token.created', 'cli', 'Token', id, 'success'],
      ['root', 'token.revoked', 'api', 'Token', id, 'success'],
    ],
  );
  assert.equal(e[0].target_user, 'alice');
  assert.deepEqual(
    { ...e[0].detail, expiresAt: undefined },
    {
      admin: false,
      ttl: '1d',
      expiresAt: undefined,
    },
  );
  assert.ok(Date.parse(e[0].detail.expiresAt) > Date.now(), 'when it expires');
});

test('users: disable and enable each leave one entry naming the admin and the user', async () => {
  const made = await apiCall('POST', `${BASE}/tokens`, {
    token: adminToken,
    body: { user: 'frank' },
  });
  assert.equal(made.status, 201);
  secrets.push(((await made.json()) as { token: string }).token);
  const from = await lastId();
  for (const disabled of [true, false]) {
    const r = await apiCall('PATCH', `${BASE}/users/frank`, {
      token: adminToken,
      body: { disabled },
      agent: 'berth-cli',
    });
    assert.equal(r.status, 200, await r.text());
  }
  const e = await entriesAfter(from);
  assert.deepEqual(
    e.map((x) => [x.actor, x.action, x.how, x.target_kind, x.target_name, x.target_user]),
    [
      ['root', 'user.disabled', 'cli', 'User', 'frank', 'frank'],
      ['root', 'user.enabled', 'cli', 'User', 'frank', 'frank'],
    ],
  );
  assert.deepEqual(e[0].detail, { sessionsEnded: 0, apiKeysRevoked: 1, instancesStopped: 0 });
});

test('browser sign-in, a refused sign-in and sign-out: one entry each, how ui', async () => {
  const from = await lastId();
  const b = new Browser({ port: apiPort });
  const refused = await b.postForm('/auth/dev-sign-in', { user: 'mallory', next: '/' });
  assert.equal(refused.status, 400);
  const csrf = await b.devSignIn('alice');
  secrets.push(...b.jar.values(), csrf);
  const out = await b.send('POST', '/auth/sign-out', { headers: { 'x-berth-csrf': csrf } });
  assert.equal(out.status, 200);
  const e = await entriesAfter(from);
  assert.deepEqual(
    e.map((x) => [x.actor, x.action, x.how, x.outcome]),
    [
      ['anonymous', 'signin.failed', 'ui', 'failure'],
      ['alice', 'signin.succeeded', 'ui', 'success'],
      ['alice', 'signout', 'ui', 'success'],
    ],
  );
  assert.equal(e[0].detail.mode, 'dev');
  assert.ok(
    e.every((x) => x.client),
    'the client address is recorded',
  );
});

test('launches and stops through the API: how is ui for a session, cli for the berth CLI, api otherwise', async () => {
  const from = await lastId();
  // The web UI: a session cookie and a server-side apply.
  const b = new Browser({ port: apiPort });
  const csrf = await b.devSignIn('alice');
  secrets.push(...b.jar.values(), csrf);
  const applied = await b.send(
    'PATCH',
    `${BASE}/namespaces/alice/toolinstances/demo?fieldManager=berth-ui`,
    {
      headers: { 'content-type': 'application/apply-patch+json', 'x-berth-csrf': csrf },
      body: JSON.stringify(toolInstance('alice', 'demo', 'demo', { state: 'Running' })),
    },
  );
  assert.equal(applied.status, 201, applied.text);
  const path = `${BASE}/namespaces/alice/toolinstances/demo`;
  const merge = 'application/merge-patch+json';
  // The CLI stops it, then launches it again.
  for (const state of ['Stopped', 'Running']) {
    const r = await apiCall('PATCH', path, {
      token: aliceToken,
      type: merge,
      agent: 'berth-cli',
      body: { spec: { state, launchRequestedAt: new Date().toISOString() } },
    });
    assert.equal(r.status, 200);
  }
  // Another client asks for a relaunch while it runs (a new launchRequestedAt).
  const again = await apiCall('PATCH', path, {
    token: aliceToken,
    type: merge,
    body: { spec: { launchRequestedAt: new Date(Date.now() + 1000).toISOString() } },
  });
  assert.equal(again.status, 200);
  // Not launches or stops: a label, a status write (the controllers'), a dry run, a no-op.
  await apiCall('PATCH', path, {
    token: aliceToken,
    type: merge,
    body: { metadata: { labels: { a: 'b' } } },
  });
  await apiCall('PATCH', `${path}/status`, {
    token: adminToken,
    type: merge,
    body: { status: { phase: 'Starting' } },
  });
  await apiCall('PATCH', `${path}?dryRun=All`, {
    token: aliceToken,
    type: merge,
    body: { spec: { state: 'Stopped' } },
  });
  await apiCall('PATCH', path, {
    token: aliceToken,
    type: merge,
    body: { spec: { state: 'Running' } },
  });
  const deleted = await apiCall('DELETE', path, { token: aliceToken });
  assert.equal(deleted.status, 200);
  const e = await entriesAfter(from);
  const instanceEntries = e.filter((x) => x.target_kind === 'ToolInstance');
  assert.deepEqual(
    instanceEntries.map((x) => [x.actor, x.action, x.how, x.target_namespace, x.target_name]),
    [
      ['alice', 'instance.launched', 'ui', 'alice', 'demo'],
      ['alice', 'instance.stopped', 'cli', 'alice', 'demo'],
      ['alice', 'instance.launched', 'cli', 'alice', 'demo'],
      ['alice', 'instance.launched', 'api', 'alice', 'demo'],
      ['alice', 'instance.deleted', 'api', 'alice', 'demo'],
    ],
  );
  assert.equal(instanceEntries[0].target_user, 'alice');
  assert.deepEqual(instanceEntries[0].detail, { tool: 'demo' });
});

test('admin writes to ToolDefinitions: created, updated, deleted', async () => {
  const from = await lastId();
  const path = `${BASE}/tooldefinitions`;
  assert.equal(
    (await apiCall('POST', path, { token: adminToken, body: toolDefinition('notes') })).status,
    201,
  );
  const patched = await apiCall('PATCH', `${path}/notes`, {
    token: adminToken,
    type: 'application/merge-patch+json',
    body: { spec: { displayName: 'Notes' } },
  });
  assert.equal(patched.status, 200);
  assert.equal((await apiCall('DELETE', `${path}/notes`, { token: adminToken })).status, 200);
  // A refused write leaves nothing: alice may not write definitions.
  assert.equal(
    (await apiCall('POST', path, { token: aliceToken, body: toolDefinition('nope') })).status,
    403,
  );
  const e = await entriesAfter(from);
  assert.deepEqual(
    e.map((x) => [x.actor, x.action, x.how, x.target_kind, x.target_name]),
    [
      ['root', 'tooldefinition.created', 'api', 'ToolDefinition', 'notes'],
      ['root', 'tooldefinition.updated', 'api', 'ToolDefinition', 'notes'],
      ['root', 'tooldefinition.deleted', 'api', 'ToolDefinition', 'notes'],
    ],
  );
});

function proxyRequest(
  host: string,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
  body?: string,
) {
  return request(`${proxy.url}${path}`, {
    method: method as 'GET',
    headers: { host: `${host}:${proxy.port}`, ...headers },
    ...(body !== undefined ? { body } : {}),
  });
}

test('the proxy: token sign-in (good and bad), launch on visit, tool open, sign-out', async () => {
  const from = await lastId();
  const origin = `http://localhost:${proxy.port}`;
  const form = { 'content-type': 'application/x-www-form-urlencoded', origin };
  const bad = await proxyRequest(
    'localhost',
    '/_berth/sign-in',
    form,
    'POST',
    'token=berth_0123456789abcdef_nope&next=/',
  );
  await bad.body.dump();
  assert.equal(bad.statusCode, 401);
  const good = await proxyRequest(
    'localhost',
    '/_berth/sign-in',
    form,
    'POST',
    new URLSearchParams({ token: aliceToken, next: '/' }).toString(),
  );
  await good.body.dump();
  assert.equal(good.statusCode, 303);
  const cookie = String(good.headers['set-cookie']).split(';')[0]!;
  secrets.push(cookie.split('=')[1]!);

  // A visit to a tool that is not running launches it.
  const visit = await proxyRequest('demo--alice.localhost', '/', {
    authorization: `Bearer ${aliceToken}`,
    accept: 'text/html',
  });
  await visit.body.dump();
  assert.equal(visit.statusCode, 202);

  // The handoff: the tool host sets this browser's state and sends it to berth's
  // host, which issues a code; the tool host's callback opens the tool.
  const start = await proxyRequest('demo--alice.localhost', '/', { accept: 'text/html' });
  await start.body.dump();
  assert.equal(start.statusCode, 302);
  const stateCookie = String(start.headers['set-cookie']).split(';')[0]!;
  secrets.push(stateCookie.split('=')[1]!);
  const at = new URL(String(start.headers.location));
  const handoff = await proxyRequest('localhost', `${at.pathname}${at.search}`, { cookie });
  await handoff.body.dump();
  assert.equal(handoff.statusCode, 302);
  const cb = new URL(String(handoff.headers.location));
  secrets.push(cb.searchParams.get('code')!);
  const opened = await proxyRequest('demo--alice.localhost', `${cb.pathname}${cb.search}`, {
    cookie: stateCookie,
  });
  await opened.body.dump();
  assert.equal(opened.statusCode, 302);
  secrets.push(String(opened.headers['set-cookie']).split(';')[0]!.split('=')[1]!);

  const out = await proxyRequest('localhost', '/_berth/sign-out', { origin, cookie }, 'POST');
  await out.body.dump();
  assert.equal(out.statusCode, 303);

  const e = await entriesAfter(from);
  assert.deepEqual(
    e.map((x) => [x.actor, x.action, x.how, x.target_kind, x.target_namespace, x.target_name]),
    [
      ['anonymous', 'signin.failed', 'ui', null, null, null],
      ['alice', 'signin.succeeded', 'ui', null, null, null],
      ['alice', 'instance.launched', 'visit', 'ToolInstance', 'alice', 'demo'],
      ['alice', 'tool.opened', 'visit', 'ToolInstance', 'alice', 'demo'],
      ['alice', 'signout', 'ui', null, null, null],
    ],
  );
  assert.equal(e[0].outcome, 'failure');
  assert.match(e[2].client, /^(127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)$/);
});

test('GET audit: admins only; filters by user, action prefix and since; pages with continue', async () => {
  const refused = await apiCall('GET', `${BASE}/audit`, { token: aliceToken });
  assert.equal(refused.status, 403);
  assert.match(((await refused.json()) as Json).message, /cannot read the audit log/);

  const all = (await (
    await apiCall('GET', `${BASE}/audit?limit=1000`, { token: adminToken })
  ).json()) as Json;
  assert.equal(all.kind, 'AuditEntryList');
  const ids = all.items.map((x: Json) => Number(x.id));
  assert.deepEqual(
    ids,
    [...ids].sort((a: number, b: number) => b - a),
    'newest first',
  );

  const launches = (await (
    await apiCall('GET', `${BASE}/audit?user=alice&action=instance.`, { token: adminToken })
  ).json()) as Json;
  assert.ok(launches.items.length >= 5);
  assert.ok(launches.items.every((x: Json) => x.action.startsWith('instance.')));
  assert.ok(launches.items.every((x: Json) => x.actor === 'alice' || x.target?.user === 'alice'));
  // user= also finds what was done to something of theirs: root's token for alice.
  const aboutAlice = (await (
    await apiCall('GET', `${BASE}/audit?user=alice&action=token`, { token: adminToken })
  ).json()) as Json;
  assert.deepEqual(
    aboutAlice.items.map((x: Json) => [x.actor, x.action]),
    [['root', 'token.created']],
  );

  const future = new Date(Date.now() + 60_000).toISOString();
  const none = (await (
    await apiCall('GET', `${BASE}/audit?since=${encodeURIComponent(future)}`, { token: adminToken })
  ).json()) as Json;
  assert.deepEqual(none.items, []);
  const recent = (await (
    await apiCall('GET', `${BASE}/audit?since=1h`, { token: adminToken })
  ).json()) as Json;
  assert.equal(recent.items.length, Math.min(all.items.length, 100));

  // Pages of 2 walk the whole log once, newest first.
  const walked: string[] = [];
  let next: string | undefined;
  do {
    const q = new URLSearchParams({ limit: '2', ...(next ? { continue: next } : {}) });
    const page = (await (
      await apiCall('GET', `${BASE}/audit?${q}`, { token: adminToken })
    ).json()) as Json;
    walked.push(...page.items.map((x: Json) => x.id));
    next = page.metadata.continue;
  } while (next);
  assert.deepEqual(
    walked,
    all.items.map((x: Json) => x.id),
  );

  for (const [q, field] of [
    ['since=yesterday', 'since'],
    ['limit=0', 'limit'],
    ['action=DROP%20TABLE', 'action'],
    ['continue=nonsense', 'continue'],
    ['colour=red', 'colour'],
  ] as const) {
    const r = await apiCall('GET', `${BASE}/audit?${q}`, { token: adminToken });
    assert.equal(r.status, 400, q);
    assert.match(((await r.json()) as Json).message, new RegExp(field), q);
  }
  assert.equal((await apiCall('DELETE', `${BASE}/audit`, { token: adminToken })).status, 405);
});

test('the database refuses UPDATE, DELETE and TRUNCATE of the audit log', async () => {
  const before = await lastId();
  assert.ok(before > 0);
  await assert.rejects(
    db.pool.query(`update audit_log set actor = 'nobody' where id = $1`, [before]),
    /append-only: UPDATE refused/,
  );
  await assert.rejects(db.pool.query('delete from audit_log'), /append-only: DELETE refused/);
  await assert.rejects(db.pool.query('truncate audit_log'), /append-only: TRUNCATE refused/);
  // A sweep's setting does not let through rows newer than its cutoff.
  const c = await db.pool.connect();
  try {
    await c.query('begin');
    await c.query(`select set_config('berth.audit_sweep_before', '2000-01-01T00:00:00Z', true)`);
    await assert.rejects(c.query('delete from audit_log'), /append-only: DELETE refused/);
  } finally {
    await c.query('rollback');
    c.release();
  }
  assert.equal(await lastId(), before);
  const { rows } = await db.pool.query(
    'select count(*)::int as n from audit_log where actor = $1',
    ['nobody'],
  );
  assert.equal(rows[0].n, 0);
});

test('the retention sweep removes entries older than the retention, and only those', async () => {
  await db.pool.query(
    `insert into audit_log (at, actor, action, how, outcome)
     values (now() - interval '401 days', 'old', 'signout', 'ui', 'success'),
            (now() - interval '399 days', 'kept', 'signout', 'ui', 'success')`,
  );
  const count = async () =>
    (await db.pool.query('select count(*)::int as n from audit_log')).rows[0].n as number;
  const total = await count();
  assert.equal(await store.sweepAudit(), 1, 'the default retention is 400 days');
  assert.equal(await count(), total - 1);
  const { rows } = await db.pool.query(
    `select actor from audit_log where actor in ('old', 'kept')`,
  );
  assert.deepEqual(
    rows.map((r) => r.actor),
    ['kept'],
  );
  assert.equal(await store.sweepAudit(398 * 24 * 3_600_000), 1);
  assert.equal(await count(), total - 2);
});

test('the writer refuses an entry that would hold a secret, and its failure line does not repeat it', async () => {
  const from = await lastId();
  const base = { actor: 'alice', action: 'signin.failed', how: 'ui' } as const;
  for (const detail of [
    { token: 'x' },
    { sessionCookie: 'x' },
    { note: aliceToken },
    { deep: [{ password: 'x' }] },
  ]) {
    await assert.rejects(recordAudit(db.pool, { ...base, detail }), /must not hold a secret/);
  }
  await assert.rejects(recordAudit(db.pool, { ...base, actor: 'Robert; drop table' }), /actor/);
  const lines: string[] = [];
  const log = {
    info: (o: object) => void lines.push(JSON.stringify(o)),
    error: (o: object) => void lines.push(JSON.stringify(o)),
  };
  await recordAuditAfter(db.pool, { ...base, detail: { given: aliceToken } }, log);
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /auditNotWritten/);
  assert.ok(!lines[0]!.includes(aliceToken));
  assert.equal(await lastId(), from, 'nothing written');
});

test('no secret in any entry or log line: tokens, cookies, CSRF tokens, handoff codes', async () => {
  assert.ok(secrets.length >= 8, 'the other tests handled secrets');
  const { rows } = await db.pool.query('select * from audit_log');
  const table = JSON.stringify(rows);
  const auditLines = logLines.filter((l) => l.includes('"audit"'));
  assert.ok(
    auditLines.length >= rows.length - 2,
    'every entry was logged (but the two inserted by hand)',
  );
  for (const line of auditLines) {
    const parsed = JSON.parse(line) as Json;
    assert.ok(parsed.audit.action && parsed.audit.actor, line);
  }
  const logs = logLines.join('\n');
  for (const s of secrets) {
    assert.ok(s.length >= 16, 'a real secret');
    assert.ok(!table.includes(s), 'a secret in the audit table');
    assert.ok(!logs.includes(s), 'a secret in a log line');
    // The secret half of a token alone, too.
    const half = s.startsWith('berth_') ? s.split('_').slice(2).join('_') : s;
    assert.ok(!table.includes(half) && !logs.includes(half));
  }
});
