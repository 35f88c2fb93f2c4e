// s3sync running for real (main.ts as a child process) against s3rver: local
// writes reach S3 within 2 s, S3's changes arrive within a poll, deletes go both
// ways, a path edited on both sides keeps both versions, and the awkward names.
import assert from 'node:assert/strict';
import {
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { waitFor } from '../../support/wait.ts';
import { healthy, type Sidecar, type World, world } from './harness.ts';

const POLL_MS = 1500;
let w: World;
let sc: Sidecar;

before(async () => {
  w = await world();
  await w.put('from-s3-before-start.txt', 'there first');
  sc = await w.start({ S3SYNC_POLL_INTERVAL_MS: String(POLL_MS) });
  await healthy(sc);
});
after(() => w?.close());

const exists = (rel: string) =>
  stat(join(w.home, rel)).then(
    () => true,
    () => false,
  );

test('the initial sync brings S3 down before /healthz says ok', async () => {
  assert.equal(await readFile(join(w.home, 'from-s3-before-start.txt'), 'utf8'), 'there first');
  assert.deepEqual((await sc.healthz()).body, { status: 'ok' });
});

test('a file written under home is in S3 within 2 s of the last write', async () => {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const rel = `latency-${i}.txt`;
    await writeFile(join(w.home, rel), `written ${i}`);
    const t0 = Date.now();
    await waitFor(async () => (await w.get(rel)) === `written ${i}`, 30_000, `${rel} in S3`);
    times.push(Date.now() - t0);
  }
  console.log(`s3sync: write-to-S3 latency ${times.join(', ')} ms`);
  // 2 s is the figure; slack for a loaded 2-core machine.
  assert.ok(Math.min(...times) < 2000, `fastest ${Math.min(...times)} ms`);
});

test('a file put in S3 appears locally within a poll; deletes go both ways', async () => {
  await w.put('remote/new.txt', 'from the Files page');
  const t0 = Date.now();
  await waitFor(() => exists('remote/new.txt'), 30_000, 'the remote file locally');
  const took = Date.now() - t0;
  console.log(`s3sync: S3-to-local ${took} ms (poll every ${POLL_MS} ms)`);
  assert.equal(await readFile(join(w.home, 'remote/new.txt'), 'utf8'), 'from the Files page');
  assert.ok(took < POLL_MS * 2 + 3000, `${took} ms`);

  await w.del('remote/new.txt');
  await waitFor(async () => !(await exists('remote/new.txt')), 30_000, 'the S3 delete locally');

  await writeFile(join(w.home, 'to-delete.txt'), 'short-lived');
  await waitFor(async () => (await w.get('to-delete.txt')) !== undefined, 30_000, 'uploaded');
  await unlink(join(w.home, 'to-delete.txt'));
  await waitFor(
    async () => (await w.get('to-delete.txt')) === undefined,
    30_000,
    'the local delete in S3',
  );
});

test('edited on both sides between two polls: both versions end on both sides', async () => {
  await writeFile(join(w.home, 'both.txt'), 'v1');
  await waitFor(async () => (await w.get('both.txt')) === 'v1', 30_000, 'v1 in S3');
  // Wait for a poll to have seen v1 too, so the next two edits are between polls.
  await waitFor(
    async () => (await sc.metrics()).includes('berth_s3sync_files_total{op="upload"}'),
    10_000,
    'metrics',
  );
  await w.put('both.txt', 'edited in S3');
  await writeFile(join(w.home, 'both.txt'), 'edited locally');
  const copy = await waitFor(
    async () => (await readdir(w.home)).find((n) => n.startsWith('both (conflict ')),
    30_000,
    'a conflict copy locally',
  );
  assert.match(copy, /^both \(conflict \d{4}-\d\d-\d\d \d\d\.\d\d\)\.txt$/);
  await waitFor(
    async () =>
      (await readFile(join(w.home, 'both.txt'), 'utf8').catch(() => '')) === 'edited in S3',
    30_000,
    "S3's version under the name locally",
  );
  assert.equal(await readFile(join(w.home, copy), 'utf8'), 'edited locally');
  await waitFor(
    async () => (await w.get(copy)) === 'edited locally',
    30_000,
    'the local version in S3',
  );
  assert.equal(await w.get('both.txt'), 'edited in S3');
  assert.match(await sc.metrics(), /berth_s3sync_conflicts_total [1-9]/);
});

test('Unicode and spaces, empty files, folders, a 1,024-byte key (and one byte more: skipped, logged)', async () => {
  await mkdir(join(w.home, 'Données 2026/été'), { recursive: true });
  await writeFile(join(w.home, 'Données 2026/été/résumé final ✓.txt'), 'ünïcödé');
  await writeFile(join(w.home, 'empty file'), '');
  const dirs = ['d'.repeat(250), 'e'.repeat(250), 'f'.repeat(250)].join('/');
  const room = 1024 - Buffer.byteLength(w.prefix) - dirs.length - 1;
  const exact = `${dirs}/${'g'.repeat(room)}`;
  const over = `${dirs}/${'h'.repeat(room + 1)}`;
  assert.equal(Buffer.byteLength(w.key(exact)), 1024);
  await mkdir(join(w.home, dirs), { recursive: true });
  await writeFile(join(w.home, exact), 'exactly 1024');
  await writeFile(join(w.home, over), 'one byte over');
  await waitFor(
    async () => (await w.get('Données 2026/été/résumé final ✓.txt')) === 'ünïcödé',
    30_000,
    'unicode',
  );
  await waitFor(async () => (await w.head('empty file'))?.size === 0, 30_000, 'the empty file');
  await waitFor(async () => (await w.get(exact)) === 'exactly 1024', 30_000, 'the 1,024-byte key');
  await waitFor(
    () =>
      sc.lines.some((l) => l.msg === 'not synced: its key would be too long' && l.path === over),
    30_000,
    'the over-long key logged',
  );
  assert.equal(await w.get(over), undefined);
  assert.equal((await sc.healthz()).status, 200, 'still running and healthy');

  await w.put('from s3 ünï/empty', '');
  await w.put('made in s3/', '');
  await waitFor(() => exists('from s3 ünï/empty'), 30_000, 'an empty file from S3');
  await waitFor(() => exists('made in s3'), 30_000, 'a folder made in S3');
  assert.equal((await stat(join(w.home, 'from s3 ünï/empty'))).size, 0);
  assert.ok((await stat(join(w.home, 'made in s3'))).isDirectory());
});

test('symlinks are not followed: nothing of a target outside home reaches S3', async () => {
  const outside = await mkdtemp(join(tmpdir(), 's3sync-outside-'));
  try {
    await writeFile(join(outside, 'secret.txt'), 'outside home');
    await mkdir(join(outside, 'dir'));
    await writeFile(join(outside, 'dir', 'inner.txt'), 'outside home too');
    await symlink(join(outside, 'secret.txt'), join(w.home, 'link-to-file'));
    await symlink(join(outside, 'dir'), join(w.home, 'link-to-dir'));
    await writeFile(join(w.home, 'after-links.txt'), 'marker');
    await waitFor(async () => (await w.get('after-links.txt')) === 'marker', 30_000, 'the marker');
    await waitFor(
      () => sc.lines.some((l) => l.msg === 'symlink not followed' && l.path === 'link-to-file'),
      30_000,
      'the symlink logged',
    );
    const keys = await w.list();
    assert.ok(!keys.some((k) => k.startsWith('link-to')), keys.join(','));
    for (const k of keys) assert.notEqual(await w.get(k), 'outside home', k);
  } finally {
    await rm(outside, { recursive: true, force: true });
  }
});

test('excluded paths and the local-only folder stay local; /metrics counts what moved', async () => {
  await mkdir(join(w.home, '__pycache__'), { recursive: true });
  await writeFile(join(w.home, '__pycache__/m.pyc'), 'bytecode');
  await mkdir(join(w.home, 'local-only'), { recursive: true });
  await writeFile(join(w.home, 'local-only/big.bin'), 'large data');
  await writeFile(join(w.home, 'after-excludes.txt'), 'marker');
  await waitFor(async () => (await w.get('after-excludes.txt')) === 'marker', 30_000, 'the marker');
  const keys = await w.list();
  // Of `.s3sync/` only the change marker is in S3, never the local state.
  assert.ok(
    !keys.some(
      (k) =>
        k.startsWith('__pycache__') ||
        k.startsWith('local-only') ||
        (k.startsWith('.s3sync') && k !== '.s3sync/changed'),
    ),
    keys.join(','),
  );
  const m = await sc.metrics();
  for (const name of [
    'berth_s3sync_files_total{op="upload"}',
    'berth_s3sync_bytes_total{op="upload"}',
    'berth_s3sync_files_total{op="download"}',
    'berth_s3sync_files_total{op="delete_local"}',
    'berth_s3sync_files_total{op="delete_remote"}',
    'berth_s3sync_pending_changes',
    'berth_s3sync_lag_seconds',
    'berth_s3sync_last_successful_poll_timestamp_seconds',
    'berth_s3sync_files_watched',
  ])
    assert.ok(m.includes(name), name);
  assert.ok(!m.includes('S3RVER'), 'no credential in metrics');
});
