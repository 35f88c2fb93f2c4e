// Wall: Prometheus discovery needs its own token. The targets list names every
// running task's address and whose it is; only a caller holding
// BERTH_PROMETHEUS_SD_TOKEN gets it. No token, a wrong one, a near miss, and a
// user's or even an admin's API token or session get 401 and no target; the
// token never reaches the API's log.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { type RunningApi, startApi } from '../../api/index.ts';
import { freshDatabase, type TestDatabase } from '../support/db.ts';
import { toolDefinition, toolInstance } from '../support/fixtures.ts';

const PATH = '/apis/berth/v1alpha1/prometheus-targets';
const SD_TOKEN = 'prom-sd-7f3a9c1e5b2d4f6a8c0e1b3d5f7a9c1e';
const ADDRESS = '10.9.8.7';
let db: TestDatabase;
let api: RunningApi;
const logLines: string[] = [];

before(async () => {
  db = await freshDatabase();
  api = await startApi({
    pool: db.pool,
    port: 0,
    signIn: false,
    config: { logLevel: 'trace', prometheusSdToken: SD_TOKEN },
    logStream: new Writable({
      write(chunk, _enc, done) {
        logLines.push(String(chunk));
        done();
      },
    }),
  });
  await api.store.create(
    'ToolDefinition',
    toolDefinition('demo', {
      sidecars: [{ name: 'metrics', image: 'berth/metrics:latest', port: 8889 }],
    }) as never,
  );
  await api.store.create('ToolInstance', toolInstance('alice', 'demo') as never);
  const got = await api.store.get('ToolInstance', 'alice', 'demo');
  await api.store.updateStatus('ToolInstance', {
    ...got,
    status: { phase: 'Ready', endpoint: `http://${ADDRESS}:8888` },
  } as never);
});

after(async () => {
  await api?.close();
  await db?.drop();
});

async function get(authorization: string | undefined) {
  const res = await fetch(api.url + PATH, {
    headers: authorization === undefined ? {} : { authorization },
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

test('no token, a wrong token, a near miss, a user token and an admin token get 401 and no target', async () => {
  const alice = (await api.identity.createToken({ user: 'alice' })).token;
  const admin = (await api.identity.createToken({ user: 'root', admin: true })).token;
  const refused: [string, string | undefined][] = [
    ['no Authorization header', undefined],
    ['an empty bearer', 'Bearer '],
    ['a wrong token', `Bearer ${'x'.repeat(SD_TOKEN.length)}`],
    ['the token less its last character', `Bearer ${SD_TOKEN.slice(0, -1)}`],
    ['the token and more', `Bearer ${SD_TOKEN}0`],
    ['the token in another case', `Bearer ${SD_TOKEN.toUpperCase()}`],
    ['the token as Basic', `Basic ${Buffer.from(`prometheus:${SD_TOKEN}`).toString('base64')}`],
    ["a user's API token", `Bearer ${alice}`],
    ["an admin's API token", `Bearer ${admin}`],
  ];
  for (const [what, authorization] of refused) {
    const r = await get(authorization);
    assert.equal(r.status, 401, what);
    assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/, what);
    assert.ok(!r.text.includes(ADDRESS), `${what}: no target in the answer`);
    assert.equal(JSON.parse(r.text).kind, 'Status', what);
  }
  const ok = await get(`Bearer ${SD_TOKEN}`);
  assert.equal(ok.status, 200);
  assert.ok(ok.text.includes(`${ADDRESS}:8889`), 'the right token gets the target');
});

test("a browser's session cookie gets 401 and no target", async () => {
  const r = await fetch(api.url + PATH, { headers: { cookie: 'berth_session=anything' } });
  assert.equal(r.status, 401);
  assert.ok(!(await r.text()).includes(ADDRESS));
});

test("the token never reaches the API's log", async () => {
  await get(`Bearer ${SD_TOKEN}`);
  await get(`Bearer ${SD_TOKEN}x`);
  assert.ok(logLines.length > 0, 'the API logged the requests');
  for (const line of logLines) assert.ok(!line.includes(SD_TOKEN.slice(8)), line);
});
