// Chaos, measured: berth's parts as separate processes (two controller replicas,
// ecs-local, the API, an embedded PostgreSQL), 100 ToolInstances flipping between
// Running and Stopped through the API, and at random every few seconds a SIGKILL
// of a controller replica, a SIGKILL-and-restart of ecs-local or a restart of
// PostgreSQL. Then every instance must match its spec within 60 s, with no
// duplicate or stray task, no stuck finalizer, no lost write, no task process
// outliving its ecs-local and no daemon crash. Prints the kills, the convergence
// time p50/max and the counts; exits 1 when a check fails.
//   node bench/chaos/run.ts
//   BENCH_CHAOS_SECONDS=300 BENCH_CHAOS_INSTANCES=50 node bench/chaos/run.ts
//   BENCH_CHAOS_ACTIONS=controller,postgres node bench/chaos/run.ts
//   BENCH_CHAOS_ECS_LOCAL_SIGNAL=SIGTERM node bench/chaos/run.ts   # ecs-local stops its tasks first
import { join } from 'node:path';
import { z } from 'zod';
import {
  type ChaosAction,
  failedChecks,
  percentile,
  runChaos,
} from '../../test/support/system/chaos.ts';

const seconds = z.coerce.number().positive();
const settings = z
  .object({
    BENCH_CHAOS_SECONDS: seconds.default(120),
    BENCH_CHAOS_INSTANCES: z.coerce.number().int().min(1).max(500).default(100),
    BENCH_CHAOS_MIN_GAP_SECONDS: seconds.default(3),
    BENCH_CHAOS_MAX_GAP_SECONDS: seconds.default(8),
    BENCH_CHAOS_MIN_FLIP_SECONDS: seconds.default(3),
    BENCH_CHAOS_MAX_FLIP_SECONDS: seconds.default(15),
    BENCH_CHAOS_CONVERGE_SECONDS: seconds.default(60),
    BENCH_CHAOS_ECS_LOCAL_SIGNAL: z.enum(['SIGKILL', 'SIGTERM']).default('SIGKILL'),
    BENCH_CHAOS_ACTIONS: z
      .string()
      .default('controller,ecs-local,postgres')
      .transform((s) => s.split(',').map((a) => a.trim()))
      .pipe(z.array(z.enum(['controller', 'ecs-local', 'postgres'])).min(1)),
  })
  .safeParse(process.env);
if (!settings.success) {
  for (const i of settings.error.issues) console.error(`${String(i.path[0])}: ${i.message}`);
  process.exit(2);
}
const s = settings.data;
const actions: ChaosAction[] = s.BENCH_CHAOS_ACTIONS;

const report = await runChaos({
  dir: join(import.meta.dirname, '..', '..', '.data', `chaos-${process.pid}`),
  addressOctet: 60,
  instances: s.BENCH_CHAOS_INSTANCES,
  chaosSeconds: s.BENCH_CHAOS_SECONDS,
  gapMs: [s.BENCH_CHAOS_MIN_GAP_SECONDS * 1000, s.BENCH_CHAOS_MAX_GAP_SECONDS * 1000],
  flipMs: [s.BENCH_CHAOS_MIN_FLIP_SECONDS * 1000, s.BENCH_CHAOS_MAX_FLIP_SECONDS * 1000],
  convergeMs: s.BENCH_CHAOS_CONVERGE_SECONDS * 1000,
  actions,
  ecsLocalSignal: s.BENCH_CHAOS_ECS_LOCAL_SIGNAL,
  controllers: 2,
  log: (line) => console.log(`  ${line}`),
});

const sorted = [...report.convergenceMs].sort((a, b) => a - b);
const secs = (ms: number) => (Number.isNaN(ms) ? '-' : `${(ms / 1000).toFixed(1)} s`);
const list = (title: string, items: string[]) => {
  console.log(`${title}: ${items.length}`);
  for (const i of items.slice(0, 10)) console.log(`    ${i}`);
  if (items.length > 10) console.log(`    ... and ${items.length - 10} more`);
};
console.log(
  `kills: controller ${report.kills.controller}, ecs-local ${report.kills['ecs-local']} (${s.BENCH_CHAOS_ECS_LOCAL_SIGNAL}), postgres ${report.kills.postgres} in ${s.BENCH_CHAOS_SECONDS} s`,
);
console.log(
  `writes through the API: ${report.writes.acknowledged} acknowledged, ${report.writes.failed} not`,
);
// An instance that never converged counts as slower than the limit.
const all = [
  ...sorted,
  ...Array.from(
    { length: s.BENCH_CHAOS_INSTANCES - sorted.length },
    () => Number.POSITIVE_INFINITY,
  ),
];
const limit = `> ${s.BENCH_CHAOS_CONVERGE_SECONDS} s`;
const at = (ms: number) => (ms === Number.POSITIVE_INFINITY ? limit : secs(ms));
console.log(
  `convergence after the chaos: ${sorted.length}/${s.BENCH_CHAOS_INSTANCES} within ${s.BENCH_CHAOS_CONVERGE_SECONDS} s; p50 ${at(percentile(all, 50))}, max ${at(all.at(-1) ?? Number.NaN)}`,
);
list('not converged', report.unconverged);
// The same, by state: spec, phase and stop reason (the rest of each line varies).
const byState = new Map<string, number>();
for (const line of report.unconverged) {
  const state =
    /^[^:]+: (spec \w+, phase \w+(, stopReason \w+)?)/.exec(line)?.[1] ??
    line.replace(/^[^:]+: /, '').replace(/[0-9a-f]{32}/g, '<task>');
  byState.set(state, (byState.get(state) ?? 0) + 1);
}
for (const [state, n] of [...byState].sort((a, b) => b[1] - a[1]))
  console.log(`    ${String(n).padStart(4)} × ${state}`);
list('duplicate tasks (instances)', report.duplicates);
list('stray tasks', report.strays);
list('stuck finalizers', report.stuckFinalizers);
list('lost writes', report.lostWrites);
list('task processes that outlived their ecs-local', report.orphans);
list('daemon crashes', report.crashes);
const failed = failedChecks(report, s.BENCH_CHAOS_INSTANCES);
if (failed.length) {
  console.log("most frequent warnings and errors in the daemons' logs:");
  for (const w of report.warnings)
    console.log(`  ${String(w.count).padStart(6)}  ${w.daemon}: ${w.line}`);
  console.log(`logs kept in ${report.logDir}`);
  console.log(`FAILED: ${failed.join('; ')}`);
  process.exit(1);
}
console.log('all checks passed');
