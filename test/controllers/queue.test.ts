// The reconcile queue end to end on a real PostgreSQL: enqueue in the write's
// transaction, delivery to a manager started later, which writes enqueue, priority,
// resync, no key reconciled twice at once across two managers.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import type { ReconcileQueue, RunningControllers } from '../../controllers/index.ts';
import { backoffDelayMs, jitter } from '../../controllers/queue/index.ts';
import type { ResourceStore } from '../../store/index.ts';
import { testStore, widget } from '../store/test-kinds.ts';
import { freshDatabase, type TestDatabase } from '../support/db.ts';
import { Recorder, startTestControllers, waitFor, writerStore } from './queue-support.ts';

let db: TestDatabase;
let queue: ReconcileQueue;
let store: ResourceStore;
const running: RunningControllers[] = [];

before(async () => {
  db = await freshDatabase();
  ({ queue, store } = await writerStore(db));
});
beforeEach(async () => {
  await db.pool.query('delete from pgboss.job');
  await db.pool.query('delete from resources');
});
after(async () => {
  for (const c of running) await c.close();
  await queue.stop();
  await store.close();
  await db.drop();
});

async function jobs(): Promise<
  { key: string; state: string; priority: number; failures: number }[]
> {
  const { rows } = await db.pool.query(
    `select singleton_key as key, state::text as state, priority, (data->>'failures')::int as failures
       from pgboss.job where name = 'reconcile-widget' and state in ('created', 'retry', 'active')
      order by singleton_key`,
  );
  return rows;
}

/**
 * A manager with one worker slot, held by the reconcile of `blocker` until `gate()`:
 * what is queued meanwhile then runs in the queue's order.
 */
async function blockedController(name: string) {
  const rec = new Recorder();
  let gate!: () => void;
  const opened = new Promise<void>((r) => {
    gate = r;
  });
  rec.behave = async (key) => {
    if (key.name === 'blocker') await opened;
    return { type: 'done' };
  };
  const ctl = await startTestControllers(db, rec, name, { config: { concurrency: 1 } });
  running.push(ctl);
  await store.create('Widget', widget('blocker'));
  await waitFor(() => rec.running.get('ns1/blocker') === 1, 5_000, 'blocker running');
  return { rec, gate, ctl };
}

test('backoff: 5 ms × 2^n with jitter in [d/2, d], capped', () => {
  const o = { baseMs: 5, maxMs: 300_000 };
  assert.equal(
    backoffDelayMs(0, o, () => 1),
    5,
  );
  assert.equal(
    backoffDelayMs(3, o, () => 1),
    40,
  );
  assert.equal(
    backoffDelayMs(3, o, () => 0),
    20,
  );
  assert.equal(
    backoffDelayMs(30, o, () => 1),
    300_000,
  );
  assert.equal(
    backoffDelayMs(1000, o, () => 0),
    150_000,
  );
  const j = jitter(1000);
  assert.ok(j >= 900 && j <= 1100);
});

test('a write enqueues in its own transaction; a rolled-back write enqueues nothing', async () => {
  await assert.rejects(
    store.create('Widget', widget('rolled-back'), {
      inTransaction: async () => {
        throw new Error('abort this write');
      },
    }),
  );
  assert.deepEqual(await jobs(), []);
  await store.create('Widget', widget('w1'));
  assert.deepEqual(await jobs(), [
    { key: 'Widget/ns1/w1', state: 'created', priority: 10, failures: 0 },
  ]);
  // Stately: a second change while one is queued keeps one job.
  await store.patch('Widget', 'ns1', 'w1', { spec: { size: 5 } });
  assert.equal((await jobs()).length, 1);
});

test('which writes enqueue: spec, finalizers, deletion yes; status and labels no', async () => {
  await store.create('Widget', widget('w2'));
  const clear = () => db.pool.query('delete from pgboss.job');
  await clear();
  await store.patchStatus('Widget', 'ns1', 'w2', { status: { phase: 'Up' } });
  await store.patch('Widget', 'ns1', 'w2', { metadata: { labels: { a: 'b' } } });
  assert.deepEqual(await jobs(), [], 'status and label writes do not enqueue');
  await store.patch('Widget', 'ns1', 'w2', { spec: { size: 3 } });
  assert.equal((await jobs()).length, 1, 'spec change');
  await clear();
  await store.patch('Widget', 'ns1', 'w2', { metadata: { finalizers: ['test/f'] } });
  assert.equal((await jobs()).length, 1, 'finalizer added');
  await clear();
  await store.delete('Widget', 'ns1', 'w2');
  assert.equal((await jobs()).length, 1, 'deletionTimestamp set');
  await clear();
  await store.patch('Widget', 'ns1', 'w2', { metadata: { finalizers: [] } });
  assert.equal((await jobs()).length, 1, 'finalizer removed: object deleted');
});

test('writes made while no controller runs are reconciled when one starts', async () => {
  for (let i = 0; i < 5; i++) await store.create('Widget', widget(`early-${i}`));
  const rec = new Recorder();
  const ctl = await startTestControllers(db, rec, 'late');
  running.push(ctl);
  await waitFor(() => rec.spans.length >= 5, 5_000, 'five reconciles');
  assert.deepEqual([...new Set(rec.spans.map((s) => s.key))].sort(), [
    'ns1/early-0',
    'ns1/early-1',
    'ns1/early-2',
    'ns1/early-3',
    'ns1/early-4',
  ]);
  // And a write now is picked up at once through NOTIFY (poll interval is 1 s).
  const t0 = performance.now();
  await store.create('Widget', widget('prompt'));
  await waitFor(() => rec.count('ns1/prompt') > 0, 5_000, 'the new widget reconciled');
  const first = rec.spans.find((s) => s.key === 'ns1/prompt')!;
  assert.ok(
    first.start - t0 < 500,
    `woken by NOTIFY, not the poll: ${Math.round(first.start - t0)} ms`,
  );
  await ctl.close();
  running.pop();
});

test('resync enqueues everything at low priority; a user change outranks it and pulls it forward', async () => {
  const plain = testStore(db); // writes that do not enqueue
  for (let i = 0; i < 6; i++) await plain.create('Widget', widget(`r-${i}`));
  assert.deepEqual(await jobs(), []);
  const { rec, gate, ctl } = await blockedController('prio');
  // Seven: the running blocker's queued slot is free too.
  assert.equal(await ctl.resync(), 7);
  const queued = (await jobs()).filter((j) => j.state === 'created');
  assert.equal(queued.length, 7);
  assert.ok(queued.every((j) => j.priority === 0));
  // A user change to r-5 (already queued at resync priority) is pulled up.
  await store.patch('Widget', 'ns1', 'r-5', { spec: { size: 9 } });
  assert.equal((await jobs()).find((j) => j.key === 'Widget/ns1/r-5')?.priority, 10);
  gate();
  await waitFor(() => rec.spans.length >= 8, 5_000, 'all reconciled');
  const order = rec.spans.map((s) => s.key);
  assert.equal(order[0], 'ns1/blocker');
  assert.equal(order[1], 'ns1/r-5', `user change first: ${order.join(', ')}`);
  await ctl.close();
  running.pop();
  await plain.close();
});

test("controllers' follow-ups run behind user changes and never lower one", async () => {
  const { rec, gate, ctl } = await blockedController('tiers');
  // Follow-ups (a poller's observation, a requeue) for f-0..f-2, then a user's change to u.
  const key = (name: string) => ({ kind: 'Widget', namespace: 'ns1', name });
  for (let i = 0; i < 3; i++) await queue.enqueue(key(`f-${i}`), { priority: 'system' });
  await store.create('Widget', widget('u'));
  // A follow-up that finds the user's job queued pulls it forward without lowering it.
  await queue.enqueue(key('u'), { priority: 'system' });
  const queued = await jobs();
  assert.deepEqual(
    queued.filter((j) => j.state === 'created').map((j) => [j.key, j.priority]),
    [
      ['Widget/ns1/f-0', 5],
      ['Widget/ns1/f-1', 5],
      ['Widget/ns1/f-2', 5],
      ['Widget/ns1/u', 10],
    ],
  );
  gate();
  await waitFor(() => rec.spans.length >= 5, 5_000, 'all reconciled');
  const order = rec.spans.map((s) => s.key);
  assert.equal(order[1], 'ns1/u', `the user's change first: ${order.join(', ')}`);
  await ctl.close();
  running.pop();
});

test('a queued job claimed while a write enqueues does not swallow the write: another is queued', async () => {
  await store.create('Widget', widget('raced'));
  assert.equal((await jobs()).length, 1);
  // A write whose enqueue finds that job queued; a worker claims it in between
  // (made to happen here just before the pull-forward), so the claimed job may read
  // the object before the write commits.
  const client = await db.pool.connect();
  let claimed = false;
  const query = client.query.bind(client) as (...a: unknown[]) => Promise<unknown>;
  (client as unknown as { query: typeof query }).query = async (...args: unknown[]) => {
    const first = args[0];
    const text = typeof first === 'string' ? first : ((first as { text?: string }).text ?? '');
    if (!claimed && text.trimStart().startsWith('WITH o AS')) {
      claimed = true;
      await db.pool.query(
        `update pgboss.job set state = 'active', started_on = now()
          where name = 'reconcile-widget' and singleton_key = 'Widget/ns1/raced' and state = 'created'`,
      );
    }
    return query(...args);
  };
  try {
    await client.query('begin');
    await queue.enqueue({ kind: 'Widget', namespace: 'ns1', name: 'raced' }, { client });
    await client.query('commit');
  } finally {
    client.release();
  }
  assert.ok(claimed, 'the race was staged');
  assert.deepEqual(
    (await jobs()).map((j) => j.state).sort(),
    ['active', 'created'],
    'a new queued job runs after the claimed one, and sees the write',
  );
});

test('two managers, 100 keys, changes while reconciling: no key ever reconciled twice at once', async () => {
  const rec = new Recorder();
  rec.behave = async (_key, attempt) => {
    await new Promise((r) => setTimeout(r, 1 + Math.random() * 6));
    // Ask for more work on the same key while it runs, half the time.
    if (attempt < 3 && Math.random() < 0.5) return { type: 'requeue', afterMs: 0 };
    return { type: 'done' };
  };
  const a = await startTestControllers(db, rec, 'a');
  const b = await startTestControllers(db, rec, 'b');
  running.push(a, b);
  const names = Array.from({ length: 100 }, (_, i) => `k-${i}`);
  await Promise.all(names.map((n) => store.create('Widget', widget(n))));
  // More changes to the same keys while they are being reconciled.
  await Promise.all(names.map((n) => store.patch('Widget', 'ns1', n, { spec: { size: 2 } })));
  await waitFor(
    async () =>
      names.every((n) => rec.count(`ns1/${n}`) > 0) &&
      (await jobs()).length === 0 &&
      a.inflight() + b.inflight() === 0,
    20_000,
    'every key reconciled and the queue empty',
  );
  assert.equal(rec.overlaps, 0, 'a key ran twice at once');
  // Independently of the counter: spans of one key never intersect.
  const byKey = new Map<string, { start: number; end: number }[]>();
  for (const s of rec.spans) byKey.set(s.key, [...(byKey.get(s.key) ?? []), s]);
  for (const [key, spans] of byKey) {
    spans.sort((x, y) => x.start - y.start);
    for (let i = 1; i < spans.length; i++)
      assert.ok(spans[i]!.start >= spans[i - 1]!.end, `${key} overlapped`);
  }
  const managers = new Set(rec.spans.map((s) => s.manager));
  assert.deepEqual([...managers].sort(), ['a', 'b'], 'both managers took work');
  await Promise.all([a.close(), b.close()]);
  running.length = 0;
});
