// The controllers launching 1,000 ToolInstances against ecs-local (the tiny C
// tool from test/controllers/fixtures, 1 MB per task).
//
// 1. ECS limits on (ecs-local models AWS's Fargate buckets, the driver holds
//    the same): 1,000 instances set Running at once; time until all are Ready
//    against the floor the Fargate rates imply. One task per RunTask call, so
//    the binding bucket is RunTask calls (burst 20, 20/s): the last call can go
//    out at (N - 20) / 20 s; add the start-up time of one instance measured in
//    the same run (target <= 1.1x). ECS calls per instance; then the
//    controller's CPU and memory with 1,000 Ready instances idle for 60 s
//    (target < 5% of one core).
// 2. Limits off (both sides), in a fresh database so phase 1's instances are
//    not polled against the wrong ecs-local: 1,000 more instances set Running at
//    once; launches per second (the controller's capacity) and p50/p99 from the
//    store write (spec.state Running) to the RunTask call. A burst far above
//    capacity measures the queue, not the path (p50 = half the backlog over the
//    launch rate), so the latency target (p50 < 50 ms) is also measured at a
//    steady offered load: writes at half the launch rate just measured (open
//    loop, like wrk2's constant rate), BENCH_PACED_SECONDS long.
//
// Each phase also prints where the time went (diagnostics.lib.ts): database
// statements per instance, reconciles by result, queue wait, token waits.
// ecs-local runs in a child process so the CPU figures are the controller's
// (and the bench's own writes, which stand in for the API).
//   node bench/controllers/launch.ts            # N = 1000
//   BENCH_INSTANCES=200 node bench/controllers/launch.ts
//   BENCH_ONLY=off BENCH_WRITERS=10 node bench/controllers/launch.ts   # one phase, 10 writers
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import {
  createEcsDriver,
  createToolControllers,
  type EcsDriver,
  loadEcsConfig,
  ReconcileQueue,
  type RunningControllers,
  reconcileOnWrite,
  startControllers,
} from '../../controllers/index.ts';
import type { ToolInstance } from '../../crds/index.ts';
import { type AccessKeyPair, generateAccessKeyPair } from '../../ecs-local/index.ts';
import {
  createPool,
  generateToolSecretKey,
  migrate,
  type Pool,
  ResourceStore,
} from '../../store/index.ts';
import { GATE_STUB_IMAGE, testImages } from '../../test/controllers/tiny-tool.ts';
import { startBenchPostgres } from '../postgres.lib.ts';
import { countQueries, type QueryCounter, summary } from './diagnostics.lib.ts';

const N = Number(process.env.BENCH_INSTANCES ?? 1000);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 60);
/** After all Ready, before the idle measurement: the launch's 30 s safety requeues run out. */
const SETTLE_SECONDS = Number(process.env.BENCH_SETTLE_SECONDS ?? 35);
/** Writes in flight while setting instances Running (stands in for API clients). */
const WRITERS = Number(process.env.BENCH_WRITERS ?? 50);
/** `on` or `off` runs only that phase; default both. */
const ONLY = process.env.BENCH_ONLY;
const FARGATE_RATE = 20;
/** BERTH_CONTROLLER_CONCURRENCY's default; `berth controller` opens 10 more connections than that. */
const CONTROLLER_CONCURRENCY = 50;
/** Length of the steady-rate part of phase 2. */
const PACED_SECONDS = Number(process.env.BENCH_PACED_SECONDS ?? 20);
/** Offered rate of the steady part, as a share of the burst's launches/s. */
const PACED_SHARE = Number(process.env.BENCH_PACED_SHARE ?? 0.5);
/** RunTask calls: burst 20 (ECS); one task per call, so this, not the launch burst of 100, binds. */
const RUN_TASK_BURST = 20;

interface EcsLocalChild {
  url: string;
  child: ChildProcess;
  credentials: AccessKeyPair;
}

function startEcsLocalChild(options: object): Promise<EcsLocalChild> {
  // ecs-local answers only requests signed with its key pair: hand it one.
  const credentials = generateAccessKeyPair();
  const child = spawn(
    process.execPath,
    [
      '--disable-warning=ExperimentalWarning',
      join(import.meta.dirname, 'ecs-local-child.lib.ts'),
      JSON.stringify({ ...options, credentials }),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += String(d);
      const m = /URL (\S+)/.exec(out);
      if (m) resolve({ url: m[1]!, child, credentials });
    });
    child.once('exit', (code) => reject(new Error(`ecs-local exited ${code}`)));
  });
}

function driverFor(ecsLocal: EcsLocalChild, throttle: boolean, registry: Registry): EcsDriver {
  return createEcsDriver({
    config: loadEcsConfig({
      BERTH_ECS_ENDPOINT: ecsLocal.url,
      BERTH_ECS_ACCESS_KEY_ID: ecsLocal.credentials.accessKeyId,
      BERTH_ECS_SECRET_ACCESS_KEY: ecsLocal.credentials.secretAccessKey,
      BERTH_ECS_SUBNETS: 'subnet-0a1b2c3d4e5f60001,subnet-0a1b2c3d4e5f60002',
      BERTH_ECS_SECURITY_GROUPS: 'sg-0a1b2c3d4e5f60001',
      BERTH_ECS_CLIENT_THROTTLE: throttle ? 'on' : 'off',
    }),
    registry,
  });
}

async function sumCounter(registry: Registry, name: string): Promise<number> {
  const m = registry.getSingleMetric(name);
  if (!m) return 0;
  return (await m.get()).values.reduce((n, v) => n + v.value, 0);
}

/** Values of a metric by one label, e.g. reconciles by result; for histograms the `_sum` and `_count`. */
async function byLabel(registry: Registry, name: string, label: string): Promise<string> {
  const m = registry.getSingleMetric(name);
  if (!m) return '';
  const out: Record<string, number> = {};
  for (const v of (await m.get()).values) {
    const metric = (v as { metricName?: string }).metricName ?? name;
    if (metric.endsWith('_bucket')) continue;
    const suffix = metric === name ? '' : metric.slice(name.length);
    const k = `${String(v.labels[label] ?? '')}${suffix}`;
    out[k] = (out[k] ?? 0) + v.value;
  }
  return Object.entries(out)
    .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(1)}`)
    .join(' ');
}

async function printDiagnostics(
  label: string,
  phase: Phase,
  queries: QueryCounter,
  store: ResourceStore,
  ns: string,
  t0: number,
): Promise<void> {
  const r = phase.manager.registry;
  console.log(
    `  [${label}] reconciles: ${await byLabel(r, 'berth_controller_reconciles_total', 'result')}`,
  );
  console.log(
    `  [${label}] reconcile seconds: ${await byLabel(r, 'berth_controller_reconcile_duration_seconds', 'kind')}`,
  );
  console.log(
    `  [${label}] queue wait seconds: ${await byLabel(r, 'berth_controller_queue_wait_seconds', 'kind')}`,
  );
  console.log(
    `  [${label}] ECS token wait seconds: ${await byLabel(r, 'berth_ecs_throttle_wait_seconds', 'bucket')}`,
  );
  console.log(`  [${label}] ECS calls: ${await byLabel(r, 'berth_ecs_calls_total', 'operation')}`);
  console.log(
    `  [${label}] database statements: ${queries.total()} (${(queries.total() / N).toFixed(1)} per instance); most frequent:`,
  );
  for (const q of queries.top(12))
    console.log(
      `      ${String(q.count).padStart(6)}  ${(q.ms / q.count).toFixed(1).padStart(6)} ms  ${q.shape}`,
    );
  const items = (await store.list('ToolInstance', { namespace: ns })).items as ToolInstance[];
  const runAt = items.map((i) => phase.runTaskAt.get(i.metadata.uid!) ?? Number.NaN);
  const lag = items.map((i, k) => Date.parse(i.status?.readyAt ?? '') - runAt[k]!);
  const lastRun = Math.max(...runAt.filter((v) => Number.isFinite(v)));
  console.log(
    `  [${label}] last runTask() entered ${((lastRun - t0) / 1000).toFixed(1)} s after the first write; runTask() entered -> readyAt ${summary(lag)}`,
  );
}

/**
 * Waits until all `n` instances are Ready, listing them once a second (a list of
 * 1,000 objects is real work for the process being measured), and returns the
 * latest status.readyAt: the time the last one became Ready, to the millisecond.
 */
async function waitAllReady(
  store: ResourceStore,
  ns: string,
  n: number,
  timeoutMs: number,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const items = (await store.list('ToolInstance', { namespace: ns })).items as ToolInstance[];
    const ready = items.filter((i) => i.status?.phase === 'Ready');
    const failed = items.filter((i) => i.status?.phase === 'Failed');
    if (failed.length)
      throw new Error(`${failed.length} failed, e.g. ${JSON.stringify(failed[0]!.status)}`);
    if (ready.length === n) return Math.max(...ready.map((i) => Date.parse(i.status!.readyAt!)));
    if (Date.now() > deadline)
      throw new Error(`only ${ready.length}/${n} Ready after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** BENCH_LOG=1: the controller's warnings and errors on stderr. */
const stderrLog = {
  info() {},
  debug() {},
  warn(o: object, msg?: string) {
    console.error('WARN', msg, JSON.stringify(o).slice(0, 400));
  },
  error(o: object, msg?: string) {
    console.error(
      'ERROR',
      msg,
      JSON.stringify(o, (_k, v) => (v instanceof Error ? v.message : v)).slice(0, 400),
    );
  },
};

interface Database {
  pool: Pool;
  controllerPool: Pool;
  queue: ReconcileQueue;
  store: ResourceStore;
  queries: QueryCounter;
}

interface Phase {
  manager: RunningControllers;
  driver: EcsDriver;
  registry: Registry;
  runTaskAt: Map<string, number>;
}

async function startPhase(pool: Pool, ecsLocal: EcsLocalChild, throttle: boolean): Promise<Phase> {
  const registry = new Registry();
  const driver = driverFor(ecsLocal, throttle, registry);
  const runTaskAt = new Map<string, number>();
  const original = driver.runTask.bind(driver);
  driver.runTask = (req) => {
    const uid = req.clientToken.slice(0, 36);
    if (!runTaskAt.has(uid)) runTaskAt.set(uid, performance.timeOrigin + performance.now());
    return original(req);
  };
  // A thousand tasks: the tiny tool stands in for the gate (a Node gate is ~95 MB each).
  const tools = createToolControllers({
    env: {
      ...process.env,
      BERTH_TOOL_SECRET_KEY: process.env.BERTH_TOOL_SECRET_KEY || generateToolSecretKey(),
    },
    config: { toolStopTimeoutSeconds: 2, gateImage: GATE_STUB_IMAGE },
  });
  const manager = await startControllers({
    pool,
    driver,
    reconcilers: tools.reconcilers,
    runnables: tools.runnables,
    config: { resyncIntervalMs: 0, metricsPort: -1 },
    registry,
    ...(process.env.BENCH_LOG ? { log: stderrLog } : {}),
  });
  return { manager, driver, registry, runTaskAt };
}

async function createTool(store: ResourceStore, name: string): Promise<void> {
  await store.create('ToolDefinition', {
    apiVersion: 'berth/v1alpha1',
    kind: 'ToolDefinition',
    metadata: { name },
    spec: {
      displayName: name,
      image: 'berth/tiny:latest',
      port: 8080,
      sizes: { small: { cpu: 256, memory: 512 } },
      defaultSize: 'small',
      readiness: { path: '/healthz', timeoutSeconds: 2, periodSeconds: 1 },
      spawnTimeout: '5m',
    },
  });
  for (;;) {
    const td = (await store.get('ToolDefinition', undefined, name)) as {
      status?: { taskDefinitionArn?: string };
    };
    if (td.status?.taskDefinitionArn) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Creates N Stopped instances `<tool>-<i>` and waits until the controller has seen them all. */
async function createStopped(
  store: ResourceStore,
  ns: string,
  tool: string,
  N: number,
): Promise<void> {
  for (let i = 0; i < N; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, N - i) }, (_, j) =>
        store.create('ToolInstance', {
          apiVersion: 'berth/v1alpha1',
          kind: 'ToolInstance',
          metadata: { name: `${tool}-${i + j}`, namespace: ns },
          spec: { toolRef: tool, state: 'Stopped' },
        }),
      ),
    );
  }
  for (;;) {
    const items = (await store.list('ToolInstance', { namespace: ns })).items as ToolInstance[];
    if (items.filter((i) => i.status?.phase === 'Stopped').length === N) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

const setRunning = (store: ResourceStore, ns: string, name: string) =>
  store.patch('ToolInstance', ns, name, { spec: { state: 'Running' } });

/** Creates N Stopped instances, waits until the controller has seen them, then sets all Running (WRITERS in flight); returns write times by uid. */
async function launchAll(
  store: ResourceStore,
  ns: string,
  tool: string,
  N: number,
): Promise<{ t0: number; writtenAt: Map<string, number> }> {
  await createStopped(store, ns, tool, N);
  const writtenAt = new Map<string, number>();
  const t0 = Date.now();
  for (let i = 0; i < N; i += WRITERS) {
    await Promise.all(
      Array.from({ length: Math.min(WRITERS, N - i) }, async (_, j) => {
        const o = await setRunning(store, ns, `${tool}-${i + j}`);
        writtenAt.set(o.metadata.uid!, Date.now());
      }),
    );
  }
  return { t0, writtenAt };
}

/**
 * Sets N Stopped instances Running at a constant `rate` per second, open loop: the
 * i-th write starts at t0 + i / rate whether or not earlier ones finished, so a
 * slow controller cannot slow the offered load down. Returns write times by uid.
 */
async function launchPaced(
  store: ResourceStore,
  ns: string,
  tool: string,
  N: number,
  rate: number,
): Promise<Map<string, number>> {
  await createStopped(store, ns, tool, N);
  const writtenAt = new Map<string, number>();
  const t0 = performance.now();
  const writes: Promise<void>[] = [];
  for (let i = 0; i < N; i++) {
    const due = t0 + (i * 1000) / rate - performance.now();
    if (due > 0) await new Promise((r) => setTimeout(r, due));
    writes.push(
      setRunning(store, ns, `${tool}-${i}`).then((o) => {
        writtenAt.set(o.metadata.uid!, Date.now());
      }),
    );
  }
  await Promise.all(writes);
  return writtenAt;
}

async function main(): Promise<void> {
  const server = await startBenchPostgres();
  const databases: Database[] = [];
  const openDatabase = async (suffix: string): Promise<Database> => {
    const url = await server.createDatabase(suffix);
    // Two pools, as in production: the writes stand in for the API (its own
    // process and pool); the controllers get what \`berth controller\` opens.
    const pool = createPool(url, { max: 40, applicationName: 'berth-bench-api' });
    const controllerPool = createPool(url, {
      max: 10 + CONTROLLER_CONCURRENCY,
      applicationName: 'berth-bench-controller',
    });
    const queries = countQueries(pool, controllerPool);
    await migrate(pool);
    const queue = await ReconcileQueue.start({
      pool,
      kinds: ['ToolDefinition', 'ToolInstance'],
      role: 'producer',
    });
    const store = new ResourceStore(pool, { onWrite: reconcileOnWrite(queue) });
    const db = { pool, controllerPool, queue, store, queries };
    databases.push(db);
    return db;
  };

  const images = testImages();
  const limited = await startEcsLocalChild({
    imageMap: images,
    addressOctet: 40,
    throttling: true,
  });
  const open = await startEcsLocalChild({ imageMap: images, addressOctet: 41, throttling: false });
  let phase: Phase | undefined;
  try {
    // ---- 1. limits on ----
    if (ONLY !== 'off') {
      const one = await openDatabase('limited');
      const store = one.store;
      phase = await startPhase(one.controllerPool, limited, true);
      await createTool(store, 'tiny');
      // Same-run baseline: one instance from Running to Ready (start-up of a task and its probe).
      const warm = await launchAll(store, 'warmup', 'tiny', 1);
      const startup = ((await waitAllReady(store, 'warmup', 1, 60_000)) - warm.t0) / 1000;
      await new Promise((r) => setTimeout(r, 2_000)); // the buckets refill
      const callsBefore = await sumCounter(phase.registry, 'berth_ecs_calls_total');
      one.queries.reset();
      const { t0 } = await launchAll(store, 'limited', 'tiny', N);
      const took = ((await waitAllReady(store, 'limited', N, 10 * 60_000)) - t0) / 1000;
      const floor = Math.max(0, N - RUN_TASK_BURST) / FARGATE_RATE + startup;
      const calls = (await sumCounter(phase.registry, 'berth_ecs_calls_total')) - callsBefore;
      const throttled = await sumCounter(phase.registry, 'berth_ecs_throttled_total');
      console.log(
        `limits on: ${N} instances Running -> all Ready in ${took.toFixed(1)} s; floor ${floor.toFixed(1)} s ((${N} - ${RUN_TASK_BURST}) / ${FARGATE_RATE}/s + start-up of one instance ${startup.toFixed(1)} s); ratio ${(took / floor).toFixed(3)} (target <= 1.1)`,
      );
      console.log(
        `limits on: ECS calls per instance (launch to Ready) ${(calls / N).toFixed(2)}; throttled attempts ${throttled}`,
      );
      await printDiagnostics('limits on', phase, one.queries, store, 'limited', t0);

      // Idle: 1,000 Ready instances, nothing changing. First let the tail of the
      // launch settle: each launch leaves a safety requeue 30 s later (a no-op
      // reconcile of a Ready instance) and Events still being written.
      await new Promise((r) => setTimeout(r, SETTLE_SECONDS * 1000));
      const idleCallsBefore = await sumCounter(phase.registry, 'berth_ecs_calls_total');
      one.queries.reset();
      const cpu0 = process.cpuUsage();
      const w0 = performance.now();
      await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
      const cpu = process.cpuUsage(cpu0);
      const wall = (performance.now() - w0) * 1000;
      const idleCalls =
        (await sumCounter(phase.registry, 'berth_ecs_calls_total')) - idleCallsBefore;
      const share = ((cpu.user + cpu.system) / wall) * 100;
      const rss = process.memoryUsage();
      console.log(
        `idle with ${N} Ready: controller CPU ${share.toFixed(2)}% of one core over ${IDLE_SECONDS} s, from ${SETTLE_SECONDS} s after all Ready (target < 5%); RSS ${(rss.rss / 2 ** 20).toFixed(0)} MiB, heap ${(rss.heapUsed / 2 ** 20).toFixed(0)} MiB; ${idleCalls} ECS calls (${(idleCalls / IDLE_SECONDS).toFixed(2)}/s); ${one.queries.total()} database statements (${(one.queries.total() / IDLE_SECONDS).toFixed(1)}/s)`,
      );
      await phase.manager.close();
      phase.driver.close();
      phase = undefined;
    }

    // ---- 2. limits off ----
    if (ONLY !== 'on') {
      const two = await openDatabase('open');
      const store = two.store;
      phase = await startPhase(two.controllerPool, open, false);
      await createTool(store, 'open');
      two.queries.reset();
      const { t0: t1, writtenAt } = await launchAll(store, 'open', 'open', N);
      const writeSpan = (Date.now() - t1) / 1000;
      const readyAll = ((await waitAllReady(store, 'open', N, 10 * 60_000)) - t1) / 1000;
      const runTimes = [...phase.runTaskAt.values()];
      const launchSpan = (Math.max(...runTimes) - t1) / 1000;
      const lat = [...writtenAt].map(([uid, w]) => (phase!.runTaskAt.get(uid) ?? Number.NaN) - w);
      console.log(
        `limits off: ${N} RunTask calls in ${launchSpan.toFixed(1)} s = ${(N / launchSpan).toFixed(0)} launches/s (the writes took ${writeSpan.toFixed(1)} s = ${(N / writeSpan).toFixed(0)}/s); all Ready in ${readyAll.toFixed(1)} s`,
      );
      console.log(
        `limits off, burst of ${N}: store write -> RunTask call ${summary(lat)} (the queue: ${N} writes in ${writeSpan.toFixed(1)} s against ${(N / launchSpan).toFixed(0)} launches/s)`,
      );
      await printDiagnostics('limits off', phase, two.queries, store, 'open', t1);

      // Steady load at a share of the capacity just measured: the path's own latency.
      const rate = Math.max(1, Math.round((PACED_SHARE * N) / launchSpan));
      const paced = Math.max(1, Math.round(rate * PACED_SECONDS));
      const pacedAt = await launchPaced(store, 'paced', 'open', paced, rate);
      await waitAllReady(store, 'paced', paced, 10 * 60_000);
      const pacedLat = [...pacedAt].map(
        ([uid, w]) => (phase!.runTaskAt.get(uid) ?? Number.NaN) - w,
      );
      const p50 = [...pacedLat].sort((a, b) => a - b)[Math.floor(pacedLat.length / 2)]!;
      console.log(
        `limits off, steady ${rate} writes/s (${Math.round(PACED_SHARE * 100)}% of the launch rate) for ${PACED_SECONDS} s, ${paced} instances: store write -> RunTask call ${summary(pacedLat)} (target p50 < 50 ms)  ${p50 < 50 ? 'OK' : 'ABOVE TARGET'}`,
      );
    }
  } finally {
    if (phase) {
      await phase.manager.close().catch(() => {});
      phase.driver.close();
    }
    for (const c of [limited.child, open.child]) {
      c.kill('SIGTERM');
      await new Promise((r) => c.once('exit', r));
    }
    for (const db of databases) {
      await db.queue.stop().catch(() => {});
      await db.store.close().catch(() => {});
      await db.pool.end();
      await db.controllerPool.end();
    }
    await server.close();
  }
}

await main();
