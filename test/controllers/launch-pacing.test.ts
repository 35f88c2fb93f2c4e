// The pieces that keep a launch burst from holding up other reconciles: the
// token bucket's wait estimate, the driver's deferral places, the kind loop's
// parking (a job waiting for a token gives up its worker slot), and a burst of
// launches through the real controllers against ecs-local with its ECS
// throttling on, which the driver's pacing never trips.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  createEcsDriver,
  loadEcsConfig,
  ReconcileQueue,
  TokenBucket,
} from '../../controllers/index.ts';
import { KindLoop } from '../../controllers/kind-loop.ts';
import type { ReconcileJob } from '../../controllers/queue/index.ts';
import { freshDatabase, type TestDatabase } from '../support/db.ts';
import { metricValue } from '../support/metrics.ts';
import { nextTurn, waitFor } from '../support/wait.ts';
import { createInstance, createTool, type Env, startEnv, tinySpec } from './reconcile-support.ts';

const silent = { info() {}, warn() {}, error() {}, debug() {} };

describe('TokenBucket.estimateWaitMs', () => {
  test('counts the tokens owed to waiters ahead, at the refill rate', async () => {
    let t = 0;
    const bucket = new TokenBucket({ capacity: 2, refillPerSecond: 10, now: () => t });
    assert.equal(bucket.estimateWaitMs(), 0, 'a full bucket: no wait');
    void bucket.take(2);
    assert.equal(bucket.estimateWaitMs(), 100, 'empty: one token is 100 ms at 10/s');
    const queued = bucket.take(1);
    assert.equal(bucket.waiting(), 1);
    assert.equal(bucket.estimateWaitMs(), 200, 'behind one waiter: two tokens');
    t = 150;
    assert.equal(bucket.estimateWaitMs(), 50, 'time passing refills');
    bucket.close();
    await assert.rejects(queued, /closed/);
  });
});

describe('EcsDriver.runTaskDeferMs', () => {
  test('0 within the horizon; past it, each caller gets its own later place', async () => {
    const driver = createEcsDriver({
      config: loadEcsConfig({
        BERTH_ECS_ENDPOINT: 'http://127.0.0.1:9',
        BERTH_ECS_SUBNETS: 'subnet-0a1b2c3d4e5f60001',
        BERTH_ECS_SECURITY_GROUPS: 'sg-0a1b2c3d4e5f60001',
      }),
      // 10 RunTask calls per second, burst 2 (1 after the driver's headroom).
      buckets: { fargateRunTask: { capacity: 2, refillPerSecond: 10 } },
    });
    try {
      assert.equal(driver.runTaskDeferMs(1000), 0, 'tokens in hand');
      // 20 callers queued: about 2 s of RunTask tokens ahead.
      const waits = Array.from({ length: 21 }, () => driver.buckets.fargateRunTask.take(1));
      assert.ok(driver.runTaskWaitMs() > 1900, `wait ${driver.runTaskWaitMs()}`);
      assert.equal(driver.runTaskDeferMs(5000), 0, 'a 2 s wait is within a 5 s horizon');
      const now = performance.now();
      const a = driver.runTaskDeferMs(1000, 1, now);
      const b = driver.runTaskDeferMs(1000, 1, now);
      const c = driver.runTaskDeferMs(1000, 1, now);
      assert.ok(a > 1000, `come back after about wait - horizon / 2 (${a})`);
      assert.ok(Math.abs(b - a - 100) <= 1, `the next place is one token later (${a}, ${b})`);
      assert.ok(Math.abs(c - b - 100) <= 1, `and the next (${b}, ${c})`);
      driver.close();
      await Promise.allSettled(waits);
    } finally {
      driver.close();
    }
  });
});

describe('KindLoop parking', () => {
  let db: TestDatabase;
  let queue: ReconcileQueue;
  before(async () => {
    db = await freshDatabase();
    queue = await ReconcileQueue.start({ pool: db.pool, kinds: ['ToolInstance'], role: 'worker' });
  });
  after(async () => {
    await queue?.stop();
    await db?.drop();
  });

  test('a job waiting parked frees its slot; past maxParked a waiting job keeps it', async () => {
    // Four reconciles queued in pg-boss, oldest first.
    for (const n of [1, 2, 3, 4])
      await queue.enqueue({ kind: 'ToolInstance', namespace: 'ns', name: `i${n}` });
    const started: string[] = [];
    const gates = new Map<string, () => void>();
    // The real queue; the test only counts the loop's fetches.
    let fetches = 0;
    const loop = new KindLoop({
      kind: 'ToolInstance',
      queue: {
        fetch: (kind: string, max: number) => {
          fetches++;
          return queue.fetch(kind, max);
        },
        touch: (kind: string, jobs: ReconcileJob[]) => queue.touch(kind, jobs),
      },
      concurrency: 1,
      maxParked: 1,
      pollIntervalMs: 60_000,
      heartbeatSeconds: 10,
      log: silent,
      run: async (j, slot) => {
        started.push(j.key.name);
        const gate = new Promise<void>((r) => gates.set(j.key.name, r));
        // Every job "waits for a token".
        await slot.whileWaiting(gate);
        await queue.complete(j);
      },
    });
    /** A wake-up the loop has handled: had it a free slot, it would have fetched. */
    const wakeAndSettle = async () => {
      loop.wake();
      await nextTurn();
    };
    loop.start();
    try {
      // i1 parks (the one parking place), so the single slot runs i2; i2 finds no
      // parking place left and keeps the slot: i3 must not start.
      await waitFor(() => started.length === 2, 20_000, 'i2 to start while i1 is parked');
      assert.deepEqual(started, ['i1', 'i2']);
      assert.equal(loop.working, 1);
      const fetched = fetches;
      await wakeAndSettle();
      assert.equal(fetches, fetched, 'no free slot, so no fetch for i3');
      // i1's token arrives and it finishes: a parking place is free, but the slot
      // is still i2's (it waits in it).
      gates.get('i1')!();
      await waitFor(() => loop.inflight === 1, 20_000, 'i1 to finish');
      await wakeAndSettle();
      assert.equal(fetches, fetched, 'still no free slot');
      assert.deepEqual(started, ['i1', 'i2']);
      // i2 finishes: i3 takes the slot and parks, so i4 starts too.
      gates.get('i2')!();
      await waitFor(() => started.length === 4, 20_000, 'i3 to park and i4 to start');
      assert.deepEqual(started, ['i1', 'i2', 'i3', 'i4']);
    } finally {
      for (const g of gates.values()) g();
      let t: NodeJS.Timeout | undefined;
      await loop.stop(
        new Promise<void>((r) => {
          t = setTimeout(r, 5_000);
        }),
      );
      clearTimeout(t);
      await loop.drain(1_000);
    }
    const depth = await queue.depth();
    assert.deepEqual(
      depth.filter((d) => d.count > 0),
      [],
      'every job settled',
    );
  });
});

describe('a launch burst with ECS throttling on', () => {
  let env: Env;
  before(async () => {
    env = await startEnv({ addressOctet: 42, ecsThrottling: true, gateStub: true });
  });
  after(async () => {
    await env?.close();
  });

  test('24 tools and an instance of each at once: all Ready, one task each, and ECS throttles no call', async () => {
    // More task definitions than ECS's burst for registering them (20, then 1/s) and
    // more launches than its RunTask burst (20): only the driver's pacing keeps
    // ecs-local from answering ThrottlingException.
    const N = 24;
    const names = Array.from({ length: N }, (_, i) => `burst-${i}`);
    await Promise.all(
      names.map(async (name) => {
        await createTool(env.store, name, tinySpec({ displayName: name }));
        await createInstance(env.store, 'pace', name, name);
      }),
    );
    await waitFor(
      async () => {
        const list = await env.store.list('ToolInstance', { namespace: 'pace' });
        const ready = list.items.filter((o) => (o.status as { phase?: string })?.phase === 'Ready');
        return ready.length === N;
      },
      180_000,
      `all ${N} instances Ready`,
      250,
    );
    const calls = (operation: string) =>
      metricValue(env.driverRegistry, 'berth_ecs_calls_total', { operation });
    assert.equal(await calls('RegisterTaskDefinition'), N, 'one registration per tool');
    assert.equal(await calls('RunTask'), N, 'one RunTask per instance');
    assert.equal(await metricValue(env.driverRegistry, 'berth_ecs_throttled_total'), 0);
    assert.equal(
      (await env.driver.listTasks({ startedBy: env.driver.startedBy })).length,
      N,
      'one task per instance',
    );
  });
});
