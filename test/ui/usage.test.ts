// The admin's Usage page in a real browser (playwright-core driving Chromium)
// against the API with the development sign-in, over usage rows with known
// lifetimes two days and one day ago: a bar per day of the range, each stacked
// in the tools' legend colours with a tooltip, the totals by user and by tool
// worked out by hand, the 30-day range; a user has no Usage page. Screenshots go
// to test-results/screenshots/usage-*.png.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { type RunningApi, startApi } from '../../api/index.ts';
import { freePort } from '../../store/index.ts';
import { freshDatabase, type TestDatabase } from '../support/db.ts';
import { finishedTask } from '../support/usage-rows.ts';

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

let db: TestDatabase;
let api: RunningApi;
let browser: Browser;
let origin: string;

/** `YYYY-MM-DD` of the UTC day `n` days before today. */
function daysAgo(n: number): string {
  const today = Date.parse(`${new Date().toISOString().slice(0, 10)}T00:00:00Z`);
  return new Date(today - n * 86_400_000).toISOString().slice(0, 10);
}
const D2 = daysAgo(2);
const D1 = daysAgo(1);

function task(
  id: string,
  ns: string,
  tool: string,
  cpu: number,
  mib: number,
  from: string,
  to: string,
) {
  return finishedTask(db.pool, { id, ns, tool, cpu, mib, from, to });
}

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
      devUsers: ['alice', 'root:admin'],
      baseDomain: 'localhost',
      publicPort: port,
    },
  });
  // alice's jupyterlab, 0.25 vCPU / 512 MiB: 10:00-12:30 two days ago (2.5 h), 09:00-10:00 yesterday (1 h).
  await task('a1', 'alice', 'jupyterlab', 256, 512, `${D2}T10:00:00Z`, `${D2}T12:30:00Z`);
  await task('a2', 'alice', 'jupyterlab', 256, 512, `${D1}T09:00:00Z`, `${D1}T10:00:00Z`);
  // bob's rstudio, 1 vCPU / 8 GiB: 23:00 two days ago to 01:00 yesterday (1 h on each day).
  await task('b1', 'bob', 'rstudio', 1024, 8192, `${D2}T23:00:00Z`, `${D1}T01:00:00Z`);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
});

after(async () => {
  await browser?.close();
  await api?.close();
  await db?.drop();
});

async function signedIn(
  user: string,
): Promise<{ page: Page; errors: string[]; usageCalls: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  const usageCalls: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => {
    if (r.url().includes('/apis/berth/v1alpha1/usage')) usageCalls.push(r.url());
  });
  page.on('response', (r) => {
    if (r.status() >= 400 && !r.url().endsWith('/favicon.ico'))
      errors.push(`${r.status()} ${r.url()}`);
  });
  await page.goto(`${origin}/`);
  await page.getByRole('radio', { name: new RegExp(`^${user}\\b`) }).check();
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${origin}/`);
  await page.getByText(`Signed in as ${user}`).waitFor();
  return { page, errors, usageCalls };
}

/** A table's rows as the text of their cells. */
async function tableRows(page: Page, selector: string): Promise<string[][]> {
  return page
    .locator(`${selector} tr`)
    .evaluateAll((rows) =>
      rows.map((r) => [...r.querySelectorAll('th, td')].map((c) => (c.textContent ?? '').trim())),
    );
}

test('the admin’s Usage page: a stacked bar per day in the tools’ colours, and the totals', async () => {
  const { page, errors } = await signedIn('root');
  await page
    .getByRole('navigation', { name: 'Pages' })
    .getByRole('link', { name: 'Usage' })
    .click();
  await page.getByRole('heading', { level: 1, name: 'Usage' }).waitFor();
  assert.equal(await page.title(), 'Usage · berth');
  await page.locator('#usage-svg').waitFor();

  // 7 days, today included: one bar (group) per day.
  const bars = page.locator('#usage-svg g.bar');
  assert.equal(await bars.count(), 7);
  assert.deepEqual(
    await bars.evaluateAll((gs) => gs.map((g) => g.getAttribute('data-day'))),
    [6, 5, 4, 3, 2, 1, 0].map(daysAgo),
  );
  // The legend: a colour per tool; each bar's parts use their tool's colour.
  const legend = Object.fromEntries(
    await page
      .locator('.legend li')
      .evaluateAll((lis) =>
        lis.map((li) => [
          li.getAttribute('data-tool'),
          li.querySelector('rect')?.getAttribute('fill'),
        ]),
      ),
  );
  assert.deepEqual(Object.keys(legend), ['jupyterlab', 'rstudio']);
  assert.notEqual(legend.jupyterlab, legend.rstudio);
  const parts = await page.locator('#usage-svg g.bar rect').evaluateAll((rects) =>
    rects.map((r) => ({
      day: r.parentElement?.getAttribute('data-day'),
      tool: r.getAttribute('data-tool'),
      fill: r.getAttribute('fill'),
      vcpu: Number(r.getAttribute('data-vcpu-hours')),
      title: r.querySelector('title')?.textContent,
      height: Number(r.getAttribute('height')),
    })),
  );
  // Two days ago: jupyterlab 0.25 × 2.5 = 0.625, rstudio 1 × 1 = 1; yesterday: 0.25 × 1, 1 × 1.
  assert.deepEqual(
    parts.map((p) => [p.day, p.tool, p.vcpu, p.title]),
    [
      [D2, 'jupyterlab', 0.625, `${D2} · jupyterlab: 0.63 vCPU-hours`],
      [D2, 'rstudio', 1, `${D2} · rstudio: 1.00 vCPU-hours`],
      [D1, 'jupyterlab', 0.25, `${D1} · jupyterlab: 0.25 vCPU-hours`],
      [D1, 'rstudio', 1, `${D1} · rstudio: 1.00 vCPU-hours`],
    ],
  );
  for (const p of parts) assert.equal(p.fill, legend[p.tool!], `${p.day} ${p.tool}`);
  // Heights follow the figures: 0.625 is 0.625 of 1.
  const [j2, r2] = parts;
  assert.ok(Math.abs(j2!.height / r2!.height - 0.625) < 0.01, `${j2!.height} / ${r2!.height}`);
  // Axis labels.
  await page.locator('#usage-svg text', { hasText: 'vCPU-hours' }).waitFor();
  await page.locator('#usage-svg text', { hasText: 'Day (UTC)' }).waitFor();

  // The totals, by hand: alice 0.625 + 0.25 = 0.875 vCPU-h, 1.25 + 0.5 = 1.75 GiB-h, 3.5 h;
  // bob 2, 16, 2 h.
  assert.deepEqual(await tableRows(page, '#usage-users'), [
    ['User', 'vCPU-hours', 'GiB-hours', 'Running (hours)', 'Tasks'],
    ['alice', '0.88', '1.75', '3.50', '2'],
    ['bob', '2.00', '16.00', '2.00', '1'],
    ['Total', '2.88', '17.75', '5.50', '3'],
  ]);
  assert.deepEqual(await tableRows(page, '#usage-tools'), [
    ['Tool', 'vCPU-hours', 'GiB-hours', 'Running (hours)', 'Tasks'],
    ['jupyterlab', '0.88', '1.75', '3.50', '2'],
    ['rstudio', '2.00', '16.00', '2.00', '1'],
    ['Total', '2.88', '17.75', '5.50', '3'],
  ]);
  await page.screenshot({ path: join(SCREENSHOTS, 'usage-01-7-days.png'), fullPage: true });

  // 30 days: 30 bars, the same figures.
  await page.getByRole('button', { name: '30 days' }).click();
  await page.waitForFunction(() => document.querySelectorAll('#usage-svg g.bar').length === 30);
  assert.equal(
    await page.getByRole('button', { name: '30 days' }).getAttribute('aria-pressed'),
    'true',
  );
  assert.equal(await page.locator('#usage-svg g.bar rect').count(), 4);
  await page.screenshot({ path: join(SCREENSHOTS, 'usage-02-30-days.png'), fullPage: true });
  // No sideways scrolling on a phone.
  await page.setViewportSize({ width: 390, height: 800 });
  assert.equal(
    await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    ),
    0,
  );
  assert.deepEqual(errors, []);
});

test('a user has no Usage page: no link, #usage shows nothing of it, and nothing is asked', async () => {
  const { page, errors, usageCalls } = await signedIn('alice');
  const nav = page.getByRole('navigation', { name: 'Pages' });
  await nav.getByRole('link', { name: 'Tools' }).waitFor();
  assert.equal(await nav.getByRole('link', { name: 'Usage' }).count(), 0);
  await page.goto(`${origin}/#usage`);
  await page.getByText('Signed in as alice').waitFor();
  await page.getByRole('heading', { name: 'Your tools' }).waitFor();
  assert.equal(await page.locator('#page-usage').isHidden(), true);
  assert.equal(await page.getByRole('heading', { name: 'Usage' }).count(), 0);
  assert.deepEqual(usageCalls, []);
  assert.deepEqual(errors, []);
});
