// Creates 10,000 ToolInstances through the API, then lists all of them.
// Baselines, measured in the same run: the same rows INSERTed straight into a
// plain table with the same concurrency, and the same rows SELECTed straight back.
import { performance } from 'node:perf_hooks';
import { Pool as HttpPool } from 'undici';
import { percentile, runConcurrently, setUp, table, toolInstance } from './setup.lib.ts';

const N = Number(process.env.BENCH_OBJECTS ?? 10_000);
const CONCURRENCY = 32;

const env = await setUp();
const http = new HttpPool(env.api.url, { connections: CONCURRENCY });
const headers = { authorization: `Bearer ${env.token}`, 'content-type': 'application/json' };
try {
  // Baseline: direct INSERTs of the same documents.
  await env.pool.query(
    'create table bench_baseline (ns text, name text, object jsonb, primary key (ns, name))',
  );
  let t0 = performance.now();
  await runConcurrently(N, CONCURRENCY, async (i) => {
    const obj = toolInstance(i);
    const meta = obj.metadata as { namespace: string; name: string };
    await env.pool.query('insert into bench_baseline (ns, name, object) values ($1, $2, $3)', [
      meta.namespace,
      meta.name,
      obj,
    ]);
  });
  const baselineCreateMs = performance.now() - t0;

  t0 = performance.now();
  await runConcurrently(N, CONCURRENCY, async (i) => {
    const obj = toolInstance(i);
    const ns = (obj.metadata as { namespace: string }).namespace;
    const res = await http.request({
      method: 'POST',
      path: `/apis/berth/v1alpha1/namespaces/${ns}/toolinstances`,
      headers,
      body: JSON.stringify(obj),
    });
    const text = await res.body.text();
    if (res.statusCode !== 201)
      throw new Error(`create ${i}: ${res.statusCode} ${text.slice(0, 200)}`);
  });
  const createMs = performance.now() - t0;

  // List everything: through the API (all namespaces, one response) and straight from SQL.
  const listTimes: number[] = [];
  const baselineListTimes: number[] = [];
  let count = 0;
  for (let round = 0; round < 5; round++) {
    t0 = performance.now();
    const rows = (await env.pool.query('select object from bench_baseline order by ns, name')).rows;
    JSON.stringify(rows.map((r) => r.object));
    baselineListTimes.push(performance.now() - t0);

    t0 = performance.now();
    const res = await http.request({
      method: 'GET',
      path: '/apis/berth/v1alpha1/toolinstances',
      headers,
    });
    const body = (await res.body.json()) as { items: unknown[] };
    listTimes.push(performance.now() - t0);
    count = body.items.length;
  }
  if (count !== N) throw new Error(`list returned ${count} items, expected ${N}`);
  listTimes.sort((a, b) => a - b);
  baselineListTimes.sort((a, b) => a - b);
  const listMedian = percentile(listTimes, 50);
  const baseListMedian = percentile(baselineListTimes, 50);

  const rate = (N / createMs) * 1000;
  const baseRate = (N / baselineCreateMs) * 1000;
  table([
    ['measure', 'berth', 'baseline (direct SQL) / ratio'],
    [
      `create ${N} ToolInstances via API (${CONCURRENCY} in flight)`,
      `${rate.toFixed(0)} objects/s`,
      `${baseRate.toFixed(0)} rows/s; berth/baseline = ${(rate / baseRate).toFixed(2)}`,
    ],
    [
      `list all ${N} via API (median of 5)`,
      `${listMedian.toFixed(0)} ms (target < 300 ms)`,
      `${baseListMedian.toFixed(0)} ms; berth/baseline = ${(listMedian / baseListMedian).toFixed(2)}`,
    ],
  ]);
} finally {
  await http.close();
  await env.close();
}
