import assert from 'node:assert/strict';
import { test } from 'node:test';
import { duration, formatDuration, isDuration, parseDuration } from '../../crds/index.ts';

test('parseDuration reads single and compound durations', () => {
  assert.equal(parseDuration('90s'), 90_000);
  assert.equal(parseDuration('5m'), 300_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('2d'), 172_800_000);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('1m30s500ms'), 90_500);
  assert.equal(parseDuration('1.5h'), 5_400_000);
  assert.equal(parseDuration('0s'), 0);
});

test('parseDuration refuses anything else and says what it expects', () => {
  for (const bad of ['', '5', 'm', '5 m', '-5m', '5min', '1h 30m', 'PT5M', '1.h', '.5h']) {
    assert.throws(
      () => parseDuration(bad),
      /invalid duration .*expected a duration such as "90s"/,
      bad,
    );
    assert.equal(isDuration(bad), false, bad);
  }
});

test('formatDuration is the inverse for whole units', () => {
  for (const text of ['90s', '5m', '1h30m', '2d', '250ms', '1d2h3m4s5ms']) {
    const again = formatDuration(parseDuration(text));
    assert.equal(parseDuration(again), parseDuration(text));
  }
  assert.equal(formatDuration(90_000), '1m30s');
  assert.equal(formatDuration(0), '0s');
});

test('the duration schema refuses zero and bad text', () => {
  assert.equal(duration.safeParse('10m').success, true);
  assert.equal(duration.safeParse('0m').success, false);
  assert.equal(duration.safeParse('ten minutes').success, false);
});
