// The stop-warning banner in a real browser (playwright-core driving Chromium)
// against the API with the development sign-in: a stopWarning written to the
// signed-in user's instance shows a banner on whatever page is open; "Keep it
// running" clears it and moves lastActivityAt; a maxLifetime warning has no
// button; "Your tools" says so per instance and says why the culler stopped one.
// Screenshots go to test-results/screenshots/keep-running-*.png.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { type RunningApi, startApi } from '../../api/index.ts';
import type { ToolInstance } from '../../crds/index.ts';
import { freePort } from '../../store/index.ts';
import { freshDatabase, type TestDatabase } from '../support/db.ts';
import { toolDefinition, toolInstance } from '../support/fixtures.ts';

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
const MIN = 60_000;

let db: TestDatabase;
let api: RunningApi;
let browser: Browser;
let origin: string;

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
    signIn: { mode: 'dev', devUsers: ['alice'], baseDomain: 'localhost', publicPort: port },
  });
  await api.store.create(
    'ToolDefinition',
    toolDefinition('demo', {
      displayName: 'Demo',
      idle: { idleAfter: '1h', cpuThreshold: 5 },
      maxLifetime: '8h',
    }),
  );
  await api.store.create(
    'ToolInstance',
    toolInstance('alice', 'demo', 'demo', { state: 'Running' }),
  );
  await api.store.patchStatus('ToolInstance', 'alice', 'demo', {
    status: {
      phase: 'Ready',
      lastActivityAt: new Date(Date.now() - 22 * MIN).toISOString(),
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'Probed',
          lastTransitionTime: new Date().toISOString(),
        },
      ],
    },
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
});

after(async () => {
  await browser?.close();
  await api?.close();
  await db?.drop();
});

async function demo(): Promise<ToolInstance> {
  return (await api.store.get('ToolInstance', 'alice', 'demo')) as unknown as ToolInstance;
}

async function warn(reason: 'Idle' | 'MaxLifetime'): Promise<void> {
  const now = Date.now();
  await api.store.patchStatus('ToolInstance', 'alice', 'demo', {
    status: {
      idleSince: new Date(now - 22 * MIN).toISOString(),
      stopWarning: {
        reason,
        // Half a minute over: "in 8 min" whatever the rounding while the page renders.
        stopAt: new Date(now + 8 * MIN - 30_000).toISOString(),
        warnedAt: new Date(now).toISOString(),
        message: 'the culler’s own words',
      },
    },
  });
}

async function signIn(page: Page): Promise<void> {
  await page.goto(`${origin}/`);
  await page.getByRole('radio', { name: /^alice\b/ }).check();
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${origin}/`);
  await page.getByText('Signed in as alice').waitFor();
}

test('a stop warning shows on every page; Keep it running clears it and counts as use', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await signIn(page);
    // Another page than the tools: the banner is on every page.
    await page
      .getByRole('navigation', { name: 'Pages' })
      .getByRole('link', { name: 'Data' })
      .click();
    await page.getByRole('heading', { level: 1, name: 'Data' }).waitFor();
    const banner = page.locator('#stop-warnings');
    assert.equal(await banner.locator('.stop-warning').count(), 0, 'no banner before a warning');
    await warn('Idle');
    const line = banner.locator('.stop-warning[data-instance="demo"]');
    await line.waitFor();
    assert.equal(
      (await line.locator('span').textContent())?.trim(),
      'Demo stops in 8 min: idle for 22 min (no use, CPU under 5 %).',
    );
    await page.screenshot({ path: join(SCREENSHOTS, 'keep-running-banner.png') });
    const before = Date.parse((await demo()).status!.lastActivityAt!);
    await line.getByRole('button', { name: 'Keep demo running' }).click();
    await line.waitFor({ state: 'detached' });
    const ti = await demo();
    assert.equal(ti.status?.stopWarning, undefined);
    assert.ok(Date.parse(ti.status!.lastActivityAt!) > before + 20 * MIN, 'lastActivityAt moved');

    // A maxLifetime stop: said, with no button.
    await warn('MaxLifetime');
    await line.waitFor();
    assert.match((await line.textContent()) ?? '', /^Demo reaches its 8 h limit at \d\d:\d\d\.$/);
    assert.equal(await line.getByRole('button').count(), 0);
    // "Your tools" says the same beside the instance.
    await page
      .getByRole('navigation', { name: 'Pages' })
      .getByRole('link', { name: 'Tools' })
      .click();
    const card = page.locator('#instances [data-instance="demo"]');
    await card
      .locator('.stop-warning')
      .getByText(/reaches its 8 h limit/)
      .waitFor();
    // The culler no longer warns (it was used): the banner goes by itself.
    await api.store.patchStatus('ToolInstance', 'alice', 'demo', { status: { stopWarning: null } });
    await line.waitFor({ state: 'detached' });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('"Your tools" says why the culler stopped an instance', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  try {
    await api.store.patch('ToolInstance', 'alice', 'demo', { spec: { state: 'Stopped' } });
    await api.store.patchStatus('ToolInstance', 'alice', 'demo', {
      status: { phase: 'Stopped', stopReason: 'Idle', stopWarning: null },
    });
    await signIn(page);
    const card = page.locator('#instances [data-instance="demo"]');
    await card.getByText('Stopped after 1 h idle').waitFor();
    await api.store.patchStatus('ToolInstance', 'alice', 'demo', {
      status: { stopReason: 'MaxLifetime' },
    });
    await card.getByText('Stopped at its 8 h limit').waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'keep-running-culled.png') });
  } finally {
    await context.close();
  }
});
