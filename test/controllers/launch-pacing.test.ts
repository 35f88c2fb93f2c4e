// The pieces that keep a launch burst from holding up other reconciles: the
// token bucket's wait estimate, the driver's deferral places, and the kind
// loop's parking (a job waiting for a token gives up its worker slot).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createEcsDriver, loadEcsConfig, TokenBucket } from '../../controllers/index.ts';
import { KindLoop } from '../../controllers/kind-loop.ts';
import type { ReconcileJob } from '../../controllers/queue/index.ts';

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

function job(n: number): ReconcileJob {
  return {
    id: `job-${n}`,
    retryCount: 0,
    key: { kind: 'ToolInstance', namespace: 'ns', name: `i${n}` },
    data: { kind: 'ToolInstance', namespace: 'ns', name: `i${n}`, failures: 0 },
  };
}

describe('KindLoop parking', () => {
  test('a job waiting parked frees its slot; past maxParked a waiting job keeps it', async () => {
    const queued = [job(1), job(2), job(3), job(4)];
    const started: string[] = [];
    const gates = new Map<string, () => void>();
    const loop = new KindLoop({
      kind: 'ToolInstance',
      queue: {
        fetch: async (_kind: string, max: number) => queued.splice(0, max),
        touch: async () => {},
      },
      concurrency: 1,
      maxParked: 1,
      pollIntervalMs: 60_000,
      heartbeatSeconds: 10,
      log: silent,
      run: async (j, slot) => {
        started.push(j.id);
        const gate = new Promise<void>((r) => gates.set(j.id, r));
        // Every job "waits for a token".
        await slot.whileWaiting(gate);
      },
    });
    const until = async (check: () => boolean, what: string) => {
      const deadline = Date.now() + 2000;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    loop.start();
    try {
      // job-1 parks (the one parking place), so the single slot runs job-2; job-2
      // finds no parking place left and keeps the slot: job-3 must not start.
      await until(() => started.length === 2, 'job-2 to start while job-1 is parked');
      assert.deepEqual(started, ['job-1', 'job-2']);
      assert.equal(loop.working, 1);
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(started, ['job-1', 'job-2'], 'no slot for job-3 yet');
      // job-1's token arrives and it finishes: a parking place is free, but the slot
      // is still job-2's (it waits in it).
      gates.get('job-1')!();
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(started, ['job-1', 'job-2']);
      // job-2 finishes: job-3 takes the slot and parks, so job-4 starts too.
      gates.get('job-2')!();
      await until(() => started.length === 4, 'job-3 to park and job-4 to start');
      assert.deepEqual(started, ['job-1', 'job-2', 'job-3', 'job-4']);
    } finally {
      for (const g of gates.values()) g();
      let t: NodeJS.Timeout | undefined;
      await loop.stop(
        new Promise<void>((r) => {
          t = setTimeout(r, 1000);
        }),
      );
      clearTimeout(t);
      await loop.drain(100);
    }
  });
});
