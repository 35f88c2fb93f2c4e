// GET /apis/berth/v1alpha1/usage: admins see the sums (by user, tool, day, day ×
// tool); a user gets 403, a stranger 401; bad parameters are a 400 naming the field.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { finishedTask } from '../support/usage-rows.ts';
import { BASE, type Harness, send, startHarness } from './support.ts';

let h: Harness;

function task(
  id: string,
  ns: string,
  tool: string,
  cpu: number,
  mib: number,
  from: string,
  to: string,
) {
  return finishedTask(h.db.pool, { id, ns, tool, cpu, mib, from, to });
}

before(async () => {
  h = await startHarness();
  // alice: 0.25 vCPU / 512 MiB, 10:00-12:30 (2.5 h); bob: 1 vCPU / 8 GiB, 23:00-01:00 (2 h).
  await task('a', 'alice', 'jupyterlab', 256, 512, '2025-11-30T10:00:00Z', '2025-11-30T12:30:00Z');
  await task('b', 'bob', 'rstudio', 1024, 8192, '2025-11-30T23:00:00Z', '2025-12-01T01:00:00Z');
});

after(async () => {
  await h?.close();
});

const WINDOW = 'since=2025-11-30T00:00:00Z&until=2025-12-02T00:00:00Z';

test('an admin sees the sums by user (the default), tool, day and day × tool', async () => {
  const byUser = await send(h, 'GET', `${BASE}/usage?${WINDOW}`, { token: h.admin });
  assert.equal(byUser.status, 200, byUser.text);
  assert.deepEqual(byUser.body, {
    since: '2025-11-30T00:00:00.000Z',
    until: '2025-12-02T00:00:00.000Z',
    by: 'user',
    rows: [
      { key: 'alice', vcpuHours: 0.625, gibHours: 1.25, runningHours: 2.5, tasks: 1 },
      { key: 'bob', vcpuHours: 2, gibHours: 16, runningHours: 2, tasks: 1 },
    ],
    total: { vcpuHours: 2.625, gibHours: 17.25, runningHours: 4.5, tasks: 2 },
  });

  const byTool = await send(h, 'GET', `${BASE}/usage?${WINDOW}&by=tool`, { token: h.admin });
  assert.deepEqual(
    byTool.body.rows.map((r: { key: string }) => r.key),
    ['jupyterlab', 'rstudio'],
  );

  const byDay = await send(h, 'GET', `${BASE}/usage?${WINDOW}&by=day`, { token: h.admin });
  assert.deepEqual(byDay.body.rows, [
    { key: '2025-11-30', vcpuHours: 1.625, gibHours: 9.25, runningHours: 3.5, tasks: 2 },
    { key: '2025-12-01', vcpuHours: 1, gibHours: 8, runningHours: 1, tasks: 1 },
  ]);

  const plot = await send(h, 'GET', `${BASE}/usage?${WINDOW}&by=day-tool`, { token: h.admin });
  assert.deepEqual(
    plot.body.rows.map((r: { key: string; tool: string; vcpuHours: number }) => [
      r.key,
      r.tool,
      r.vcpuHours,
    ]),
    [
      ['2025-11-30', 'jupyterlab', 0.625],
      ['2025-11-30', 'rstudio', 1],
      ['2025-12-01', 'rstudio', 1],
    ],
  );
});

test('since as a duration counts back from now; until defaults to now; a date is midnight UTC', async () => {
  const before = Date.now();
  const r = await send(h, 'GET', `${BASE}/usage?since=7d`, { token: h.admin });
  assert.equal(r.status, 200, r.text);
  const since = Date.parse(r.body.since);
  const until = Date.parse(r.body.until);
  assert.ok(Math.abs(until - since - 7 * 86_400_000) < 1000, `${r.body.since} .. ${r.body.until}`);
  assert.ok(until >= before - 1000);
  const d = await send(h, 'GET', `${BASE}/usage?since=2025-11-30&until=2025-12-01&by=tool`, {
    token: h.admin,
  });
  assert.equal(d.status, 200, d.text);
  assert.equal(d.body.since, '2025-11-30T00:00:00.000Z');
  // Clipped at midnight: bob's first hour only.
  assert.deepEqual(d.body.total, { vcpuHours: 1.625, gibHours: 9.25, runningHours: 3.5, tasks: 2 });
});

test('a user gets 403 with a clear Status; no token is 401', async () => {
  const r = await send(h, 'GET', `${BASE}/usage?${WINDOW}`, { token: h.alice });
  assert.equal(r.status, 403);
  assert.equal(r.body.kind, 'Status');
  assert.equal(r.body.reason, 'Forbidden');
  assert.equal(r.body.message, 'user "alice" cannot read usage: admin only');
  assert.equal(JSON.stringify(r.body).includes('jupyterlab'), false);
  const anon = await send(h, 'GET', `${BASE}/usage?${WINDOW}`);
  assert.equal(anon.status, 401);
});

test('bad parameters are a 400 naming the field and what was expected', async () => {
  const cases: [string, string, RegExp][] = [
    ['', 'since', /"since": is required: a duration such as "7d"/],
    ['since=yesterday', 'since', /must be a duration such as "7d".*RFC 3339/],
    ['since=7d&until=soon', 'until', /must be a duration/],
    ['since=7d&by=week', 'by', /must be one of user, tool, day, day-tool/],
    [
      'since=2025-12-02T00:00:00Z&until=2025-11-30T00:00:00Z',
      'since',
      /must be before until \(2025-11-30T00:00:00.000Z\)/,
    ],
    ['since=2024-01-01&until=2025-12-01', 'since', /at most 400 days/],
    ['since=7d&since=3d', 'since', /once/],
    ['since=7d&colour=red', 'colour', /unknown query parameter/],
  ];
  for (const [query, field, message] of cases) {
    const r = await send(h, 'GET', `${BASE}/usage?${query}`, { token: h.admin });
    assert.equal(r.status, 400, `${query}: ${r.text}`);
    assert.equal(r.body.kind, 'Status');
    const cause = r.body.details?.causes?.find((c: { field: string }) => c.field === field);
    assert.ok(cause, `${query}: a cause naming ${field}: ${r.text}`);
    assert.match(r.body.message, message, query);
  }
  const post = await send(h, 'POST', `${BASE}/usage?since=7d`, { token: h.admin, body: {} });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET, HEAD');
});
