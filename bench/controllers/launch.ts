// The controllers launching 1,000 ToolInstances against ecs-local (the tiny C
// tool from test/controllers/fixtures, 1 MB per task).
//
// 1. ECS limits on (ecs-local throttling, the driver's buckets): 1,000
//    instances set Running at once; time until all are Ready against the floor
//    the Fargate launch rate implies (1000 / 20 per s = 50 s; target <= 1.1x);
//    ECS calls per instance; then the controller's CPU and memory with 1,000
//    Ready instances idle for 60 s (target < 5% of one core).
// 2. Limits off (both sides): 1,000 more instances; launches per second and
//    p50/p99 from the store write (spec.state Running) to the RunTask call
//    (target p50 < 50 ms).
//
// ecs-local runs in a child process so the CPU figures are the controller's.
//   node bench/controllers/launch.ts            # N = 1000
//   BENCH_INSTANCES=200 node bench/controllers/launch.ts
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { Registry } from 'prom-client';
import {
  createEcsDriver,
  type EcsDriver,
  loadEcsConfig,
  ReconcileQueue,
  type RunningControllers,
  reconcileOnWrite,
  startControllers,
} from '../../controllers/index.ts';
import { createToolControllers } from '../../controllers/reconcilers/index.ts';
import type { ToolInstance } from '../../crds/index.ts';
import {
  createPool,
  migrate,
  type Pool,
  ResourceStore,
  startEmbeddedPostgres,
} from '../../store/index.ts';
import { testImages } from '../../test/controllers/tiny-tool.ts';

const N = Number(process.env.BENCH_INSTANCES ?? 1000);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 60);
const FARGATE_RATE = 20;

function startEcsLocalChild(options: object): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [
      '--disable-warning=ExperimentalWarning',
      join(import.meta.dirname, 'ecs-local-child.lib.ts'),
      JSON.stringify(options),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += String(d);
      const m = /URL (\S+)/.exec(out);
      if (m) resolve({ url: m[1]!, child });
    });
    child.once('exit', (code) => reject(new Error(`ecs-local exited ${code}`)));
  });
}

function driverFor(url: string, throttle: boolean, registry: Registry): EcsDriver {
  return createEcsDriver({
    config: loadEcsConfig({
      BERTH_ECS_ENDPOINT: url,
      BERTH_ECS_SUBNETS: 'subnet-0a1b2c3d4e5f60001,subnet-0a1b2c3d4e5f60002',
      BERTH_ECS_SECURITY_GROUPS: 'sg-0a1b2c3d4e5f60001',
      BERTH_ECS_CLIENT_THROTTLE: throttle ? 'on' : 'off',
    }),
    registry,
  });
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function sumCounter(registry: Registry, name: string): Promise<number> {
  const m = registry.getSingleMetric(name);
  if (!m) return 0;
  return (await m.get()).values.reduce((n, v) => n + v.value, 0);
}

async function waitAllReady(
  store: ResourceStore,
  ns: string,
  n: number,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const items = (await store.list('ToolInstance', { namespace: ns })).items as ToolInstance[];
    const ready = items.filter((i) => i.status?.phase === 'Ready').length;
    const failed = items.filter((i) => i.status?.phase === 'Failed');
    if (failed.length) throw new Error(`failed: ${JSON.stringify(failed[0]!.status)}`);
    if (ready === n) return;
    if (Date.now() > deadline) throw new Error(`only ${ready}/${n} Ready after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface Phase {
  manager: RunningControllers;
  driver: EcsDriver;
  registry: Registry;
  runTaskAt: Map<string, number>;
}

async function startPhase(pool: Pool, url: string, throttle: boolean): Promise<Phase> {
  const registry = new Registry();
  const driver = driverFor(url, throttle, registry);
  const runTaskAt = new Map<string, number>();
  const original = driver.runTask.bind(driver);
  driver.runTask = (req) => {
    const uid = req.clientToken.slice(0, 36);
    if (!runTaskAt.has(uid)) runTaskAt.set(uid, performance.timeOrigin + performance.now());
    return original(req);
  };
  const tools = createToolControllers({ config: { toolStopTimeoutSeconds: 2 } });
  const manager = await startControllers({
    pool,
    driver,
    reconcilers: tools.reconcilers,
    runnables: tools.runnables,
    config: { resyncIntervalMs: 0, metricsPort: -1 },
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

/** Creates N Stopped instances, waits until the controller has seen them, then sets all Running; returns write times by uid. */
async function launchAll(
  store: ResourceStore,
  ns: string,
  tool: string,
): Promise<{ t0: number; writtenAt: Map<string, number> }> {
  const uids: string[] = [];
  for (let i = 0; i < N; i += 100) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(100, N - i) }, (_, j) =>
        store.create('ToolInstance', {
          apiVersion: 'berth/v1alpha1',
          kind: 'ToolInstance',
          metadata: { name: `${tool}-${i + j}`, namespace: ns },
          spec: { toolRef: tool, state: 'Stopped' },
        }),
      ),
    );
    uids.push(...batch.map((o) => o.metadata.uid!));
  }
  for (;;) {
    const items = (await store.list('ToolInstance', { namespace: ns })).items as ToolInstance[];
    if (items.filter((i) => i.status?.phase === 'Stopped').length === N) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const writtenAt = new Map<string, number>();
  const t0 = Date.now();
  for (let i = 0; i < N; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, N - i) }, async (_, j) => {
        const o = await store.patch('ToolInstance', ns, `${tool}-${i + j}`, {
          spec: { state: 'Running' },
        });
        writtenAt.set(o.metadata.uid!, Date.now());
      }),
    );
  }
  return { t0, writtenAt };
}

async function main(): Promise<void> {
  let adminUrl = process.env.DATABASE_URL;
  let stopPg = async () => {};
  if (!adminUrl) {
    const db = await startEmbeddedPostgres({
      dataDir: join(import.meta.dirname, '..', '..', '.data', `bench-postgres-${process.pid}`),
      ephemeral: true,
    });
    adminUrl = db.url;
    stopPg = db.stop;
  }
  const name = `berth_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const pool = createPool(u.toString(), { max: 40, applicationName: 'berth-bench' });
  await migrate(pool);
  const queue = await ReconcileQueue.start({
    pool,
    kinds: ['ToolDefinition', 'ToolInstance'],
    role: 'producer',
  });
  const store = new ResourceStore(pool, { onWrite: reconcileOnWrite(queue) });

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
    phase = await startPhase(pool, limited.url, true);
    await createTool(store, 'tiny');
    const callsBefore = await sumCounter(phase.registry, 'berth_ecs_calls_total');
    const { t0 } = await launchAll(store, 'limited', 'tiny');
    await waitAllReady(store, 'limited', N, 10 * 60_000);
    const took = (Date.now() - t0) / 1000;
    const floor = N / FARGATE_RATE;
    const calls = (await sumCounter(phase.registry, 'berth_ecs_calls_total')) - callsBefore;
    const throttled = await sumCounter(phase.registry, 'berth_ecs_throttled_total');
    console.log(
      `limits on: ${N} instances Running -> all Ready in ${took.toFixed(1)} s; floor ${floor.toFixed(0)} s (${FARGATE_RATE}/s); ratio ${(took / floor).toFixed(3)} (target <= 1.1)`,
    );
    console.log(
      `limits on: ECS calls per instance (launch to Ready) ${(calls / N).toFixed(2)}; throttled attempts ${throttled}`,
    );

    // Idle: 1,000 Ready instances, nothing changing.
    const idleCallsBefore = await sumCounter(phase.registry, 'berth_ecs_calls_total');
    const cpu0 = process.cpuUsage();
    const w0 = performance.now();
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    const cpu = process.cpuUsage(cpu0);
    const wall = (performance.now() - w0) * 1000;
    const idleCalls = (await sumCounter(phase.registry, 'berth_ecs_calls_total')) - idleCallsBefore;
    const share = ((cpu.user + cpu.system) / wall) * 100;
    const rss = process.memoryUsage();
    console.log(
      `idle with ${N} Ready: controller CPU ${share.toFixed(2)}% of one core over ${IDLE_SECONDS} s (target < 5%); RSS ${(rss.rss / 2 ** 20).toFixed(0)} MiB, heap ${(rss.heapUsed / 2 ** 20).toFixed(0)} MiB; ${idleCalls} ECS calls (${(idleCalls / IDLE_SECONDS).toFixed(2)}/s)`,
    );
    await phase.manager.close();
    phase.driver.close();
    phase = undefined;

    // ---- 2. limits off ----
    phase = await startPhase(pool, open.url, false);
    await createTool(store, 'open');
    const { t0: t1, writtenAt } = await launchAll(store, 'open', 'open');
    await waitAllReady(store, 'open', N, 10 * 60_000);
    const readyAll = (Date.now() - t1) / 1000;
    const runTimes = [...phase.runTaskAt.values()];
    const launchSpan = (Math.max(...runTimes) - t1) / 1000;
    const lat = [...writtenAt]
      .map(([uid, w]) => (phase!.runTaskAt.get(uid) ?? Number.NaN) - w)
      .sort((a, b) => a - b);
    console.log(
      `limits off: ${N} RunTask calls in ${launchSpan.toFixed(1)} s = ${(N / launchSpan).toFixed(0)} launches/s; all Ready in ${readyAll.toFixed(1)} s`,
    );
    console.log(
      `limits off: store write -> RunTask call p50 ${pct(lat, 50).toFixed(0)} ms, p99 ${pct(lat, 99).toFixed(0)} ms (target p50 < 50 ms)`,
    );
  } finally {
    if (phase) {
      await phase.manager.close().catch(() => {});
      phase.driver.close();
    }
    for (const c of [limited.child, open.child]) {
      c.kill('SIGTERM');
      await new Promise((r) => c.once('exit', r));
    }
    await queue.stop().catch(() => {});
    await store.close().catch(() => {});
    await pool.end();
    const a = new pg.Client({ connectionString: adminUrl });
    await a.connect();
    await a.query(`drop database if exists ${name} with (force)`);
    await a.end();
    await admin.end();
    await stopPg();
  }
}

await main();
