// The controllers' wake-up connection (LISTEN berth_reconcile): an enqueue's NOTIFY
// wakes the loop of its kind; a lost connection comes back on its own and then
// wakes every loop, since notifications sent while it was down are gone.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RECONCILE_CHANNEL } from '../../controllers/queue/names.ts';
import { startWakeListener, type WakeListener } from '../../controllers/queue/wake-listener.ts';
import { freshDatabase, type TestDatabase } from '../support/db.ts';
import { waitFor } from '../support/wait.ts';

let db: TestDatabase;
let listener: WakeListener;
const wakes: Array<string | undefined> = [];
const errors: unknown[] = [];

before(async () => {
  db = await freshDatabase();
  listener = await startWakeListener(
    { connectionString: db.url },
    (kind) => wakes.push(kind),
    (err) => errors.push(err),
  );
});

after(async () => {
  await listener?.close();
  await db?.drop();
});

const backends = async () =>
  (
    await db.pool.query<{ pid: number }>(
      "select pid from pg_stat_activity where application_name = 'berth-controller-listen' and datname = current_database()",
    )
  ).rows.map((r) => r.pid);

test('a NOTIFY wakes the loop of its kind', async () => {
  await db.pool.query('select pg_notify($1, $2)', [RECONCILE_CHANNEL, 'ToolInstance']);
  await waitFor(() => wakes.includes('ToolInstance'), 5_000, 'the ToolInstance wake');
  assert.deepEqual(wakes, ['ToolInstance'], 'no wake-everything on the first connection');
});

test('after the connection is lost it reconnects, wakes every loop, and listens again', async () => {
  const before = await backends();
  assert.equal(before.length, 1);
  wakes.length = 0;
  await db.pool.query('select pg_terminate_backend($1)', [before[0]]);
  await waitFor(() => wakes.includes(undefined), 5_000, 'the wake-everything after reconnecting');
  assert.ok(errors.length > 0, 'the lost connection was reported');
  const now = await backends();
  assert.equal(now.length, 1);
  assert.notEqual(now[0], before[0]);
  await db.pool.query('select pg_notify($1, $2)', [RECONCILE_CHANNEL, 'ToolDefinition']);
  await waitFor(() => wakes.includes('ToolDefinition'), 5_000, 'a wake on the new connection');
});
