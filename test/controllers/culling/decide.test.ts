// The culler's decision for one instance, as a pure function (no store, no clock).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type CullPolicy, type DecideInput, decide } from '../../../controllers/culling/index.ts';

const S = 1000;
const M = 60 * S;
const T0 = Date.parse('2026-12-03T10:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

const policy: CullPolicy = { idleAfterMs: 60 * M, cpuThreshold: 5, warnBeforeMs: 10 * M };

/** Samples every minute from `from` to `to` at `percent`. */
function samples(from: number, to: number, percent: number | ((t: number) => number)) {
  const out: Array<[number, number]> = [];
  for (let t = from; t <= to; t += M)
    out.push([t, typeof percent === 'number' ? percent : percent(t)]);
  return out;
}

function input(nowMs: number, extra: Partial<DecideInput> = {}): DecideInput {
  const sinceMs = nowMs - policy.idleAfterMs;
  return {
    nowMs,
    stepMs: M,
    policy,
    cpuUnits: 256,
    status: { startedAt: iso(T0 - 30 * S), readyAt: iso(T0) },
    cpu: { samples: samples(Math.max(sinceMs, T0), nowMs, 1), sinceMs },
    ...extra,
  };
}

test('no traffic and low CPU: idleSince once idle a step, a warning warnBefore ahead, then the stop', () => {
  const early = decide(input(T0 + 30 * S));
  assert.equal(early.cpuKnown, true);
  assert.equal(early.idleSince, undefined, 'not idle for a whole step yet');
  assert.equal(early.warning, undefined);

  const idle = decide(input(T0 + 5 * M));
  assert.equal(idle.idleSince, iso(T0));
  assert.equal(idle.warning, undefined, 'the stop is 55m away, more than warnBefore');
  // Already written: no second write.
  const again = decide(
    input(T0 + 6 * M, { status: { readyAt: iso(T0), startedAt: iso(T0), idleSince: iso(T0) } }),
  );
  assert.equal(again.idleSince, undefined);

  const warn = decide(input(T0 + 50 * M));
  assert.ok(warn.warning?.to, 'warned 10m ahead');
  assert.equal(warn.warning.event, 'StopScheduled');
  assert.equal(warn.warning.to.reason, 'Idle');
  assert.equal(warn.warning.to.stopAt, iso(T0 + 60 * M));
  assert.equal(warn.warning.to.warnedAt, iso(T0 + 50 * M));
  assert.match(warn.warning.to.message, /no user traffic, CPU under 5 % of its 0.25 vCPU/);
  assert.match(warn.warning.to.message, /Keep it running/);
  assert.equal(warn.stop, undefined);

  const status = { readyAt: iso(T0), idleSince: iso(T0), stopWarning: warn.warning.to };
  assert.equal(decide(input(T0 + 59 * M, { status })).stop, undefined, 'before stopAt');
  const stop = decide(input(T0 + 60 * M, { status }));
  assert.equal(stop.stop?.reason, 'Idle');
  assert.equal(stop.stop.idleForMs, 60 * M);
  assert.match(stop.stop.message, /idle 1h \(no user traffic, CPU under 5 % of its 0.25 vCPU\)/);
});

test('an instance found idle for long is warned first and stopped no earlier than warnBefore later', () => {
  const now = T0 + 5 * 3_600_000;
  const d = decide(input(now, { status: { readyAt: iso(T0) } }));
  assert.equal(d.warning?.to?.stopAt, iso(now + 10 * M));
  assert.equal(d.stop, undefined, 'never a stop without a warning');
  const status = { readyAt: iso(T0), stopWarning: d.warning!.to! };
  assert.equal(decide(input(now + 9 * M, { status })).stop, undefined);
  assert.equal(decide(input(now + 10 * M, { status })).stop?.reason, 'Idle');
});

test('busy CPU without traffic is use: no warning, idleSince cleared', () => {
  const now = T0 + 3 * 3_600_000;
  const busy = decide(
    input(now, {
      status: { readyAt: iso(T0), idleSince: iso(T0) },
      cpu: { samples: samples(now - 60 * M, now, 97), sinceMs: now - 60 * M },
    }),
  );
  assert.equal(busy.lastUseMs, now);
  assert.equal(busy.idleSince, null);
  assert.equal(busy.warning, undefined);
  assert.equal(busy.stop, undefined);
  // A computation that ended 55m ago: warned, stop 60m after its last busy sample.
  const endedAt = now - 55 * M;
  const ended = decide(
    input(now, {
      cpu: {
        samples: samples(now - 60 * M, now, (t) => (t <= endedAt ? 50 : 0)),
        sinceMs: now - 60 * M,
      },
    }),
  );
  assert.equal(ended.lastUseMs, endedAt);
  // Due 5m from now, but warned only now: the stop is warnBefore away.
  assert.equal(ended.warning?.to?.stopAt, iso(now + 10 * M));
});

test('use after a warning cancels an Idle stop', () => {
  const warnedAt = T0 + 50 * M;
  const stopWarning = {
    reason: 'Idle' as const,
    stopAt: iso(T0 + 60 * M),
    warnedAt: iso(warnedAt),
    message: 'x',
  };
  const traffic = decide(
    input(T0 + 60 * M, {
      status: { readyAt: iso(T0), lastActivityAt: iso(warnedAt + 2 * M), stopWarning },
    }),
  );
  assert.equal(traffic.stop, undefined);
  assert.deepEqual(traffic.warning, {
    to: null,
    event: 'StopCancelled',
    message: 'Stop cancelled: it was used again',
  });
  const cpu = decide(
    input(T0 + 60 * M, {
      status: { readyAt: iso(T0), stopWarning },
      cpu: {
        samples: samples(T0, T0 + 60 * M, (t) => (t === T0 + 55 * M ? 80 : 0)),
        sinceMs: T0,
      },
    }),
  );
  assert.equal(cpu.stop, undefined);
  assert.equal(cpu.warning?.event, 'StopCancelled');
});

test('CPU not known (no samples, stale samples, a failed source): never an Idle stop, nothing changes', () => {
  const now = T0 + 3 * 3_600_000;
  const stopWarning = {
    reason: 'Idle' as const,
    stopAt: iso(now - M),
    warnedAt: iso(now - 11 * M),
    message: 'x',
  };
  const cases: Array<[string, DecideInput['cpu']]> = [
    ['no samples', { samples: [], sinceMs: now - 60 * M }],
    ['stale samples', { samples: samples(now - 60 * M, now - 5 * M, 0), sinceMs: now - 60 * M }],
    ['a failed source', undefined],
  ];
  for (const [what, cpu] of cases) {
    const fresh = decide(input(now, { cpu, status: { readyAt: iso(T0) } }));
    assert.equal(fresh.cpuKnown, false, what);
    assert.deepEqual(
      [fresh.warning, fresh.stop, fresh.idleSince],
      [undefined, undefined, undefined],
      what,
    );
    const warned = decide(input(now, { cpu, status: { readyAt: iso(T0), stopWarning } }));
    assert.deepEqual(
      [warned.warning, warned.stop],
      [undefined, undefined],
      `${what}: kept, no stop`,
    );
  }
});

test('samples that begin late leave the time before them unknown, counted as use', () => {
  const now = T0 + 3 * 3_600_000;
  const since = now - 60 * M;
  const d = decide(
    input(now, {
      status: { readyAt: iso(T0) },
      cpu: { samples: samples(now - 20 * M, now, 0), sinceMs: since },
    }),
  );
  assert.equal(d.lastUseMs, now - 20 * M);
  assert.equal(d.warning, undefined, 'idle 20m as far as is known');
});

test('maxLifetime: warned, then stopped even while busy and used; cannot be postponed', () => {
  const ml: CullPolicy = { ...policy, maxLifetimeMs: 8 * 3_600_000 };
  const started = T0 - 30 * S;
  const end = started + 8 * 3_600_000;
  const busy = (now: number) => ({
    samples: samples(now - 60 * M, now, 90),
    sinceMs: now - 60 * M,
  });
  const status = { startedAt: iso(started), readyAt: iso(T0), lastActivityAt: iso(end - 11 * M) };
  assert.equal(
    decide(input(end - 11 * M, { policy: ml, status, cpu: busy(end - 11 * M) })).warning,
    undefined,
  );
  const warn = decide(input(end - 10 * M, { policy: ml, status, cpu: busy(end - 10 * M) }));
  assert.equal(warn.warning?.to?.reason, 'MaxLifetime');
  assert.equal(warn.warning.to.stopAt, iso(end));
  assert.match(warn.warning.to.message, /cannot be postponed/);
  const warned = { ...status, lastActivityAt: iso(end - M), stopWarning: warn.warning.to };
  const stop = decide(input(end, { policy: ml, status: warned, cpu: busy(end) }));
  assert.equal(stop.warning, undefined, 'use does not cancel a MaxLifetime warning');
  assert.equal(stop.stop?.reason, 'MaxLifetime');
  assert.equal(stop.stop.lifetimeMs, 8 * 3_600_000);
});

test("the earlier of Idle and MaxLifetime wins; a maxLifetime stop keeps a cancelled warning's time", () => {
  const started = T0 - 30 * S;
  const status = { startedAt: iso(started), readyAt: iso(T0) };
  // Idle due at T0+60m, maxLifetime at T0+65m: Idle.
  const idleFirst = decide(
    input(T0 + 55 * M, { status, policy: { ...policy, maxLifetimeMs: 65 * M + 30 * S } }),
  );
  assert.equal(idleFirst.warning?.to?.reason, 'Idle');
  // maxLifetime at T0+59m: MaxLifetime.
  const ml: CullPolicy = { ...policy, maxLifetimeMs: 59 * M + 30 * S };
  const mlFirst = decide(input(T0 + 50 * M, { status, policy: ml }));
  assert.equal(mlFirst.warning?.to?.reason, 'MaxLifetime');
  assert.equal(mlFirst.warning.to.stopAt, iso(T0 + 60 * M), 'warnBefore after the warning');
  // An Idle warning cancelled by use while maxLifetime is due: MaxLifetime, from the first warning.
  const stopWarning = {
    reason: 'Idle' as const,
    stopAt: iso(T0 + 60 * M),
    warnedAt: iso(T0 + 50 * M),
    message: 'x',
  };
  const used = decide(
    input(T0 + 55 * M, {
      policy: ml,
      status: { ...status, lastActivityAt: iso(T0 + 54 * M), stopWarning },
    }),
  );
  assert.equal(used.warning?.to?.reason, 'MaxLifetime');
  assert.equal(used.warning.to.warnedAt, iso(T0 + 50 * M));
  assert.equal(used.warning.to.stopAt, iso(T0 + 60 * M));
});

test('a MaxLifetime warning whose tool no longer has a maxLifetime is cancelled', () => {
  const stopWarning = {
    reason: 'MaxLifetime' as const,
    stopAt: iso(T0 + 20 * M),
    warnedAt: iso(T0 + 10 * M),
    message: 'x',
  };
  const d = decide(
    input(T0 + 15 * M, {
      status: { readyAt: iso(T0), lastActivityAt: iso(T0 + 14 * M), stopWarning },
    }),
  );
  assert.equal(d.warning?.event, 'StopCancelled');
  assert.equal(d.stop, undefined);
});
