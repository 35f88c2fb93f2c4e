// The manager's handling of reconcile outcomes: backoff that grows and resets,
// quiet conflicts, the reconcile timeout, graceful shutdown, metrics.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import type { ReconcileQueue, RunningControllers } from '../../controllers/index.ts';
import { ApiError } from '../../crds/index.ts';
import type { ResourceStore } from '../../store/index.ts';
import { widget } from '../store/test-kinds.ts';
import { freshDatabase, type TestDatabase } from '../support/db.ts';
import { metricValue } from '../support/metrics.ts';
import { waitFor } from '../support/wait.ts';
import { MemoryLog, Recorder, startTestControllers, writerStore } from './queue-support.ts';

let db: TestDatabase;
let queue: ReconcileQueue;
let store: ResourceStore;
let ctl: RunningControllers | undefined;

before(async () => {
  db = await freshDatabase();
  ({ queue, store } = await writerStore(db));
});
beforeEach(async () => {
  await ctl?.close();
  ctl = undefined;
});
after(async () => {
  await ctl?.close();
  await queue.stop();
  await store.close();
  await db.drop();
});

const metric = (c: RunningControllers, name: string, labels: Record<string, string>) =>
  metricValue(c.registry, name, labels);

/** Jobs of `key` that pg-boss could still hand out (queued, waiting to retry, or running). */
async function pendingJobs(key: string): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(
    `select count(*)::int as n from pgboss.job
      where singleton_key = $1 and state in ('created', 'retry', 'active')`,
    [key],
  );
  return rows[0]!.n;
}

test('a thrown error backs off exponentially; success resets the count', async () => {
  const rec = new Recorder();
  const log = new MemoryLog();
  let failUntil = 5;
  rec.behave = async (_key, attempt) => {
    if (attempt <= failUntil) throw new Error(`boom ${attempt}`);
    return { type: 'done' };
  };
  ctl = await startTestControllers(db, rec, 'm', { log, config: { backoffBaseMs: 20 } });
  await store.create('Widget', widget('flaky'));
  await waitFor(() => rec.count('ns1/flaky') >= 6, 10_000, 'six attempts');
  const starts = rec.spans.map((s) => s.start);
  const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
  // Delays drawn from [10,20], [20,40], [40,80], [80,160], [160,320] ms: each at
  // least the lower end of its range (a timer never fires early; a loaded machine
  // only adds), so the gaps grow as the failures do.
  const shown = gaps.map(Math.round).join(', ');
  for (const [n, gap] of gaps.slice(0, 5).entries())
    assert.ok(gap >= 10 * 2 ** n - 1, `gap ${n + 1} is at least ${10 * 2 ** n} ms: ${shown}`);
  const errors = log.lines.filter(
    (l) => l.level === 'error' && l.msg.startsWith('reconcile failed'),
  );
  assert.deepEqual(
    errors.map((e) => e.obj.failures),
    [1, 2, 3, 4, 5],
  );
  // Success reset the count: the next failure starts again at the base delay.
  failUntil = 7;
  rec.spans.length = 0;
  await store.patch('Widget', 'ns1', 'flaky', { spec: { size: 4 } });
  await waitFor(() => rec.count('ns1/flaky') >= 2, 5_000, 'failure then success');
  const last = log.lines.filter((l) => l.level === 'error').at(-1);
  assert.equal(last?.obj.failures, 1);
  assert.ok((last?.obj.retryInMs as number) <= 20);
  assert.equal(
    await metric(ctl, 'berth_controller_reconciles_total', { kind: 'Widget', result: 'error' }),
    6,
  );
});

test('a 409 Conflict requeues quietly and soon', async () => {
  const rec = new Recorder();
  const log = new MemoryLog();
  rec.behave = async (key, attempt) => {
    if (attempt === 1)
      throw new ApiError('Conflict', `widgets "${key.name}": the object has been modified`);
    return { type: 'done' };
  };
  // An error would wait at least 5 s (half the backoff base); a conflict only its 5 ms.
  ctl = await startTestControllers(db, rec, 'm', {
    log,
    config: { backoffBaseMs: 10_000, conflictRequeueMs: 5 },
  });
  await store.create('Widget', widget('contended'));
  await waitFor(() => rec.count('ns1/contended') >= 2, 20_000, 'second attempt');
  const [a, b] = rec.spans;
  const gap = b!.start - a!.end;
  assert.ok(gap < 5_000, `requeued after ${Math.round(gap)} ms, sooner than any error backoff`);
  assert.deepEqual(
    log.lines.filter((l) => l.level === 'error' || l.level === 'warn'),
    [],
  );
  assert.equal(
    await metric(ctl, 'berth_controller_reconciles_total', { kind: 'Widget', result: 'conflict' }),
    1,
  );
});

test('requeue after N ms runs again after about N ms; terminal stops', async () => {
  const rec = new Recorder();
  rec.behave = async (_key, attempt) =>
    attempt === 1
      ? { type: 'requeue', afterMs: 150 }
      : { type: 'terminal', reason: 'cannot converge' };
  ctl = await startTestControllers(db, rec, 'm');
  await store.create('Widget', widget('slowpoke'));
  await waitFor(() => rec.count('ns1/slowpoke') >= 2, 20_000, 'requeued reconcile');
  const [a, b] = rec.spans;
  const gap = b!.start - a!.end;
  // Not before its time; later only by the machine's load (the backstop poll is 1 s).
  assert.ok(gap >= 140 && gap < 10_000, `requeue gap ${Math.round(gap)} ms`);
  // Terminal: the job is settled and nothing is queued for the key, so nothing more can come.
  await waitFor(
    async () => (await pendingJobs('Widget/ns1/slowpoke')) === 0,
    20_000,
    'job settled',
  );
  assert.equal(rec.count('ns1/slowpoke'), 2);
  assert.equal(
    await metric(ctl, 'berth_controller_reconciles_total', { kind: 'Widget', result: 'terminal' }),
    1,
  );
});

test('a reconcile past its timeout sees its signal aborted and is retried', async () => {
  const rec = new Recorder();
  let aborted: unknown;
  rec.behave = async (_key, attempt, signal) => {
    if (attempt > 1) return { type: 'done' };
    await new Promise<void>((_, reject) => {
      signal.addEventListener('abort', () => {
        aborted = signal.reason;
        reject(signal.reason);
      });
    });
    return { type: 'done' };
  };
  ctl = await startTestControllers(db, rec, 'm', { config: { reconcileTimeoutMs: 100 } });
  await store.create('Widget', widget('hang'));
  await waitFor(() => rec.count('ns1/hang') >= 2, 20_000, 'retry after the timeout');
  assert.match(String(aborted), /timed out after 100 ms/);
  const first = rec.spans[0]!;
  assert.ok(first.end - first.start >= 95, `aborted after ${first.end - first.start} ms`);
  assert.equal(
    await metric(ctl, 'berth_controller_reconciles_total', { kind: 'Widget', result: 'timeout' }),
    1,
  );
});

test('close() stops taking jobs and lets in-flight reconciles finish', async () => {
  const rec = new Recorder();
  let abortedDuringShutdown = false;
  let c: RunningControllers | undefined;
  rec.behave = async (_key, _attempt, signal) => {
    // A slow reconcile: still working 300 ms after close() began (its work, not a
    // wait of the test's), so a close() that did not wait would return first.
    await waitFor(() => c && !c.running, 20_000, 'close() to begin');
    await new Promise((r) => setTimeout(r, 300));
    abortedDuringShutdown = signal.aborted;
    return { type: 'done' };
  };
  c = await startTestControllers(db, rec, 'm');
  await store.create('Widget', widget('inflight'));
  await waitFor(() => rec.running.get('ns1/inflight') === 1, 20_000, 'reconcile running');
  await c.close();
  assert.equal(rec.count('ns1/inflight'), 1, 'finished before close returned');
  assert.equal(abortedDuringShutdown, false);
  const { rows } = await db.pool.query(
    `select state::text from pgboss.job where singleton_key = 'Widget/ns1/inflight' and state = 'active'`,
  );
  assert.deepEqual(rows, [], 'job settled');
  // Taking no more work: a write after close waits for the next controller.
  await store.create('Widget', widget('after-close'));
  const next = await startTestControllers(db, rec, 'next');
  try {
    await waitFor(() => rec.count('ns1/after-close') === 1, 20_000, 'the next controller');
    assert.deepEqual(
      rec.spans.filter((s) => s.key === 'ns1/after-close').map((s) => s.manager),
      ['next'],
      'the closed controller took nothing',
    );
  } finally {
    await next.close();
  }
});

test('past the shutdown deadline in-flight reconciles are aborted and close returns', async () => {
  const rec = new Recorder();
  rec.behave = (_key, _attempt, signal) =>
    new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
  // The reconcile itself would time out only after 10 minutes: what ends it is the deadline.
  const c = await startTestControllers(db, rec, 'm', {
    config: { shutdownDeadlineMs: 200, reconcileTimeoutMs: 600_000 },
  });
  await store.create('Widget', widget('stuck'));
  await waitFor(() => rec.running.get('ns1/stuck') === 1, 20_000, 'reconcile running');
  const t0 = Date.now();
  await c.close();
  const took = Date.now() - t0;
  assert.ok(took >= 190, `close waited for the deadline first (${took} ms)`);
  assert.ok(took < 60_000, `close took ${took} ms`);
  assert.equal(rec.running.get('ns1/stuck'), 0, 'aborted and settled');
});
