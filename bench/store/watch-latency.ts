// Watch latency under 200 writes per second: each write (an API merge-patch) is
// timed from the moment it is sent until a watcher streaming NDJSON from the API
// receives it. That is an upper bound on commit-to-watcher latency. The baseline is
// PostgreSQL's own LISTEN/NOTIFY at the same rate, measured the same way.
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { Pool as HttpPool } from 'undici';
import { percentile, runConcurrently, setUp, table, toolInstance } from './setup.lib.ts';

const RATE = 200;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WRITES = RATE * SECONDS;
const OBJECTS = 100;

const env = await setUp();
const http = new HttpPool(env.api.url, { connections: 64 });
const headers = { authorization: `Bearer ${env.token}` };

/** Calls `fn(i)` RATE times per second, WRITES times, without waiting for earlier calls. */
async function paced(fn: (i: number) => Promise<void>): Promise<void> {
  const start = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < WRITES; i++) {
    const due = start + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    inflight.push(fn(i));
  }
  await Promise.all(inflight);
}

try {
  await runConcurrently(OBJECTS, 16, async (i) => {
    const res = await http.request({
      method: 'POST',
      path: '/apis/berth/v1alpha1/namespaces/bench/toolinstances',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify(toolInstance(i, 'bench')),
    });
    await res.body.text();
  });
  const listRes = await http.request({
    method: 'GET',
    path: '/apis/berth/v1alpha1/namespaces/bench/toolinstances',
    headers,
  });
  const rv = ((await listRes.body.json()) as { metadata: { resourceVersion: string } }).metadata
    .resourceVersion;

  // The watcher.
  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  const watchRes = await http.request({
    method: 'GET',
    path: `/apis/berth/v1alpha1/namespaces/bench/toolinstances?watch=true&resourceVersion=${rv}`,
    headers,
  });
  let received = 0;
  let allReceived: () => void = () => {};
  const done = new Promise<void>((r) => {
    allReceived = r;
  });
  let buf = '';
  watchRes.body.setEncoding('utf8');
  watchRes.body.on('data', (chunk: string) => {
    const now = performance.now();
    buf += chunk;
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      nl = buf.indexOf('\n');
      if (!line) continue;
      const ev = JSON.parse(line) as {
        type: string;
        object: { metadata: { annotations?: Record<string, string> } };
      };
      const seq = Number(ev.object.metadata.annotations?.['bench/seq']);
      const sent = sentAt.get(seq);
      if (ev.type === 'MODIFIED' && sent !== undefined) {
        latencies.push(now - sent);
        if (++received === WRITES) allReceived();
      }
    }
  });
  watchRes.body.on('error', () => {});

  const writeTimes: number[] = [];
  await paced(async (i) => {
    sentAt.set(i, performance.now());
    const res = await http.request({
      method: 'PATCH',
      path: `/apis/berth/v1alpha1/namespaces/bench/toolinstances/tool-${i % OBJECTS}`,
      headers: { ...headers, 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ metadata: { annotations: { 'bench/seq': String(i) } } }),
    });
    await res.body.text();
    if (res.statusCode !== 200) throw new Error(`patch ${i}: ${res.statusCode}`);
    writeTimes.push(performance.now() - (sentAt.get(i) ?? 0));
  });
  const timeout = setTimeout(() => allReceived(), 10_000);
  await done;
  clearTimeout(timeout);
  watchRes.body.destroy();
  if (received !== WRITES) throw new Error(`watcher received ${received} of ${WRITES} changes`);

  // Baseline: raw LISTEN/NOTIFY at the same rate.
  const listener = new pg.Client({ connectionString: env.url });
  await listener.connect();
  await listener.query('listen bench_baseline');
  const baseSent = new Map<number, number>();
  const baseLatencies: number[] = [];
  listener.on('notification', (n) => {
    const sent = baseSent.get(Number(n.payload));
    if (sent !== undefined) baseLatencies.push(performance.now() - sent);
  });
  await paced(async (i) => {
    baseSent.set(i, performance.now());
    await env.pool.query('select pg_notify($1, $2)', ['bench_baseline', String(i)]);
  });
  const deadline = performance.now() + 10_000;
  while (baseLatencies.length < WRITES && performance.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  await listener.end();

  for (const a of [latencies, baseLatencies, writeTimes]) a.sort((x, y) => x - y);
  const p = (a: number[], q: number) => `${percentile(a, q).toFixed(1)} ms`;
  table([
    ['measure', 'p50', 'p99'],
    [
      `berth watch latency, send -> watcher (${RATE} writes/s, ${WRITES} writes)`,
      p(latencies, 50),
      `${p(latencies, 99)} (target < 50 ms)`,
    ],
    ['  of which the write round trip (send -> 200 OK)', p(writeTimes, 50), p(writeTimes, 99)],
    ['baseline: pg_notify -> LISTEN at the same rate', p(baseLatencies, 50), p(baseLatencies, 99)],
    [
      'ratio berth / baseline',
      (percentile(latencies, 50) / percentile(baseLatencies, 50)).toFixed(1),
      (percentile(latencies, 99) / percentile(baseLatencies, 99)).toFixed(1),
    ],
  ]);
} finally {
  await http.close();
  await env.close();
}
