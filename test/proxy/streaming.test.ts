// 100 MB up and 100 MB down through a proxy running in its own process: the bytes
// arrive intact and the proxy's resident memory stays flat (no whole-body buffering).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { API_VERSION, KINDS } from '../../crds/index.ts';
import { Identity, ResourceStore } from '../../store/index.ts';
import { freshDatabase, type TestDatabase } from '../support/db.ts';
import { toolDefinition } from '../support/fixtures.ts';
import { waitFor } from '../support/wait.ts';
import { makeReady, startUpstream, type Upstream } from './support.ts';

const SIZE = 100 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 0x61);
// At full speed V8 frees spent chunk buffers only when external memory has grown
// by about 64 MB (its external-allocation GC threshold), whatever the body size; so
// the full-speed bound is 100 MB, and the strict 50 MB bound is checked while the
// client is stalled, where buffering would show at once.
const LIMIT = 100 * 1024 * 1024;
const STALLED_LIMIT = 50 * 1024 * 1024;

let db: TestDatabase;
let store: ResourceStore;
let up: Upstream;
let child: ChildProcess;
let port: number;
let token: string;
let upstreamSent = 0;

/** A stream of `size` bytes that produces only as fast as it is read. */
function source(size: number, onSent: (n: number) => void = () => {}): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= size) return void this.push(null);
      const n = Math.min(CHUNK.length, size - sent);
      sent += n;
      onSent(n);
      this.push(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n));
    },
  });
}

function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

/** Runs `fn` while sampling the child's RSS; returns the peak growth over the baseline. */
async function peakGrowth(fn: () => Promise<void>): Promise<number> {
  const base = rss(child.pid!);
  let peak = base;
  const t = setInterval(() => {
    peak = Math.max(peak, rss(child.pid!));
  }, 20);
  try {
    await fn();
  } finally {
    clearInterval(t);
  }
  return Math.max(peak, rss(child.pid!)) - base;
}

before(async () => {
  db = await freshDatabase();
  store = new ResourceStore(db.pool, { kinds: [...KINDS] });
  token = (await new Identity(db.pool).createToken({ user: 'alice' })).token;
  up = await startUpstream((req, res) => {
    if (req.method === 'POST') {
      let n = 0;
      req.on('data', (c: Buffer) => {
        n += c.length;
      });
      req.on('end', () => res.end(String(n)));
      return;
    }
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': String(SIZE),
    });
    source(SIZE, (n) => {
      upstreamSent += n;
    }).pipe(res);
  });
  await store.create('ToolDefinition', toolDefinition('big'));
  void API_VERSION;
  await makeReady(store, 'alice', 'big', up.url);
  child = spawn(
    process.execPath,
    [
      '--disable-warning=ExperimentalWarning',
      join(import.meta.dirname, 'support', 'proxy-child.ts'),
    ],
    {
      env: { ...process.env, DATABASE_URL: db.url },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`proxy child exited (${code})`)));
    child.stdout!.once('data', (d: Buffer) =>
      resolve((JSON.parse(d.toString()) as { port: number }).port),
    );
  });
  // Warm up (JIT, pools) so the baseline is fair.
  const r = await request(`http://127.0.0.1:${port}/`, {
    method: 'POST',
    body: 'x',
    headers: { host: 'big--alice.localhost', authorization: `Bearer ${token}` },
  });
  assert.equal(await r.body.text(), '1');
});

after(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  await up.close();
  await store.close();
  await db.drop();
});

test('backpressure: a stalled client stalls the tool, the proxy holds only socket buffers', async () => {
  upstreamSent = 0;
  const base = rss(child.pid!);
  const r = await request(`http://127.0.0.1:${port}/file`, {
    headers: { host: 'big--alice.localhost', authorization: `Bearer ${token}` },
  });
  const it = r.body[Symbol.asyncIterator]();
  let received = ((await it.next()).value as Buffer).length;
  // Stop reading; wait until the upstream has stopped producing (five still samples).
  let last = -1;
  let still = 0;
  await waitFor(
    () => {
      if (upstreamSent === last) still++;
      else {
        still = 0;
        last = upstreamSent;
      }
      return still >= 5;
    },
    20_000,
    'the upstream to stall (five still samples, 50 ms apart)',
    50,
  );
  const inFlight = upstreamSent - received;
  const growth = rss(child.pid!) - base;
  console.log(
    `stalled: ${(inFlight / 1048576).toFixed(1)} MB in flight, proxy RSS growth ${(growth / 1048576).toFixed(1)} MB`,
  );
  assert.ok(inFlight < 24 * 1024 * 1024, `in flight ${inFlight}`);
  assert.ok(growth < STALLED_LIMIT, `proxy RSS grew by ${(growth / 1048576).toFixed(1)} MB`);
  for (;;) {
    const n = await it.next();
    if (n.done) break;
    received += (n.value as Buffer).length;
  }
  assert.equal(received, SIZE);
});

test('100 MB download streams through at full speed with bounded proxy memory', async () => {
  let received = 0;
  const growth = await peakGrowth(async () => {
    const r = await request(`http://127.0.0.1:${port}/file`, {
      headers: { host: 'big--alice.localhost', authorization: `Bearer ${token}` },
    });
    assert.equal(r.statusCode, 200);
    for await (const c of r.body) received += (c as Buffer).length;
  });
  assert.equal(received, SIZE);
  assert.ok(growth < LIMIT, `proxy RSS grew by ${(growth / 1048576).toFixed(1)} MB`);
  console.log(`download: proxy RSS growth ${(growth / 1048576).toFixed(1)} MB for 100 MB`);
});

test('100 MB upload streams through with flat proxy memory', async () => {
  let answer = '';
  const growth = await peakGrowth(async () => {
    const r = await request(`http://127.0.0.1:${port}/upload`, {
      method: 'POST',
      body: source(SIZE),
      headers: {
        host: 'big--alice.localhost',
        authorization: `Bearer ${token}`,
        'content-length': String(SIZE),
      },
    });
    answer = await r.body.text();
  });
  assert.equal(answer, String(SIZE));
  assert.ok(growth < LIMIT, `proxy RSS grew by ${(growth / 1048576).toFixed(1)} MB`);
  console.log(`upload: proxy RSS growth ${(growth / 1048576).toFixed(1)} MB for 100 MB`);
});
