// berth usage against a real API over usage rows with known lifetimes: the table's
// figures are the ones worked out by hand (rounded to 2 decimals), with a TOTAL
// line; --by day splits at midnight UTC; -o json is the API's answer; a user is
// refused with the server's words.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parse } from 'yaml';
import { type RunningApi, startApi } from '../../api/index.ts';
import { freshDatabase, type TestDatabase } from '../support/db.ts';
import { finishedTask } from '../support/usage-rows.ts';
import { type Run, runBerth } from './harness.ts';

let db: TestDatabase;
let api: RunningApi;
let dir: string;
let adminToken: string;
let aliceToken: string;

function berth(token: string, args: string[]): Promise<Run> {
  return runBerth(args, {
    env: {
      BERTH_CONFIG: join(dir, `config-${token.slice(-6)}.yaml`),
      BERTH_SERVER: api.url,
      BERTH_TOKEN: token,
    },
  });
}

function ok(r: Run): Run {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

/** The table as rows of cells. */
function cells(out: string): string[][] {
  return out
    .trimEnd()
    .split('\n')
    .map((l) => l.trim().split(/\s+/));
}

function task(
  id: string,
  ns: string,
  tool: string,
  cpu: number,
  mib: number,
  from: string,
  to: string,
) {
  return finishedTask(db.pool, { id, ns, tool, cpu, mib, from, to });
}

before(async () => {
  db = await freshDatabase();
  api = await startApi({ pool: db.pool, port: 0, config: { logLevel: 'silent' } });
  adminToken = (await api.identity.createToken({ user: 'root', admin: true })).token;
  aliceToken = (await api.identity.createToken({ user: 'alice' })).token;
  dir = await mkdtemp(join(tmpdir(), 'berth-cli-usage-'));
  // alice: 0.25 vCPU / 512 MiB from 10:00 to 12:30 (2.5 h).
  await task('a', 'alice', 'jupyterlab', 256, 512, '2025-11-30T10:00:00Z', '2025-11-30T12:30:00Z');
  // bob: 1 vCPU / 8 GiB from 23:00 to 01:00 the next day (2 h).
  await task('b', 'bob', 'rstudio', 1024, 8192, '2025-11-30T23:00:00Z', '2025-12-01T01:00:00Z');
});

after(async () => {
  await api?.close();
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const WINDOW = ['--since', '2025-11-30T00:00:00Z', '--until', '2025-12-02T00:00:00Z'];

test('berth usage: per user, the hand-computed figures and a TOTAL line', async () => {
  const r = ok(await berth(adminToken, ['usage', ...WINDOW]));
  // alice 0.25 × 2.5 = 0.625 vCPU-h, 0.5 × 2.5 = 1.25 GiB-h; bob 1 × 2 = 2, 8 × 2 = 16.
  assert.deepEqual(cells(r.stdout), [
    ['USER', 'VCPU-HOURS', 'GIB-HOURS', 'RUNNING', 'TASKS'],
    ['alice', '0.63', '1.25', '2.50h', '1'],
    ['bob', '2.00', '16.00', '2.00h', '1'],
    ['TOTAL', '2.63', '17.25', '4.50h', '2'],
  ]);
  const byTool = ok(await berth(adminToken, ['usage', ...WINDOW, '--by', 'tool']));
  assert.deepEqual(cells(byTool.stdout)[0], [
    'TOOL',
    'VCPU-HOURS',
    'GIB-HOURS',
    'RUNNING',
    'TASKS',
  ]);
  assert.deepEqual(cells(byTool.stdout)[1], ['jupyterlab', '0.63', '1.25', '2.50h', '1']);
});

test('berth usage --by day: clipped to the window and split at midnight UTC', async () => {
  const r = ok(
    await berth(adminToken, [
      'usage',
      '--since',
      '2025-11-30T11:00:00Z',
      '--until',
      '2025-12-01T00:30:00Z',
      '--by',
      'day',
    ]),
  );
  // 30 Nov: alice 11:00-12:30 (1.5 h: 0.375, 0.75) + bob 23:00-24:00 (1 h: 1, 8).
  // 1 Dec: bob 00:00-00:30 (0.5 h: 0.5, 4).
  assert.deepEqual(cells(r.stdout), [
    ['DAY', 'VCPU-HOURS', 'GIB-HOURS', 'RUNNING', 'TASKS'],
    ['2025-11-30', '1.38', '8.75', '2.50h', '2'],
    ['2025-12-01', '0.50', '4.00', '0.50h', '1'],
    ['TOTAL', '1.88', '12.75', '3.00h', '2'],
  ]);
});

test('berth usage -o json and -o yaml give the API’s answer; an empty window says so', async () => {
  const json = JSON.parse(ok(await berth(adminToken, ['usage', ...WINDOW, '-o', 'json'])).stdout);
  assert.deepEqual(json.total, { vcpuHours: 2.625, gibHours: 17.25, runningHours: 4.5, tasks: 2 });
  const yaml = parse(ok(await berth(adminToken, ['usage', ...WINDOW, '-o', 'yaml'])).stdout);
  assert.deepEqual(yaml, json);
  const empty = ok(
    await berth(adminToken, ['usage', '--since', '2025-01-01', '--until', '2025-01-08']),
  );
  assert.equal(empty.stdout, '');
  assert.match(
    empty.stderr,
    /^No usage from 2025-01-01T00:00:00.000Z to 2025-01-08T00:00:00.000Z\./,
  );
});

test('berth usage: a user is refused with the server’s words; bad input is named', async () => {
  const r = await berth(aliceToken, ['usage']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /user "alice" cannot read usage: admin only/);
  assert.equal(r.stdout, '');
  const bad = await berth(adminToken, ['usage', '--since', 'last week']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /since.*must be a duration such as "7d"/);
  const by = await berth(adminToken, ['usage', '--by', 'week']);
  assert.equal(by.code, 1);
  assert.match(by.stderr, /--by must be one of user, tool, day, not "week"/);
});
