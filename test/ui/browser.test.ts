// The web UI in a real browser (playwright-core driving Chromium) against the
// whole stack: PostgreSQL, ecs-local running the demo tool, the controllers,
// the API with the development sign-in, and the proxy in front on berth's host.
// Sign in, launch the demo, watch it become Ready, open it through the proxy
// (the handoff included), stop it, and the admin view. Screenshots go to
// test-results/screenshots/.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { parse } from 'yaml';
import { type RunningApi, startApi } from '../../api/index.ts';
import { type RunningProxy, startProxy } from '../../proxy/index.ts';
import { freePort } from '../../store/index.ts';
import { type Env, examples, startEnv } from '../controllers/reconcile-support.ts';

const root = join(import.meta.dirname, '..', '..');
export const SCREENSHOTS = join(root, 'test-results', 'screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // *.localhost is loopback in Chromium already; this makes sure of it.
  '--host-resolver-rules=MAP *.localhost 127.0.0.1, MAP localhost 127.0.0.1',
];

let env: Env;
let api: RunningApi;
let proxy: RunningProxy;
let browser: Browser;
let origin: string;
let proxyPort: number;

before(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `no Chromium at ${CHROMIUM}: run \`make chromium\` (Debian's chromium) or set CHROMIUM_PATH`,
    );
  mkdirSync(SCREENSHOTS, { recursive: true });
  env = await startEnv({ addressOctet: 31 });
  proxyPort = await freePort();
  origin = `http://localhost:${proxyPort}`;
  api = await startApi({
    pool: env.db.pool,
    store: env.store,
    port: 0,
    config: { logLevel: 'silent', maintenanceIntervalMs: 0 },
    signIn: {
      mode: 'dev',
      devUsers: ['alice', 'root:admin', 'erin'],
      baseDomain: 'localhost',
      publicPort: proxyPort,
    },
  });
  proxy = await startProxy({
    pool: env.db.pool,
    store: env.store,
    port: proxyPort,
    config: { baseDomain: 'localhost', apiUpstream: api.url, authCacheMs: 0 },
  });
  const demo = parse(readFileSync(join(examples, 'demo.yaml'), 'utf8'));
  await env.store.create('ToolDefinition', demo);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
});

after(async () => {
  await browser?.close();
  await proxy?.close();
  await api?.close();
  await env?.close();
});

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

async function signIn(page: Page, user: string): Promise<void> {
  await page.goto(`${origin}/`);
  assert.match(page.url(), /\/auth\/sign-in/);
  await page.getByRole('radio', { name: new RegExp(`^${user}\\b`) }).check();
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${origin}/`);
  await page.getByText(`Signed in as ${user}`).waitFor();
}

test('sign in, launch the demo, watch it become Ready, open it through the proxy, stop it', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('response', (r) => {
    // The browser asks every host for /favicon.ico by itself; that 404 is not the UI's.
    if (r.status() >= 400 && !r.url().endsWith('/favicon.ico'))
      errors.push(`${r.status()} ${r.url()}`);
  });
  try {
    await page.goto(`${origin}/`);
    await page.getByText('Development sign-in').first().waitFor();
    await shot(page, '01-sign-in');
    await signIn(page, 'alice');
    await page.locator('.dev-banner').waitFor();
    const card = page.locator('[data-tool="demo"]');
    await card.getByText('A tiny web page').waitFor();
    await card.getByLabel('Size').selectOption('small');
    await card.getByRole('button', { name: 'Launch Demo' }).click();
    const instance = page.locator('[data-instance="demo"]');
    await instance.waitFor();
    await shot(page, '02-starting');
    assert.equal(await page.evaluate(() => localStorage.getItem('berth.size.demo')), 'small');
    await page.locator('[data-instance="demo"][data-phase="Ready"]').waitFor({ timeout: 60_000 });
    await shot(page, '03-ready');
    // The "Launching demo…" notice goes once the tool is Ready.
    await page.waitForFunction(() => document.getElementById('notice')?.textContent === '', null, {
      timeout: 5_000,
    });
    // No horizontal scrolling on a laptop screen.
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    assert.ok(overflow <= 0, `page scrolls sideways by ${overflow}px`);

    // Open: the tool host has no session yet, so the proxy hands off through berth's host.
    const open = instance.getByRole('link', { name: 'Open demo' });
    assert.equal(await open.getAttribute('href'), `http://demo--alice.localhost:${proxyPort}/`);
    await open.click();
    await page.waitForURL(`http://demo--alice.localhost:${proxyPort}/`);
    await page.getByText('Hello, alice').waitFor({ timeout: 30_000 });
    await shot(page, '04-tool-through-proxy');
    const toolCookies = await context.cookies(`http://demo--alice.localhost:${proxyPort}/`);
    assert.ok(
      toolCookies.some((c) => c.name === 'berth_session' && c.domain === 'demo--alice.localhost'),
      'a host-only session on the tool host',
    );
    assert.ok(
      !toolCookies.some((c) => c.name.startsWith('berth_handoff_')),
      "the handoff's state cookie was used and cleared",
    );

    await page.goto(`${origin}/`);
    await instance.getByRole('button', { name: 'Stop demo' }).click();
    await page.locator('[data-instance="demo"][data-phase="Stopped"]').waitFor({ timeout: 30_000 });
    await shot(page, '05-stopped');
    assert.deepEqual(errors, [], 'no errors in the page');
  } finally {
    await context.close();
  }
});

test('the admin view shows every instance and recent events', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  try {
    await signIn(page, 'root');
    const admin = page.locator('#admin');
    await admin.waitFor();
    const row = page.locator('[data-admin-instance="alice/demo"]');
    await row.waitFor();
    await row.getByText('Stopped').waitFor();
    await page.locator('#admin-events').getByText('TaskLaunched').first().waitFor();
    await shot(page, '06-admin');
    // An ordinary user has no admin view.
    const other = await context.browser()!.newContext();
    const p2 = await other.newPage();
    await signIn(p2, 'alice');
    assert.equal(await p2.locator('#admin').isVisible(), false);
    await other.close();
  } finally {
    await context.close();
  }
});

test("the admin's audit log: alice's launch, open and stop from the first test, and its filters", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await signIn(page, 'root');
    const log = page.locator('#audit-entries');
    const launched = log.locator('tr[data-audit-action="instance.launched"]').first();
    await launched.waitFor();
    const cells = await launched.locator('td').allTextContents();
    assert.deepEqual(cells.slice(1, 5), [
      'alice',
      'instance.launched',
      'ToolInstance/alice/demo',
      'ui',
    ]);
    await log.locator('tr[data-audit-action="tool.opened"]').first().waitFor();
    await log.locator('tr[data-audit-action="instance.stopped"]').first().waitFor();
    await log.locator('tr[data-audit-action="signin.succeeded"]').first().waitFor();
    await shot(page, '07-audit');
    assert.equal(await page.locator('#audit-older').isVisible(), false, 'no older page');
    // Filter: alice's tool opens only.
    const form = page.getByRole('form', { name: 'Filter the audit log' });
    await form.getByLabel('User').fill('alice');
    await form.getByLabel('Action').fill('tool.');
    await form.getByLabel('Since').fill('1h');
    await form.getByRole('button', { name: 'Show' }).click();
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll('#audit-entries tbody tr')].every(
          (r) => r.getAttribute('data-audit-action') === 'tool.opened',
        ),
      null,
      { timeout: 10_000 },
    );
    assert.ok((await log.locator('tbody tr').count()) >= 1);
    assert.deepEqual(errors, [], 'no errors in the page');
  } finally {
    await context.close();
  }
});

test('an admin disables a user from the admin view: their session ends and sign-in is refused; enabling lets them back', async () => {
  const erinContext = await browser.newContext();
  const rootContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const erin = await erinContext.newPage();
    await signIn(erin, 'erin');
    const page = await rootContext.newPage();
    await signIn(page, 'root');
    const row = page.locator('[data-admin-user="erin"]');
    await row.waitFor();
    await row.getByRole('button', { name: 'Disable erin' }).click();
    await page.locator('[data-admin-user="erin"][data-disabled="true"]').waitFor();
    await shot(page, '08-admin-user-disabled');
    // Her session is gone: the UI sends her to sign in, and signing in is refused.
    await erin.reload();
    await erin.waitForURL(/\/auth\/sign-in/);
    await erin.getByRole('radio', { name: /^erin\b/ }).check();
    await erin.getByRole('button', { name: 'Sign in' }).click();
    await erin.getByText('This account is disabled').waitFor();
    await page
      .locator('[data-admin-user="erin"]')
      .getByRole('button', { name: 'Enable erin' })
      .click();
    await page.locator('[data-admin-user="erin"][data-disabled="false"]').waitFor();
    await signIn(erin, 'erin');
  } finally {
    await erinContext.close();
    await rootContext.close();
  }
});

test('a bookmarked tool link, before any sign-in: sign in, then the starting page turns into the tool', async () => {
  // The instance is Stopped from the first test: the visit itself launches it.
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const toolUrl = `http://demo--alice.localhost:${proxyPort}/`;
  const toolStatuses: number[] = [];
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('response', (r) => {
    if (r.url() === toolUrl) toolStatuses.push(r.status());
    if (r.status() >= 400 && !r.url().endsWith('/favicon.ico'))
      errors.push(`${r.status()} ${r.url()}`);
  });
  try {
    await page.goto(toolUrl);
    // No session anywhere yet: the tool host hands off to berth's host, which asks for sign-in.
    await page.waitForURL(new RegExp(`^${origin}/auth/sign-in\\?`));
    await page.getByRole('radio', { name: /^alice\b/ }).check();
    await page.getByRole('button', { name: 'Sign in' }).click();
    // The form's redirects end on the tool host (CSP form-action must allow it): its own
    // host-only cookie, the starting page (the visit launched the tool), then the tool.
    await page.waitForURL(toolUrl);
    await page.getByText('Hello, alice').waitFor({ timeout: 60_000 });
    await shot(page, '07-bookmarked-link');
    assert.equal(toolStatuses[0], 302, 'the first visit is sent to sign in');
    assert.ok(toolStatuses.includes(202), `a starting page was shown (statuses ${toolStatuses})`);
    assert.equal(toolStatuses.at(-1), 200);
    const instance = await env.store.get('ToolInstance', 'alice', 'demo');
    assert.equal((instance?.spec as { state?: string } | undefined)?.state, 'Running');
    assert.deepEqual(errors, [], 'no errors in the page');
  } finally {
    await context.close();
  }
});

test('a launch over the quota: the web UI shows the refusal, naming the quota', async () => {
  // alice's demo runs (the test before); her quota allows one instance.
  const demo = parse(readFileSync(join(examples, 'demo.yaml'), 'utf8'));
  await env.store.create('ToolDefinition', {
    ...demo,
    metadata: { name: 'other' },
    spec: { ...demo.spec, displayName: 'Other' },
  });
  await env.store.create('Quota', {
    apiVersion: 'berth/v1alpha1',
    kind: 'Quota',
    metadata: { name: 'one-each' },
    spec: { appliesTo: { users: ['alice'] }, maxRunningInstances: 1 },
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  try {
    await signIn(page, 'alice');
    await page.locator('[data-instance="demo"]').waitFor();
    await page.locator('[data-tool="other"]').getByRole('button', { name: 'Launch Other' }).click();
    await page
      .locator('#notice')
      .getByText(
        'Could not launch other: quota "one-each": at most 1 running instance per user (you have 1: demo)',
      )
      .waitFor();
    await shot(page, '08-over-quota');
    assert.equal(await page.locator('[data-instance="other"]').count(), 0, 'nothing launched');
  } finally {
    await context.close();
  }
});
