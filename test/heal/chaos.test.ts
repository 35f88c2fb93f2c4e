// The short version of bench/chaos: berth's parts as separate processes (two
// controller replicas, ecs-local, the API, a PostgreSQL of its own), 12 instances
// flipping between Running and Stopped through the API while, every 2-5 s, a
// controller replica is SIGKILLed, ecs-local is SIGKILLed and started again, or
// PostgreSQL is restarted. Afterwards every instance matches its spec within 60 s,
// with no duplicate or stray task, no stuck finalizer, no lost write, no task
// process outliving its ecs-local and no daemon crash.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { failedChecks, percentile, runChaos } from '../support/system/chaos.ts';

const INSTANCES = 12;

test('chaos: kills and restarts converge with no duplicate, stray, stuck or lost', async (t) => {
  const report = await runChaos({
    dir: join(import.meta.dirname, '..', '..', '.data', `heal-chaos-${process.pid}`),
    addressOctet: 61,
    instances: INSTANCES,
    chaosSeconds: 20,
    gapMs: [2_000, 5_000],
    flipMs: [2_000, 6_000],
    convergeMs: 60_000,
    actions: ['controller', 'ecs-local', 'postgres'],
    controllers: 2,
    log: (line) => t.diagnostic(line),
  });
  const sorted = [...report.convergenceMs].sort((a, b) => a - b);
  t.diagnostic(
    `kills ${JSON.stringify(report.kills)}; writes ${JSON.stringify(report.writes)}; converged ${sorted.length}/${INSTANCES}, p50 ${percentile(sorted, 50)} ms, max ${sorted.at(-1) ?? '-'} ms`,
  );
  assert.ok(report.writes.acknowledged > INSTANCES, 'the writer had writes acknowledged');
  const failed = failedChecks(report, INSTANCES);
  const details = [
    ...report.unconverged.map((l) => `not converged: ${l}`),
    ...report.duplicates.map((l) => `duplicate: ${l}`),
    ...report.strays.map((l) => `stray: ${l}`),
    ...report.stuckFinalizers.map((l) => `stuck: ${l}`),
    ...report.lostWrites.map((l) => `lost: ${l}`),
    ...report.orphans.map((l) => `orphan: ${l}`),
    ...report.crashes.map((l) => `crash: ${l}`),
    ...report.warnings.map((w) => `${w.count} × ${w.daemon}: ${w.line}`),
    `logs: ${report.logDir}`,
  ];
  assert.deepEqual(failed, [], details.join('\n'));
});
