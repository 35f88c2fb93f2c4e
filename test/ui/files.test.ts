// The Files page in a real browser (playwright-core driving Chromium) against the
// API with the development sign-in, presigning for a real S3 (s3rver with CORS for
// the UI's origin): a 50 MB file dropped on the page goes straight to S3 in parts
// with a moving progress bar; an upload stopped part-way continues after a reload
// with only the missing parts; download, new folder, rename and delete; another
// user sees none of it; an installation without a bucket says so. Screenshots go
// to test-results/screenshots/files-*.png.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { type RunningApi, startApi } from '../../api/index.ts';
import { homePrefix } from '../../crds/index.ts';
import { freePort } from '../../store/index.ts';
import { freshDatabase, type TestDatabase } from '../support/db.ts';
import { startS3rver, type TestS3 } from '../support/s3rver.ts';
import { waitFor } from '../support/wait.ts';

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
const MB = 1_000_000;

let db: TestDatabase;
let api: RunningApi;
let bare: RunningApi;
let s3: TestS3;
let browser: Browser;
let origin: string;
let bareOrigin: string;
const uids: Record<string, string> = {};

const devSignIn = (port: number) => ({
  mode: 'dev' as const,
  devUsers: ['alice', 'bob'],
  baseDomain: 'localhost',
  publicPort: port,
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
  s3 = await startS3rver({ corsOrigins: [origin] });
  api = await startApi({
    pool: db.pool,
    port,
    config: {
      logLevel: 'silent',
      maintenanceIntervalMs: 0,
      filesBucket: s3.bucket,
      s3Endpoint: s3.url,
      s3Region: s3.region,
      s3AccessKeyId: s3.credentials.accessKeyId,
      s3SecretAccessKey: s3.credentials.secretAccessKey,
    },
    signIn: devSignIn(port),
  });
  const barePort = await freePort();
  bareOrigin = `http://localhost:${barePort}`;
  bare = await startApi({
    pool: db.pool,
    port: barePort,
    config: { logLevel: 'silent', maintenanceIntervalMs: 0 },
    signIn: devSignIn(barePort),
  });
  for (const name of ['alice', 'bob']) uids[name] = (await api.identity.upsertUser({ name })).uid;
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
});

after(async () => {
  await browser?.close();
  await bare?.close();
  await api?.close();
  await s3?.close();
  await db?.drop();
});

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `files-${name}.png`), fullPage: true });
}

async function signedIn(
  user: string,
  at = origin,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    acceptDownloads: true,
  });
  const page = await context.newPage();
  await page.goto(`${at}/`);
  await page.getByRole('radio', { name: new RegExp(`^${user}\\b`) }).check();
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${at}/`);
  await page.getByText(`Signed in as ${user}`).waitFor();
  await page
    .getByRole('navigation', { name: 'Pages' })
    .getByRole('link', { name: 'Files' })
    .click();
  await page.getByRole('heading', { level: 1, name: 'Your files' }).waitFor();
  return { context, page };
}

/** Drops a File made in the page (bytes i % 251, a fixed lastModified) on the Files page. */
async function dropFile(page: Page, name: string, size: number): Promise<void> {
  const dataTransfer = await page.evaluateHandle(
    ({ name, size }) => {
      const bytes = new Uint8Array(size);
      for (let i = 0; i < size; i++) bytes[i] = i % 251;
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], name, { lastModified: 1_780_000_000_000 }));
      return dt;
    },
    { name, size },
  );
  await page.locator('#page-files').dispatchEvent('dragover', { dataTransfer });
  await page.locator('#page-files').dispatchEvent('drop', { dataTransfer });
}

function expectedDigest(size: number): string {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = i % 251;
  return createHash('sha256').update(bytes).digest('hex');
}

async function s3Digest(user: string, path: string): Promise<{ size: number; digest: string }> {
  const out = await s3
    .client()
    .send(new GetObjectCommand({ Bucket: s3.bucket, Key: homePrefix(uids[user]!) + path }));
  const bytes = Buffer.from(await out.Body!.transformToByteArray());
  return { size: bytes.length, digest: createHash('sha256').update(bytes).digest('hex') };
}

async function exists(user: string, path: string): Promise<boolean> {
  try {
    await s3
      .client()
      .send(new HeadObjectCommand({ Bucket: s3.bucket, Key: homePrefix(uids[user]!) + path }));
    return true;
  } catch {
    return false;
  }
}

function partNumberOf(url: string): number | undefined {
  const n = new URL(url).searchParams.get('partNumber');
  return n ? Number(n) : undefined;
}

test('a 50 MB file dropped on the page goes to S3 in parts, with a progress bar to 100 %', async () => {
  const { context, page } = await signedIn('alice');
  try {
    const parts = new Set<number>();
    page.on('request', (r) => {
      const n = r.method() === 'PUT' ? partNumberOf(r.url()) : undefined;
      if (n) parts.add(n);
    });
    // Every value the bar takes (progress.value reflects to its attribute).
    await page.evaluate(() => {
      const seen: number[] = [];
      (window as unknown as { seen: number[] }).seen = seen;
      new MutationObserver((records) => {
        for (const r of records)
          if (r.target instanceof HTMLProgressElement) seen.push(r.target.value);
      }).observe(document.getElementById('files-uploads')!, { attributes: true, subtree: true });
    });
    await dropFile(page, 'big data.bin', 50 * MB);
    const upload = page.locator('[data-upload="big data.bin"]');
    await upload.getByRole('progressbar', { name: 'Uploading big data.bin' }).waitFor();
    // Done or failed: a failure ends the wait at once, with the page's own words.
    await page.locator('[data-upload="big data.bin"][data-state]').waitFor({ timeout: 120_000 });
    assert.equal(
      await upload.getAttribute('data-state'),
      'done',
      (await upload.textContent()) ?? '',
    );
    await shot(page, '01-uploaded');
    const seen = await page.evaluate(() => (window as unknown as { seen: number[] }).seen);
    assert.ok(
      seen.some((v) => v > 0 && v < 100),
      `the bar moved between 0 and 100: ${seen.join(',')}`,
    );
    assert.equal(
      await upload.getByRole('progressbar').evaluate((p) => (p as HTMLProgressElement).value),
      100,
    );
    assert.match((await upload.textContent()) ?? '', /Uploaded/);
    assert.deepEqual(
      [...parts].sort((a, b) => a - b),
      [1, 2, 3, 4, 5, 6],
      '6 parts of 8 MiB',
    );
    const stored = await s3Digest('alice', 'big data.bin');
    assert.equal(stored.size, 50 * MB);
    assert.equal(stored.digest, expectedDigest(50 * MB));
    // The listing shows it, sized in the units people read.
    await page.getByRole('row', { name: /big data\.bin\s+50 MB/ }).waitFor();
    assert.equal(
      await page.evaluate(() => localStorage.length),
      0,
      'a finished upload leaves nothing to resume',
    );
  } finally {
    await context.close();
  }
});

test('an upload stopped part-way continues after a reload with only the missing parts', async () => {
  const { context, page } = await signedIn('alice');
  try {
    const size = 40 * MB; // 5 parts of 8 MiB
    // The first run: parts 1 and 2 reach S3, every other part fails.
    await page.route(
      (url) => (partNumberOf(url.toString()) ?? 0) > 2,
      (route) => route.abort('connectionreset'),
    );
    await dropFile(page, 'resume.bin', size);
    await page
      .locator('[data-upload="resume.bin"][data-state="failed"]')
      .waitFor({ timeout: 60_000 });
    await shot(page, '02-stopped');
    await waitFor(
      async () => {
        const record = await page.evaluate(() => {
          const key = Object.keys(localStorage).find((k) => k.includes('resume.bin'));
          return key ? JSON.parse(localStorage.getItem(key)!) : undefined;
        });
        return record && Object.keys(record.etags).length === 2 ? record : undefined;
      },
      30_000,
      'parts 1 and 2 recorded as done',
    );
    await page.unrouteAll();
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Your files' }).waitFor();
    const sent: number[] = [];
    page.on('request', (r) => {
      const n = r.method() === 'PUT' ? partNumberOf(r.url()) : undefined;
      if (n) sent.push(n);
    });
    await dropFile(page, 'resume.bin', size);
    const done = page.locator('[data-upload="resume.bin"][data-state]');
    await done.waitFor({ timeout: 60_000 });
    assert.equal(await done.getAttribute('data-state'), 'done', (await done.textContent()) ?? '');
    assert.match((await done.textContent()) ?? '', /resumed: 3 parts sent/);
    assert.deepEqual(
      sent.sort((a, b) => a - b),
      [3, 4, 5],
      'only the missing parts were sent',
    );
    const stored = await s3Digest('alice', 'resume.bin');
    assert.equal(stored.size, size);
    assert.equal(stored.digest, expectedDigest(size));
    await shot(page, '03-resumed');
  } finally {
    await context.close();
  }
});

test('download, new folder, rename and delete', async () => {
  const key = `${homePrefix(uids.alice!)}notes ✓.txt`;
  await s3.client().send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: 'my notes\n' }));
  const { context, page } = await signedIn('alice');
  try {
    const row = page.getByRole('row', { name: /notes ✓\.txt/ });
    await row.waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      row.getByRole('button', { name: 'Download notes ✓.txt' }).click(),
    ]);
    assert.equal(await readFile((await download.path())!, 'utf8'), 'my notes\n');
    assert.equal(
      await page.evaluate(() => document.documentElement.innerHTML.includes('X-Amz-Signature')),
      false,
      'no presigned URL left in the page',
    );

    await page.getByRole('button', { name: 'New folder' }).click();
    const dialog = page.getByRole('dialog', { name: 'New folder' });
    await dialog.getByLabel('Folder name').fill('Q1 reports');
    await dialog.getByRole('button', { name: 'Create' }).click();
    const folder = page.getByRole('link', { name: 'Q1 reports/' });
    await folder.waitFor();
    assert.ok(await exists('alice', 'Q1 reports/'), 'the folder marker is in S3');

    await row.getByRole('button', { name: 'Rename notes ✓.txt' }).click();
    const rename = page.getByRole('dialog', { name: 'Rename notes ✓.txt' });
    await rename.getByLabel('New name').fill('notes 2026.txt');
    await rename.getByLabel('New name').press('Enter');
    await page.getByRole('row', { name: /notes 2026\.txt/ }).waitFor();
    assert.equal(await exists('alice', 'notes ✓.txt'), false);
    assert.ok(await exists('alice', 'notes 2026.txt'));

    // Into the folder and back by the breadcrumbs.
    await folder.click();
    await page.getByRole('navigation', { name: 'Folders' }).getByText('Q1 reports').waitFor();
    await page.getByText('This folder is empty.').waitFor();
    assert.match(page.url(), /#files\/Q1%20reports\/$/);
    await page
      .getByRole('navigation', { name: 'Folders' })
      .getByRole('link', { name: 'Your files' })
      .click();

    const renamed = page.getByRole('row', { name: /notes 2026\.txt/ });
    await renamed.getByRole('button', { name: 'Delete notes 2026.txt' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete notes 2026.txt?' });
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    assert.ok(await exists('alice', 'notes 2026.txt'), 'Cancel keeps the file');
    await renamed.getByRole('button', { name: 'Delete notes 2026.txt' }).click();
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await renamed.waitFor({ state: 'detached' });
    assert.equal(await exists('alice', 'notes 2026.txt'), false);
    await shot(page, '04-managed');
  } finally {
    await context.close();
  }
});

test("another user's files never show", async () => {
  await s3.client().send(
    new PutObjectCommand({
      Bucket: s3.bucket,
      Key: `${homePrefix(uids.alice!)}alice-only.txt`,
      Body: 'x',
    }),
  );
  const { context, page } = await signedIn('bob');
  try {
    await page.getByText('You have no files yet.').waitFor();
    assert.equal(await page.getByText('alice-only.txt').count(), 0);
    assert.equal(await page.getByText('big data.bin').count(), 0);
  } finally {
    await context.close();
  }
});

test('without a bucket the page says files are not set up', async () => {
  const { context, page } = await signedIn('alice', bareOrigin);
  try {
    await page.getByText('Files are not set up on this berth installation').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Upload files' }).isVisible(), false);
  } finally {
    await context.close();
  }
});
