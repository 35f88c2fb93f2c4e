// `berth proxy` with BERTH_PROXY_WORKERS=2, as a real process: the workers share
// the port, /metrics answers for all of them, a killed worker is replaced without
// the proxy going away, and SIGTERM stops everything cleanly.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { KINDS } from '../../crds/index.ts';
import { freePort, Identity, ResourceStore } from '../../store/index.ts';
import { freshDatabase, type TestDatabase } from '../support/db.ts';
import { toolDefinition } from '../support/fixtures.ts';
import { metricValue } from '../support/metrics.ts';
import { waitFor } from '../support/wait.ts';
import { makeReady, parseHistogram } from './support.ts';

const ROOT = join(import.meta.dirname, '..', '..');
let db: TestDatabase;
let upstream: Server;
let proxy: ChildProcess;
let port: number;
let token: string;
let logs = '';

/** The primary's live children (its workers), from /proc. */
function workerPids(): number[] {
  const pid = proxy.pid!;
  const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return text ? text.split(/\s+/).map(Number) : [];
}

/** One request on its own connection, so successive requests reach different workers. */
async function get(path: string, host: string, auth = true) {
  const r = await request(`http://127.0.0.1:${port}${path}`, {
    // A connection handed to a dead worker would hang: fail the test quickly instead.
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
    headers: {
      host,
      connection: 'close',
      ...(auth ? { authorization: `Bearer ${token}` } : {}),
    },
  });
  return { status: r.statusCode, body: await r.body.text() };
}

before(async () => {
  db = await freshDatabase();
  upstream = createServer((_req, res) => res.end('from the tool\n'));
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const store = new ResourceStore(db.pool, { kinds: [...KINDS] });
  token = (await new Identity(db.pool).createToken({ user: 'alice' })).token;
  await store.apply('ToolDefinition', toolDefinition('demo'), { fieldManager: 'test' });
  await makeReady(
    store,
    'alice',
    'demo',
    `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
  );
  await store.close();
  port = await freePort();
  proxy = spawn(
    process.execPath,
    ['--disable-warning=ExperimentalWarning', join(ROOT, 'bin', 'berth.ts'), 'proxy'],
    {
      env: {
        ...process.env,
        DATABASE_URL: db.url,
        BERTH_PROXY_PORT: String(port),
        BERTH_PROXY_WORKERS: '2',
        BERTH_BASE_DOMAIN: 'localhost',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  proxy.stdout!.on('data', (d) => {
    logs += d;
  });
  await waitFor(() => logs.includes('proxy listening (all workers)'), 60_000, 'both workers');
});

after(async () => {
  if (proxy.exitCode === null && proxy.signalCode === null) proxy.kill('SIGKILL');
  upstream.close();
  await db.drop();
});

test('two workers share the port and both route', async () => {
  assert.equal(workerPids().length, 2);
  for (let i = 0; i < 10; i++) {
    const r = await get('/', 'demo--alice.localhost');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'from the tool\n');
  }
});

test('/metrics counts every worker’s requests, whichever worker answers the scrape', async () => {
  for (let i = 0; i < 4; i++) {
    const { status, body } = await get('/metrics', 'localhost', false);
    assert.equal(status, 200);
    const ok = await metricValue(body, 'berth_proxy_requests_total', { code: '200' });
    assert.ok(ok >= 10, `the ten requests of the test before, whichever worker served them: ${ok}`);
    // The workers' latency histograms are summed too, bucket by bucket.
    const latency = parseHistogram(body, 'berth_proxy_request_duration_seconds');
    assert.ok(latency.count >= ok, `every answered request is timed: ${latency.count} >= ${ok}`);
    // Only the primary's gathered answer has this: a worker's own registry does not.
    assert.match(body, /^berth_proxy_workers 2$/m);
    // Each worker holds the whole route table: the same number, not a sum.
    assert.match(body, /^berth_proxy_routes 1$/m);
  }
});

test('a killed worker is replaced and the proxy keeps answering', async () => {
  const [victim, survivor] = workerPids();
  process.kill(victim!, 'SIGKILL');
  // Meanwhile the other worker answers.
  const r = await get('/', 'demo--alice.localhost');
  assert.equal(r.status, 200);
  await waitFor(
    () => {
      const now = workerPids();
      return now.length === 2 && now.includes(survivor!) && !now.includes(victim!);
    },
    60_000,
    'a new worker',
  );
  await waitFor(
    () => /"msg":"proxy listening"/.test(logs.split('proxy worker died')[1] ?? ''),
    60_000,
    'the new worker listening',
  );
  for (let i = 0; i < 4; i++) assert.equal((await get('/', 'demo--alice.localhost')).status, 200);
});

test('SIGTERM stops the workers and the primary cleanly', async () => {
  const pids = workerPids();
  const exited = new Promise<number | null>((r) => proxy.once('exit', (code) => r(code)));
  proxy.kill('SIGTERM');
  assert.equal(await exited, 0);
  for (const pid of pids) {
    assert.throws(() => process.kill(pid, 0), 'worker gone');
  }
});
