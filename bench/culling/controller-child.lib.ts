// One controller process for bench/culling/evaluate.ts: the manager with the
// reconcilers (resync off, no task poller or GC: the instances have no real
// tasks), and with `--culler` the culler every BENCH_CULL_INTERVAL_MS reading
// an in-process CPU source double. Prints "ready" once started, then runs
// until SIGTERM.
import { Registry } from 'prom-client';
import {
  type CpuQuery,
  type CpuSource,
  createCuller,
  createEcsDriver,
  createToolControllers,
  loadEcsConfig,
  startControllers,
} from '../../controllers/index.ts';
import { createPool } from '../../store/index.ts';

const url = process.env.BENCH_DATABASE_URL!;
const withCuller = process.argv.includes('--culler');
const intervalMs = Number(process.env.BENCH_CULL_INTERVAL_MS ?? 1000);
/** The samples one read answers per instance: what the default 60 s step gives over idleAfter 1h. */
const SAMPLE_SPACING_MS = 60_000;

const silent = { info() {}, warn() {}, error() {}, debug() {} };

/**
 * Every instance answered, 60 samples each (one a minute over the hour), busy
 * (50 %) for instances whose name ends in an even digit, else idle (1 %):
 * the work a 60 s pass does, whatever this pass's step.
 */
const double: CpuSource = {
  name: 'ecs-task-stats',
  async read(queries: CpuQuery[], sinceMs: number, nowMs: number) {
    const out = new Map<string, Array<[number, number]>>();
    for (const q of queries) {
      const busy = Number(q.name.at(-1)) % 2 === 0;
      const samples: Array<[number, number]> = [];
      for (let t = nowMs; t >= sinceMs; t -= SAMPLE_SPACING_MS) samples.unshift([t, busy ? 50 : 1]);
      out.set(q.key, samples);
    }
    return out;
  },
};

const pool = createPool(url, { max: 20, applicationName: 'berth-bench-culling' });
const registry = new Registry();
const driver = createEcsDriver({
  config: loadEcsConfig({
    BERTH_ECS_ENDPOINT: 'http://127.0.0.1:9',
    BERTH_ECS_ACCESS_KEY_ID: 'bench',
    BERTH_ECS_SECRET_ACCESS_KEY: 'bench',
  }),
  registry,
});
const tools = createToolControllers({
  env: { BERTH_TOOL_SECRET_KEY: 'a'.repeat(64) },
});
const culler = createCuller({ intervalMs, sources: { ecsTaskStats: double }, registry });
const controllers = await startControllers({
  pool,
  driver,
  reconcilers: tools.reconcilers,
  runnables: withCuller ? [culler] : [],
  config: { resyncIntervalMs: 0, metricsPort: -1 },
  registry,
  log: silent,
});
console.log('ready');

process.once('SIGTERM', async () => {
  const text = await registry.metrics();
  const line = (name: string) =>
    text
      .split('\n')
      .filter((l) => l.startsWith(name))
      .join('; ');
  console.log(
    JSON.stringify({
      passes: line('berth_culler_pass_duration_seconds_count'),
      sum: line('berth_culler_pass_duration_seconds_sum'),
      evaluated: line('berth_culler_instances_evaluated_total'),
    }),
  );
  await controllers.close();
  driver.close();
  await pool.end();
  process.exit(0);
});
