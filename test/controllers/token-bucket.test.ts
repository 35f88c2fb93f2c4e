import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TokenBucket } from '../../controllers/index.ts';

// A clock the test moves by hand, so burst and rate are checked exactly.
function manualClock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('TokenBucket', () => {
  test('serves the burst at once, then the refill rate', () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ capacity: 100, refillPerSecond: 20, now: clock.now });
    assert.equal(bucket.available(), 100);
    const burst = Array.from({ length: 100 }, () => bucket.take());
    assert.ok(bucket.available() < 1e-6, 'the burst used every token');
    assert.equal(bucket.waiting(), 0, 'nobody waited for the burst');
    clock.advance(1000);
    assert.ok(Math.abs(bucket.available() - 20) < 1e-6, 'one second refills 20 tokens');
    clock.advance(10_000);
    assert.equal(bucket.available(), 100, 'never more than the capacity');
    return Promise.all(burst).then((waits) => assert.deepEqual(new Set(waits), new Set([0])));
  });

  test('waiters are served first come first served at the refill rate', async () => {
    const bucket = new TokenBucket({ capacity: 5, refillPerSecond: 100 });
    const start = performance.now();
    for (let i = 0; i < 5; i++) assert.equal(await bucket.take(), 0, 'the burst does not wait');
    const order: number[] = [];
    const done = [3, 1, 2].map((n, i) => bucket.take(n).then(() => order.push(i)));
    // A small request behind a big one must not overtake it.
    await Promise.all(done);
    const elapsed = performance.now() - start;
    assert.deepEqual(order, [0, 1, 2]);
    // 6 tokens at 100/s need at least 60 ms.
    assert.ok(elapsed >= 55, `took ${elapsed.toFixed(1)} ms, expected at least 60`);
    assert.ok(elapsed < 1000, `took ${elapsed.toFixed(1)} ms`);
    bucket.close();
  });

  test('sustained rate over many takes matches refillPerSecond', async () => {
    const bucket = new TokenBucket({ capacity: 10, refillPerSecond: 200 });
    const start = performance.now();
    await Promise.all(Array.from({ length: 50 }, () => bucket.take()));
    const elapsed = (performance.now() - start) / 1000;
    // 10 at once, then 40 at 200/s = 0.2 s. Never faster than the rate; the upper
    // bound only proves waiters are not stranded (a loaded machine runs timers late).
    assert.ok(elapsed >= 0.19 && elapsed < 2, `took ${elapsed.toFixed(3)} s, expected about 0.2`);
    bucket.close();
  });

  test('rejects requests larger than the capacity and waiters after close', async () => {
    const bucket = new TokenBucket({ capacity: 2, refillPerSecond: 1 });
    await assert.rejects(bucket.take(3), /cannot take 3 tokens/);
    await bucket.take(2);
    const waiting = bucket.take(1);
    bucket.close();
    await assert.rejects(waiting, /closed/);
  });
});
