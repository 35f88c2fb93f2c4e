// The Data page in a real browser (playwright-core driving Chromium) against the
// API with the development sign-in on a fresh database: a user sees the datasets
// they may use with "how to connect" snippets, asks for another and sees it
// pending; an approver approves it on their own Data page; the user's page then
// shows it granted, without a reload; an admin sees who has access. Screenshots
// go to test-results/screenshots/data-*.png.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { type RunningApi, startApi } from '../../api/index.ts';
import { freePort } from '../../store/index.ts';
import { freshDatabase, type TestDatabase } from '../support/db.ts';

const root = join(import.meta.dirname, '..', '..');
const SCREENSHOTS = join(root, 'test-results', 'screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--host-resolver-rules=MAP localhost 127.0.0.1',
];
const BASE = '/apis/berth/v1alpha1';

let db: TestDatabase;
let api: RunningApi;
let browser: Browser;
let origin: string;
let adminToken: string;

async function asAdmin(method: string, path: string, body: unknown, type = 'application/json') {
  const res = await fetch(api.url + path, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': type },
    body: JSON.stringify(body),
  });
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${await res.text()}`);
}

const database = (name: string, dsnName?: string) => ({
  apiVersion: 'berth/v1alpha1',
  kind: 'Database',
  metadata: { name },
  spec: {
    host: 'db.internal',
    dbname: name,
    adminCredentials: { fromEnv: 'DATASETS_ADMIN' },
    ...(dsnName ? { dsnName } : {}),
  },
});

before(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `no Chromium at ${CHROMIUM}: run \`make chromium\` (Debian's chromium) or set CHROMIUM_PATH`,
    );
  mkdirSync(SCREENSHOTS, { recursive: true });
  db = await freshDatabase();
  const port = await freePort();
  origin = `http://localhost:${port}`;
  api = await startApi({
    pool: db.pool,
    port,
    config: { logLevel: 'silent', maintenanceIntervalMs: 0 },
    signIn: {
      mode: 'dev',
      devUsers: ['alice', 'bob:user:stewards', 'root:admin'],
      baseDomain: 'localhost',
      publicPort: port,
    },
  });
  adminToken = (await api.identity.createToken({ user: 'root', admin: true })).token;
  await asAdmin('POST', `${BASE}/databases`, database('reference-data'));
  await asAdmin('POST', `${BASE}/databases`, database('warehouse', 'wh'));
  await asAdmin('POST', `${BASE}/datasets`, {
    apiVersion: 'berth/v1alpha1',
    kind: 'Dataset',
    metadata: { name: 'countries' },
    spec: {
      title: 'Countries',
      description: 'ISO 3166 countries and their regions.',
      tables: [{ database: 'reference-data', schema: 'ref', table: 'countries' }],
      access: { type: 'everyone' },
    },
  });
  await asAdmin('POST', `${BASE}/datasets`, {
    apiVersion: 'berth/v1alpha1',
    kind: 'Dataset',
    metadata: { name: 'sales' },
    spec: {
      title: 'Sales by region',
      tables: [
        { database: 'warehouse', schema: 'sales', table: 'orders' },
        { database: 'warehouse', schema: 'sales', table: 'regions' },
      ],
      access: { type: 'named' },
      approvers: { groups: ['stewards'] },
    },
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
});

after(async () => {
  await browser?.close();
  await api?.close();
  await db?.drop();
});

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `data-${name}.png`), fullPage: true });
}

async function signedIn(
  user: string,
  width = 1280,
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width, height: 800 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('response', (r) => {
    if (r.status() >= 400 && !r.url().endsWith('/favicon.ico'))
      errors.push(`${r.status()} ${r.url()}`);
  });
  await page.goto(`${origin}/`);
  await page.getByRole('radio', { name: new RegExp(`^${user}\\b`) }).check();
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${origin}/`);
  await page.getByText(`Signed in as ${user}`).waitFor();
  await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Data' }).click();
  await page.getByRole('heading', { level: 1, name: 'Data' }).waitFor();
  return { context, page, errors };
}

async function sideways(page: Page): Promise<number> {
  return page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
}

test('use, request, approve, see it granted; the admin sees who has access', async () => {
  const alice = await signedIn('alice');
  const bob = await signedIn('bob');
  try {
    const { page } = alice;
    assert.equal(
      await page.getByRole('link', { name: 'Data' }).getAttribute('aria-current'),
      'page',
    );
    // Countries is open to everyone: its tables and how to connect, from its Database.
    const granted = page.locator('#data-granted');
    const countries = granted.locator('[data-dataset="countries"]');
    await countries.getByRole('heading', { name: 'Countries' }).waitFor();
    await countries.getByText('open to everyone signed in').waitFor();
    await countries.getByRole('cell', { name: 'ref', exact: true }).waitFor();
    await countries.getByText('How to connect to reference-data').click();
    for (const label of [
      'psql',
      'Python (psycopg)',
      'Python (SQLAlchemy and pandas)',
      'R (DBI and RPostgres)',
    ]) {
      const code = await countries
        .getByRole('figure', { name: `${label} for reference-data` })
        .textContent();
      assert.match(code ?? '', /DATABASE_DSN__reference_data/, label);
      assert.match(code ?? '', /"ref"\."countries"/, label);
    }
    await shot(page, '01-granted');

    // Sales needs approval: ask for it.
    const requestable = page.locator('#data-requestable [data-dataset="sales"]');
    const form = requestable.getByRole('form', { name: 'Request access to Sales by region' });
    await form.getByLabel('Why you need it').fill('The quarterly regional report');
    await form.getByRole('button', { name: 'Request access' }).click();
    await requestable.getByText('Requested: waiting for approval').waitFor();
    const mine = page.locator('#data-mine [data-request="sales"]');
    await page.locator('#data-mine [data-request="sales"][data-phase="Pending"]').waitFor();
    await mine.getByText('Reason: The quarterly regional report').waitFor();
    assert.equal(await page.locator('#data-decide-section').isHidden(), true);
    await shot(page, '02-requested');

    // bob (group stewards) decides it on his Data page.
    const decide = bob.page.locator('#data-decide [data-decide="alice/sales"]');
    await decide.getByText('alice asks for Sales by region').waitFor();
    await decide.getByText('Reason: The quarterly regional report').waitFor();
    await decide.getByLabel('Comment (optional)').fill('Approved for Q3');
    await shot(bob.page, '03-to-decide');
    await decide
      .getByRole('button', { name: "Approve alice's request for Sales by region" })
      .click();
    await bob.page
      .locator('#data-decide [data-decide="alice/sales"][data-phase="Approved"]')
      .waitFor();
    await decide
      .getByRole('button', { name: "Revoke alice's request for Sales by region" })
      .waitFor();

    // alice's page follows without a reload: Sales is now hers, with both tables and its snippets.
    const sales = granted.locator('[data-dataset="sales"]');
    await sales.getByText('your request was approved').waitFor();
    await sales.getByRole('cell', { name: 'regions', exact: true }).waitFor();
    await sales.getByText('How to connect to warehouse').click();
    assert.match(
      (await sales.getByRole('figure', { name: 'psql for warehouse' }).textContent()) ?? '',
      /DATABASE_DSN__wh/,
    );
    await page.locator('#data-mine [data-request="sales"][data-phase="Approved"]').waitFor();
    await page.locator('#data-mine').getByText('Approved for Q3').waitFor();
    await shot(page, '04-approved');
    assert.ok((await sideways(page)) <= 0, 'no sideways scrolling');
    assert.deepEqual(alice.errors, []);
    assert.deepEqual(bob.errors, []);
    // A plain user is never shown who has access.
    assert.equal(await page.locator('#data-who-section').isHidden(), true);
  } finally {
    await alice.context.close();
    await bob.context.close();
  }

  // The controllers write who has access; an admin sees it per dataset.
  await asAdmin(
    'PATCH',
    `${BASE}/datasets/sales/status`,
    { status: { access: { everyone: false, users: ['alice'], apps: [] } } },
    'application/merge-patch+json',
  );
  await asAdmin(
    'PATCH',
    `${BASE}/datasets/countries/status`,
    { status: { access: { everyone: true, users: [], apps: ['dashboard'] } } },
    'application/merge-patch+json',
  );
  const admin = await signedIn('root');
  try {
    const who = admin.page.locator('#data-who');
    await admin.page.getByRole('heading', { name: 'Who has access' }).waitFor();
    const row = (name: string) => who.locator(`[data-who="${name}"]`);
    await row('sales').getByRole('cell', { name: 'alice', exact: true }).waitFor();
    await row('countries').getByRole('cell', { name: 'everyone signed in' }).waitFor();
    await row('countries').getByRole('cell', { name: 'dashboard' }).waitFor();
    await admin.page.getByRole('heading', { name: 'Requests to decide' }).waitFor();
    await shot(admin.page, '05-who-has-access');
    assert.deepEqual(admin.errors, []);
  } finally {
    await admin.context.close();
  }
});

test('the Data page fits a narrow window', async () => {
  const { context, page, errors } = await signedIn('alice', 360);
  try {
    await page.locator('#data-granted [data-dataset="countries"]').waitFor();
    await page.getByText('How to connect to reference-data').click();
    await page.getByRole('figure', { name: 'R (DBI and RPostgres) for reference-data' }).waitFor();
    await shot(page, '06-narrow');
    const overflow = await sideways(page);
    assert.ok(overflow <= 0, `page scrolls sideways by ${overflow}px`);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
