// When S3 fails: unreachable for 30 s (nothing local deleted, sync resumes),
// silent (accepts connections, never answers: /healthz 503 and `main.ts
// healthcheck` exits 1), and the SIGTERM drain (sends what is pending; names what
// it could not).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { waitFor } from '../../support/wait.ts';
import { healthy, type Sidecar, type World, world } from './harness.ts';

const MAIN = join(import.meta.dirname, '..', '..', '..', 'sidecars', 's3sync', 'main.ts');
let w: World;
before(async () => {
  w = await world();
});
after(() => w?.close());

function healthcheck(sc: Sidecar): Promise<number | null> {
  const child = spawn(
    process.execPath,
    ['--disable-warning=ExperimentalWarning', MAIN, 'healthcheck'],
    {
      env: { PATH: process.env.PATH ?? '', S3SYNC_PORT: String(sc.port) },
      stdio: 'ignore',
    },
  );
  return new Promise((r) => child.once('exit', r));
}

test('S3 unreachable for 30 s: nothing local is deleted, and sync resumes after', async () => {
  for (let i = 0; i < 5; i++) await w.put(`kept-${i}.txt`, `file ${i}`);
  const sc = await w.start({ S3SYNC_POLL_INTERVAL_MS: '1000', S3SYNC_REQUEST_TIMEOUT_MS: '2000' });
  await healthy(sc);
  assert.equal(await healthcheck(sc), 0, 'healthcheck exits 0 when healthy');
  w.proxy.set('refuse');
  const cutAt = Date.now();
  await writeFile(join(w.home, 'written-during-outage.txt'), 'waiting for S3');
  await waitFor(
    () =>
      Date.now() - cutAt > 30_000 &&
      sc.lines.filter((l) => l.msg === 'listing failed; nothing decided').length >= 3,
    90_000,
    '30 s of failed listings',
    500,
  );
  const names = await readdir(w.home);
  for (let i = 0; i < 5; i++)
    assert.ok(names.includes(`kept-${i}.txt`), `kept-${i}.txt still here`);
  assert.equal(await w.get('written-during-outage.txt'), undefined);
  w.proxy.set('open');
  await waitFor(
    async () => (await w.get('written-during-outage.txt')) === 'waiting for S3',
    60_000,
    'the upload after S3 is back',
  );
  await w.put('after-outage.txt', 'new in S3');
  await waitFor(
    () => readFile(join(w.home, 'after-outage.txt'), 'utf8').catch(() => undefined),
    30_000,
    'polling resumed',
  );
  assert.equal((await sc.healthz()).status, 200);
  assert.equal(await sc.stop(), 0);
});

test('a silent S3 (accepts, never answers): /healthz 503 with the reason, and healthcheck exits 1', async () => {
  const sc = await w.start({
    S3SYNC_POLL_INTERVAL_MS: '500',
    S3SYNC_STUCK_AFTER_MS: '2000',
    S3SYNC_REQUEST_TIMEOUT_MS: '60000',
  });
  await healthy(sc);
  w.proxy.set('silent');
  try {
    const h = await waitFor(
      async () => {
        const r = await sc.healthz();
        return r.status === 503 && r;
      },
      30_000,
      '/healthz 503',
    );
    assert.match(
      String(h.body.reason),
      /listing S3 has not finished|checking S3's change marker has not finished|no progress|no successful (listing|check)/,
    );
    assert.equal(await healthcheck(sc), 1);
  } finally {
    w.proxy.set('open');
    await sc.stop('SIGKILL');
  }
});

test('SIGTERM drains what is pending (exit 0); what it cannot send is named in one line (exit 1)', async () => {
  let sc = await w.start({ S3SYNC_DEBOUNCE_MS: '5000' });
  await healthy(sc);
  for (let i = 0; i < 3; i++) await writeFile(join(w.home, `drained-${i}.txt`), `drained ${i}`);
  // Long debounce: these are still waiting when SIGTERM comes; the watcher must have seen them.
  await waitFor(async () => (await sc.metrics()).length > 0, 5000, 'metrics');
  await new Promise((r) => setImmediate(r));
  await waitFor(
    async () => {
      const m = await fetch(`http://127.0.0.1:${sc.port}/healthz`);
      return m.status === 200;
    },
    5000,
    'up',
  );
  assert.equal(await sc.stop('SIGTERM'), 0);
  for (let i = 0; i < 3; i++) assert.equal(await w.get(`drained-${i}.txt`), `drained ${i}`);
  assert.ok(sc.lines.some((l) => l.msg === 'drain: everything uploaded'));

  sc = await w.start({ S3SYNC_DRAIN_TIMEOUT_MS: '3000', S3SYNC_REQUEST_TIMEOUT_MS: '1000' });
  await healthy(sc);
  w.proxy.set('refuse');
  await writeFile(join(w.home, 'stranded.txt'), 'cannot be sent');
  await waitFor(
    () => sc.lines.some((l) => l.msg === 'sync failed; will retry' && l.path === 'stranded.txt'),
    30_000,
    'an upload attempt',
  );
  const started = Date.now();
  assert.equal(await sc.stop('SIGTERM'), 1);
  console.log(
    `s3sync: drain with S3 down exited after ${Date.now() - started} ms (timeout 3000 ms)`,
  );
  const line = sc.lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('drain:'));
  assert.equal(line?.count, 1);
  assert.deepEqual(line?.paths, ['stranded.txt']);
  w.proxy.set('open');
});
