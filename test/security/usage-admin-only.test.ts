// Usage is for admins only: what every user ran, for how long and at what size is
// none of another user's business. A user cannot read it through the API (with a
// token or a browser session, any grouping, any path spelling), and the web UI
// shows them no Usage page and asks for nothing.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { type RunningApi, startApi } from '../../api/index.ts';
import { freePort, recordTaskStart } from '../../store/index.ts';
import { Browser } from '../api/sign-in-support.ts';
import { freshDatabase, type TestDatabase } from '../support/db.ts';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const BASE = '/apis/berth/v1alpha1';

let db: TestDatabase;
let api: RunningApi;
let port: number;
let adminToken: string;
let aliceToken: string;

before(async () => {
  db = await freshDatabase();
  port = await freePort();
  api = await startApi({
    pool: db.pool,
    port,
    config: { logLevel: 'silent', maintenanceIntervalMs: 0 },
    signIn: {
      mode: 'dev',
      devUsers: ['alice', 'root:admin'],
      baseDomain: 'localhost',
      publicPort: port,
    },
  });
  adminToken = (await api.identity.createToken({ user: 'root', admin: true })).token;
  aliceToken = (await api.identity.createToken({ user: 'alice' })).token;
  // bob's secret project: a tool alice must not learn he ran.
  await recordTaskStart(db.pool, {
    taskArn: 'arn:aws:ecs:eu-west-2:000000000000:task/berth/bob1',
    namespace: 'bob',
    instanceName: 'merger-model',
    instanceUid: '2c4e6a8b-0d1f-4e3a-9b5c-7d9f1b3d5e7a',
    tool: 'merger-model',
    size: 'large',
    cpuUnits: 4096,
    memoryMib: 16384,
    startedAt: new Date(Date.now() - 3_600_000),
    exact: true,
  });
});

after(async () => {
  await api?.close();
  await db?.drop();
});

function get(path: string, headers: Record<string, string> = {}) {
  return fetch(`${api.url}${path}`, { headers });
}

test('an admin reads usage (the wall is not just everyone refused)', async () => {
  const r = await get(`${BASE}/usage?since=1d&by=tool`, { authorization: `Bearer ${adminToken}` });
  assert.equal(r.status, 200);
  assert.match(await r.text(), /merger-model/);
});

test('a user’s token: 403 for every grouping and spelling, and nothing of the figures', async () => {
  const auth = { authorization: `Bearer ${aliceToken}` };
  for (const by of ['user', 'tool', 'day', 'day-tool']) {
    const r = await get(`${BASE}/usage?since=1d&by=${by}`, auth);
    const text = await r.text();
    assert.equal(r.status, 403, `by=${by}: ${text}`);
    assert.equal(JSON.parse(text).message, 'user "alice" cannot read usage: admin only');
    assert.doesNotMatch(text, /merger-model|bob|vcpuHours/);
  }
  // Refused before the parameters are looked at: a bad query says nothing either.
  const bad = await get(`${BASE}/usage?since=never`, auth);
  assert.equal(bad.status, 403);
  for (const path of [
    `${BASE}/usage/?since=1d`,
    `${BASE}/usage%3Fsince=1d`,
    `${BASE}/namespaces/alice/usage?since=1d`,
    `${BASE}/namespaces/bob/usage?since=1d`,
    `${BASE}//usage?since=1d`,
  ]) {
    const r = await get(path, auth);
    const text = await r.text();
    assert.ok(r.status === 403 || r.status === 404, `${path}: ${r.status} ${text}`);
    assert.doesNotMatch(text, /merger-model|vcpuHours/, path);
  }
});

test('a user’s browser session (the UI’s way in): 403', async () => {
  const b = new Browser({ port });
  await b.devSignIn('alice');
  const r = await b.get(`${BASE}/usage?since=1d&by=tool`);
  assert.equal(r.status, 403, r.text);
  assert.doesNotMatch(r.text, /merger-model/);
});

test('the web UI shows a user no Usage page and asks for no usage', async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`no Chromium at ${CHROMIUM}: run \`make chromium\` or set CHROMIUM_PATH`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--host-resolver-rules=MAP localhost 127.0.0.1'],
  });
  try {
    const page = await browser.newPage();
    const asked: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes(`${BASE}/usage`)) asked.push(r.url());
    });
    const origin = `http://localhost:${port}`;
    await page.goto(`${origin}/`);
    await page.getByRole('radio', { name: /^alice\b/ }).check();
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${origin}/`);
    await page.getByText('Signed in as alice').waitFor();
    await page.goto(`${origin}/#usage`);
    await page.getByText('Signed in as alice').waitFor();
    await page.getByRole('heading', { name: 'Your tools' }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'Usage' }).count(), 0, 'no Usage link');
    assert.equal(await page.locator('#page-usage').isVisible(), false, 'no Usage page');
    // What is shown, not the hidden page's headings: innerText on purpose.
    // biome-ignore lint/performance/useDomNodeTextContent: rendered text is what a user sees
    assert.doesNotMatch(await page.locator('body').innerText(), /merger-model|vCPU-hours/);
    assert.deepEqual(asked, []);
  } finally {
    await browser.close();
  }
});
