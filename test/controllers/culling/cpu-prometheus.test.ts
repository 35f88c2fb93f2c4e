// The culler's Prometheus CPU source (controllers/culling/cpu-prometheus.ts):
// against the real Prometheus scraping real metrics sidecars (a busy tool reads
// higher than an idle one, in percent of the task's CPU), and against a stand-in
// server for what it sends and how it fails (a refusal, a huge answer, no answer).
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { prometheusCpuSource } from '../../../controllers/culling/cpu-prometheus.ts';
import type { CpuQuery } from '../../../controllers/culling/cpu-source.ts';
import type { ToolInstance } from '../../../crds/index.ts';
import { demoWithMetrics, type MetricsEnv, startMetricsEnv } from '../../support/metrics-env.ts';
import { waitFor } from '../../support/wait.ts';
import { createInstance, createTool, waitForPhase } from '../reconcile-support.ts';

// A tool that keeps about half a core busy (50 ms of every 100 ms) and answers 200.
const BUSY = `
const http = require('node:http');
setInterval(() => { const end = Date.now() + 50; while (Date.now() < end) {} }, 100);
http.createServer((req, res) => res.end('busy')).listen(Number(process.env.PORT), process.env.HOST);
`;

function queryOf(ti: ToolInstance, cpuUnits: number): CpuQuery {
  const ns = ti.metadata.namespace!;
  return {
    key: `${ns}/${ti.metadata.name}`,
    namespace: ns,
    name: ti.metadata.name,
    tool: ti.spec.toolRef,
    taskArn: ti.status!.taskArn!,
    cpuUnits,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe('against the real Prometheus and metrics sidecars', () => {
  let m: MetricsEnv;
  before(async () => {
    m = await startMetricsEnv({
      addressOctet: 182,
      images: { 'berth/busy:test': { command: process.execPath, args: ['-e', BUSY] } },
    });
    await createTool(m.env.store, 'demo', demoWithMetrics());
    await createTool(m.env.store, 'busy', {
      ...demoWithMetrics(),
      displayName: 'Busy',
      image: 'berth/busy:test',
      readiness: { path: '/', timeoutSeconds: 2, periodSeconds: 1 },
    });
    await createInstance(m.env.store, 'alice', 'demo', 'demo');
    await createInstance(m.env.store, 'bob', 'busy', 'busy');
  });
  after(async () => {
    await m?.close();
  });

  test('a busy task reads higher than an idle one, in percent of its CPU; an idle one (its sidecar scraped every second) under 5 %; another task of the instance reads nothing', async () => {
    const idle = await waitForPhase(m.env.store, 'alice', 'demo', 'Ready', 60_000);
    const busy = await waitForPhase(m.env.store, 'bob', 'busy', 'Ready', 60_000);
    const units = 256; // the demo's small size
    const queries = [queryOf(idle, units), queryOf(busy, units)];
    const stale = {
      ...queryOf(idle, units),
      key: 'alice/stale',
      taskArn: `${idle.status!.taskArn}0`,
    };
    const source = prometheusCpuSource({ url: m.prometheus.url, scrapeIntervalMs: 1000 });
    assert.equal(source.name, 'prometheus');
    // Steady state: from a few seconds after both were Ready (not the processes' start-up).
    const since =
      Math.max(Date.parse(idle.status!.readyAt!), Date.parse(busy.status!.readyAt!)) + 3000;
    const answer = await waitFor(
      async () => {
        const now = Date.now();
        if (now < since) return undefined;
        const r = await source.read([...queries, stale], since, now, 1000);
        const enough = (k: string) => (r.get(k)?.length ?? 0) >= 5;
        return enough('alice/demo') && enough('bob/busy') ? r : undefined;
      },
      60_000,
      'five CPU samples of each task',
      500,
    );
    assert.equal(answer.has('alice/stale'), false, "another task's samples never count");
    const idlePct = median(answer.get('alice/demo')!.map(([, v]) => v));
    const busyPct = median(answer.get('bob/busy')!.map(([, v]) => v));
    console.log(
      `median CPU: idle demo ${idlePct.toFixed(1)} %, busy ${busyPct.toFixed(1)} % of 256 units`,
    );
    // Half a core is 200 % of a quarter-vCPU task; a loaded machine gives it less.
    assert.ok(busyPct > 40, `busy: ${busyPct} %`);
    // The sidecar's own scrapes (each 1 s here) are not use: an idle tool stays under
    // the default cpuThreshold of 5 %.
    assert.ok(idlePct < 5, `idle: ${idlePct} %`);
    assert.ok(
      busyPct > 2 * idlePct && busyPct > idlePct + 30,
      `busy ${busyPct} % against idle ${idlePct} %`,
    );
    const byContainer = await m.prometheus.query(
      'sum by (container) (rate(berth_container_cpu_seconds_total{user="alice"}[5s]))',
    );
    console.log(
      `idle demo's containers, cores: ${byContainer.map((s) => `${s.metric.container} ${Number(s.value[1]).toFixed(4)}`).join(', ')}`,
    );
    for (const [t] of answer.get('bob/busy')!)
      assert.ok(t <= Date.now() && t > Date.now() - 120_000);

    // The same samples for a task of 4 vCPUs read 16 times lower.
    const now = Date.now();
    const big = await source.read([queryOf(busy, 4096)], now - 10_000, now, 1000);
    const small = await source.read([queryOf(busy, 256)], now - 10_000, now, 1000);
    const [t0, v0] = small.get('bob/busy')![0]!;
    const match = big.get('bob/busy')!.find(([t]) => t === t0)!;
    assert.ok(Math.abs(match[1] * 16 - v0) < 1e-6 * Math.max(1, v0), `${match[1]} × 16 vs ${v0}`);
  });
});

describe('against a stand-in Prometheus', () => {
  let server: Server;
  let url: string;
  let answer: (
    req: IncomingMessage,
    body: string,
  ) => { status: number; body: string; hang?: boolean };
  const seen: { method: string; path: string; body: string; authorization?: string }[] = [];

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        seen.push({
          method: req.method!,
          path: req.url!,
          body,
          ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
        });
        const a = answer(req, body);
        if (a.hang) return;
        res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.body);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const q = (name: string, task: string, cpuUnits: number): CpuQuery => ({
    key: `alice/${name}`,
    namespace: 'alice',
    name,
    tool: 'demo',
    taskArn: `arn:aws:ecs:eu-west-2:000000000000:task/berth/${task}`,
    cpuUnits,
  });
  const matrix = (series: { metric: Record<string, string>; values: [number, string][] }[]) =>
    JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: series } });

  test('one POST query_range for every instance; cores become percent of the task CPU', async () => {
    seen.length = 0;
    answer = () => ({
      status: 200,
      body: matrix([
        {
          metric: { user: 'alice', tool_instance: 'a', task: 't1' },
          values: [
            [100, '0.5'],
            [101, 'NaN'],
            [102, '0.25'],
          ],
        },
        { metric: { user: 'alice', tool_instance: 'b', task: 't2' }, values: [[100, '0.5']] },
        // Another user's instance of the same name, and an older task: not ours.
        { metric: { user: 'bob', tool_instance: 'a', task: 't1' }, values: [[100, '9']] },
        { metric: { user: 'alice', tool_instance: 'b', task: 'old' }, values: [[100, '9']] },
      ]),
    });
    const source = prometheusCpuSource({ url: `${url}/prom/`, scrapeIntervalMs: 15_000 });
    const r = await source.read(
      [q('a', 't1', 1024), q('b', 't2', 256), q('c', 't3', 256)],
      40_000,
      100_000,
      60_000,
    );
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.method, 'POST');
    assert.equal(seen[0]!.path, '/prom/api/v1/query_range');
    const form = new URLSearchParams(seen[0]!.body);
    assert.equal(
      form.get('query'),
      'sum by (user, tool_instance, task) (rate(berth_container_cpu_seconds_total{container!="metrics"}[120000ms]))',
    );
    assert.equal(form.get('start'), '40');
    assert.equal(form.get('end'), '100');
    assert.equal(form.get('step'), '60000ms');
    assert.deepEqual(r.get('alice/a'), [
      [100_000, 50],
      [102_000, 25],
    ]);
    assert.deepEqual(r.get('alice/b'), [[100_000, 200]]);
    assert.equal(r.has('alice/c'), false, 'no series: absent, never zero');
    assert.equal(r.size, 2);

    seen.length = 0;
    assert.equal((await source.read([], 0, 1, 1)).size, 0);
    assert.equal(seen.length, 0, 'nothing to ask: no request');
  });

  test("a refusal is an error naming Prometheus's reason, without the URL's credentials (sent as basic auth)", async () => {
    answer = () => ({
      status: 400,
      body: JSON.stringify({
        status: 'error',
        errorType: 'bad_data',
        error: 'exceeded maximum resolution of 11,000 points per timeseries',
      }),
    });
    const withCredentials = url.replace('http://', 'http://scraper:s3cr3t-pass@');
    const source = prometheusCpuSource({ url: withCredentials });
    await assert.rejects(source.read([q('a', 't1', 256)], 0, 1e9, 1), (err: Error) => {
      assert.match(
        err.message,
        /query_range at http:\/\/127\.0\.0\.1:\d+\/api\/v1\/query_range: HTTP 400: exceeded maximum resolution/,
      );
      assert.ok(!err.message.includes('s3cr3t'), err.message);
      return true;
    });
    // The URL's credentials reach Prometheus as basic auth.
    assert.equal(
      seen.at(-1)?.authorization,
      `Basic ${Buffer.from('scraper:s3cr3t-pass').toString('base64')}`,
    );
    answer = () => ({ status: 502, body: '<html>bad gateway</html>' });
    await assert.rejects(source.read([q('a', 't1', 256)], 0, 1000, 1000), /HTTP 502, not JSON/);
    answer = () => ({
      status: 200,
      body: JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [] } }),
    });
    await assert.rejects(
      source.read([q('a', 't1', 256)], 0, 1000, 1000),
      /not a range query's answer/,
    );
  });

  test('an answer over the size limit is an error, not a partial read', async () => {
    const values: [number, string][] = Array.from({ length: 5000 }, (_, i) => [i, '0.1']);
    answer = () => ({
      status: 200,
      body: matrix([{ metric: { user: 'alice', tool_instance: 'a', task: 't1' }, values }]),
    });
    const source = prometheusCpuSource({ url, maxResponseBytes: 10_000 });
    await assert.rejects(source.read([q('a', 't1', 256)], 0, 5e6, 1000), /over 10000 bytes/);
  });

  test('no answer within the timeout is an error saying so', async () => {
    answer = () => ({ status: 200, body: '', hang: true });
    const source = prometheusCpuSource({ url, timeoutMs: 300 });
    await assert.rejects(
      source.read([q('a', 't1', 256)], 0, 1000, 1000),
      /failed: no answer within 300 ms/,
    );
  });
});
