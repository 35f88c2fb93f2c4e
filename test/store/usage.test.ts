// Usage records (migration 014, store/usage.ts): the sums match figures worked out
// by hand, a window clips each task's lifetime, a task spanning midnight is split
// between the UTC days, and starts and stops are idempotent.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  openTaskUsage,
  recordTaskStart,
  recordTaskStop,
  type TaskStart,
  usageSums,
} from '../../store/index.ts';
import { freshDatabase, type TestDatabase } from '../support/db.ts';

let db: TestDatabase;
before(async () => {
  db = await freshDatabase();
  // A: alice's jupyterlab, 0.25 vCPU / 512 MiB, 10:00 to 12:30 on 30 November (2.5 h).
  await recordTaskStart(
    db.pool,
    start('A', 'alice', 'jupyterlab', 256, 512, '2026-11-30T10:00:00Z'),
  );
  await recordTaskStop(db.pool, arn('A'), new Date('2026-11-30T12:30:00Z'));
  // B: bob's rstudio, 1 vCPU / 8 GiB, 23:00 on 30 November to 01:00 on 1 December (2 h).
  await recordTaskStart(db.pool, start('B', 'bob', 'rstudio', 1024, 8192, '2026-11-30T23:00:00Z'));
  await recordTaskStop(db.pool, arn('B'), new Date('2026-12-01T01:00:00Z'));
  // C: alice's jupyterlab again, 0.25 vCPU / 512 MiB, from 00:30 on 1 December, still running.
  await recordTaskStart(
    db.pool,
    start('C', 'alice', 'jupyterlab', 256, 512, '2026-12-01T00:30:00Z'),
  );
});
after(async () => {
  await db.drop();
});

const NOW = new Date('2026-12-01T02:00:00Z'); // C has run 1.5 h
const WHOLE = { since: new Date('2026-11-30T00:00:00Z'), until: new Date('2026-12-02T00:00:00Z') };

function arn(id: string): string {
  return `arn:aws:ecs:eu-west-2:000000000000:task/berth/${id}`;
}

function start(
  id: string,
  namespace: string,
  tool: string,
  cpuUnits: number,
  memoryMib: number,
  at: string,
  exact = true,
): TaskStart {
  return {
    taskArn: arn(id),
    namespace,
    instanceName: tool,
    instanceUid: '3f0c8a52-7d3e-4b1a-9c55-0d6f1e2a4b7c',
    tool,
    size: cpuUnits === 256 ? 'small' : 'large',
    cpuUnits,
    memoryMib,
    startedAt: new Date(at),
    exact,
  };
}

const fig = (vcpuHours: number, gibHours: number, runningHours: number, tasks: number) => ({
  vcpuHours,
  gibHours,
  runningHours,
  tasks,
});

test('by user: A + C for alice, B for bob, each task counted once in the total', async () => {
  const r = await usageSums(db.pool, { ...WHOLE, by: 'user', now: NOW });
  // alice: A 0.25 × 2.5 = 0.625 and C 0.25 × 1.5 = 0.375 vCPU-h; 0.5 × 2.5 + 0.5 × 1.5 GiB-h.
  // bob: B 1 × 2 = 2 vCPU-h, 8 × 2 = 16 GiB-h.
  assert.deepEqual(r.rows, [
    { key: 'alice', ...fig(1, 2, 4, 2) },
    { key: 'bob', ...fig(2, 16, 2, 1) },
  ]);
  assert.deepEqual(r.total, fig(3, 18, 6, 3));
  assert.equal(r.since, '2026-11-30T00:00:00.000Z');
  assert.equal(r.until, '2026-12-02T00:00:00.000Z');
  assert.equal(r.by, 'user');
});

test('by tool', async () => {
  const r = await usageSums(db.pool, { ...WHOLE, by: 'tool', now: NOW });
  assert.deepEqual(r.rows, [
    { key: 'jupyterlab', ...fig(1, 2, 4, 2) },
    { key: 'rstudio', ...fig(2, 16, 2, 1) },
  ]);
});

test('by day: B is split at midnight UTC, whatever the session time zone', async () => {
  const client = await db.pool.connect();
  try {
    await client.query(`set time zone 'Pacific/Auckland'`);
    const r = await usageSums(client, { ...WHOLE, by: 'day', now: NOW });
    // 30 Nov: A 2.5 h (0.625 vCPU-h, 1.25 GiB-h) + B 1 h (1, 8).
    // 1 Dec: B 1 h (1, 8) + C 1.5 h (0.375, 0.75).
    assert.deepEqual(r.rows, [
      { key: '2026-11-30', ...fig(1.625, 9.25, 3.5, 2) },
      { key: '2026-12-01', ...fig(1.375, 8.75, 2.5, 2) },
    ]);
    assert.deepEqual(r.total, fig(3, 18, 6, 3), 'B is one task in the total, though on two days');
  } finally {
    client.release();
  }
});

test('by day and tool: the plot', async () => {
  const r = await usageSums(db.pool, { ...WHOLE, by: 'day-tool', now: NOW });
  assert.deepEqual(
    r.rows.map((x) => [x.key, x.tool, x.vcpuHours]),
    [
      ['2026-11-30', 'jupyterlab', 0.625],
      ['2026-11-30', 'rstudio', 1],
      ['2026-12-01', 'jupyterlab', 0.375],
      ['2026-12-01', 'rstudio', 1],
    ],
  );
});

test('a window clips each task: [11:00 on 30 Nov, 00:30 on 1 Dec)', async () => {
  const r = await usageSums(db.pool, {
    since: new Date('2026-11-30T11:00:00Z'),
    until: new Date('2026-12-01T00:30:00Z'),
    by: 'tool',
    now: NOW,
  });
  // A 11:00-12:30 = 1.5 h; B 23:00-00:30 = 1.5 h; C starts at the window's end: none of it.
  assert.deepEqual(r.rows, [
    { key: 'jupyterlab', ...fig(0.375, 0.75, 1.5, 1) },
    { key: 'rstudio', ...fig(1.5, 12, 1.5, 1) },
  ]);
  assert.deepEqual(r.total, fig(1.875, 12.75, 3, 2));
});

test('a running task counts up to now, not to the window end', async () => {
  const r = await usageSums(db.pool, {
    since: new Date('2026-12-01T01:00:00Z'),
    until: new Date('2026-12-01T03:00:00Z'),
    by: 'user',
    now: NOW,
  });
  // B stopped at 01:00 exactly (nothing inside); C 01:00-02:00 = 1 h.
  assert.deepEqual(r.rows, [{ key: 'alice', ...fig(0.25, 0.5, 1, 1) }]);
});

test('an empty window: no rows, a zero total', async () => {
  const r = await usageSums(db.pool, {
    since: new Date('2026-10-01T00:00:00Z'),
    until: new Date('2026-10-08T00:00:00Z'),
    by: 'day',
    now: NOW,
  });
  assert.deepEqual(r.rows, []);
  assert.deepEqual(r.total, fig(0, 0, 0, 0));
});

test('starts are idempotent on the task ARN; an exact start refines an inexact one once', async () => {
  const d = start('D', 'carol', 'vscode', 512, 1024, '2026-11-01T09:00:00Z', false);
  await recordTaskStart(db.pool, d);
  await recordTaskStart(db.pool, d); // a retried launch
  await recordTaskStart(db.pool, {
    ...d,
    startedAt: new Date('2026-11-01T09:00:20Z'),
    exact: true,
  });
  // A later exact answer does not move it again.
  await recordTaskStart(db.pool, {
    ...d,
    startedAt: new Date('2026-11-01T09:05:00Z'),
    exact: true,
  });
  const { rows } = await db.pool.query(
    'select started_at, started_exact from task_usage where task_arn = $1',
    [arn('D')],
  );
  assert.equal(rows.length, 1);
  assert.equal(rows[0].started_at.toISOString(), '2026-11-01T09:00:20.000Z');
  assert.equal(rows[0].started_exact, true);
});

test('stops: the earliest wins, never before the start; an unknown task changes nothing', async () => {
  await recordTaskStart(db.pool, start('E', 'carol', 'vscode', 512, 1024, '2026-11-02T09:00:00Z'));
  assert.ok((await openTaskUsage(db.pool)).some((o) => o.taskArn === arn('E')));
  assert.equal(await recordTaskStop(db.pool, arn('E'), new Date('2026-11-02T10:00:00Z')), true);
  // The same stop again, and a later one: no change.
  assert.equal(await recordTaskStop(db.pool, arn('E'), new Date('2026-11-02T10:00:00Z')), false);
  assert.equal(await recordTaskStop(db.pool, arn('E'), new Date('2026-11-02T11:00:00Z')), false);
  // ECS's own, earlier stoppedAt: it moves back.
  assert.equal(await recordTaskStop(db.pool, arn('E'), new Date('2026-11-02T09:59:30Z')), true);
  assert.ok(!(await openTaskUsage(db.pool)).some((o) => o.taskArn === arn('E')));
  // A clock behind the start: the stop is the start (zero hours), never negative.
  await recordTaskStart(db.pool, start('F', 'carol', 'vscode', 512, 1024, '2026-11-03T09:00:00Z'));
  await recordTaskStop(db.pool, arn('F'), new Date('2026-11-03T08:00:00Z'));
  const { rows } = await db.pool.query(
    `select task_arn, stopped_at from task_usage where task_arn = any($1) order by task_arn`,
    [[arn('E'), arn('F')]],
  );
  assert.deepEqual(
    rows.map((r) => r.stopped_at.toISOString()),
    ['2026-11-02T09:59:30.000Z', '2026-11-03T09:00:00.000Z'],
  );
  assert.equal(await recordTaskStop(db.pool, arn('nope'), new Date()), false);
});

test('a bad start is a 422 naming the field, not a row', async () => {
  await assert.rejects(
    recordTaskStart(db.pool, {
      ...start('G', 'carol', 'vscode', 512, 1024, '2026-11-04T09:00:00Z'),
      cpuUnits: 0,
    }),
    (err: Error & { code?: number }) => err.code === 422 && /cpuUnits/.test(JSON.stringify(err)),
  );
});
