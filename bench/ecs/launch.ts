// Launching tasks through the ECS driver against ecs-local.
//
// 1. Throttling on (ECS's buckets in ecs-local, the driver's own buckets in
//    front): launch N tasks as N RunTask calls (one per instance, as the
//    controllers do) and report the launch rate as a fraction of the 20 tasks/s
//    Fargate allows (target >= 0.95), whether ECS throttled anything, and how
//    many DescribeTasks calls per task it took to see every task RUNNING when
//    each task has its own poller (one tick a second, merged by the coalescer).
// 2. Throttling off on both sides: raw tasks per second through the driver and
//    memory per running task (RSS and PSS of the task processes / count).
//
// Every container is `sleep`, so 1,000 of them fit on a laptop. ecs-local's
// close() kills every process group it started; the script checks that no
// task process is left and exits 1 if one is.
//
//   node bench/ecs/launch.ts            # N = 1000
//   BENCH_ECS_TASKS=200 node bench/ecs/launch.ts
import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { createEcsDriver, type EcsDriver, loadEcsConfig } from '../../controllers/index.ts';
import { type EcsLocal, startEcsLocal } from '../../ecs-local/index.ts';

const N = Number(process.env.BENCH_ECS_TASKS ?? 1000);
const FARGATE_RATE = 20; // tasks per second, burst aside
const POLL_TICK_MS = 1000;

const sleepImage = { 'berth/sleep:latest': { command: 'sleep', args: ['3600'] } };

const taskDefinition = {
  family: 'bench-sleep',
  networkMode: 'awsvpc' as const,
  requiresCompatibilities: ['FARGATE' as const],
  cpu: '256',
  memory: '512',
  containerDefinitions: [
    { name: 'tool', image: 'berth/sleep:latest', essential: true, stopTimeout: 2 },
  ],
};

function makeDriver(
  ecsLocal: EcsLocal,
  clientThrottle: boolean,
): { driver: EcsDriver; describeCalls: () => number; throttled: () => Promise<number> } {
  const registry = new Registry();
  const config = loadEcsConfig({
    BERTH_ECS_ENDPOINT: ecsLocal.url,
    BERTH_ECS_ACCESS_KEY_ID: ecsLocal.credentials.accessKeyId,
    BERTH_ECS_SECRET_ACCESS_KEY: ecsLocal.credentials.secretAccessKey,
    BERTH_ECS_SUBNETS: 'subnet-0a1b2c3d4e5f60001',
    BERTH_ECS_SECURITY_GROUPS: 'sg-0a1b2c3d4e5f60001',
    BERTH_INSTALLATION_ID: 'bench',
    BERTH_ECS_CLIENT_THROTTLE: clientThrottle ? 'on' : 'off',
  });
  const driver = createEcsDriver({ config, registry });
  let describeCalls = 0;
  driver.ecs.middlewareStack.add(
    (next, context) => (args) => {
      if (context.commandName === 'DescribeTasksCommand') describeCalls++;
      return next(args);
    },
    { step: 'initialize', name: 'benchCountDescribe' },
  );
  const throttled = async () =>
    ((await registry.getSingleMetric('berth_ecs_throttled_total')?.get())?.values ?? []).reduce(
      (s, v) => s + v.value,
      0,
    );
  return { driver, describeCalls: () => describeCalls, throttled };
}

/** Every pending task's own poller asks once per tick; the coalescer merges them. */
async function pollUntilRunning(driver: EcsDriver, arns: Promise<string>[]): Promise<void> {
  const pending = new Set<string>();
  let launchedAll = false;
  const settle = () => {
    launchedAll = true;
  };
  void Promise.all(arns.map((p) => p.then((arn) => pending.add(arn)))).then(settle, settle);
  while (!launchedAll || pending.size > 0) {
    await new Promise((r) => setTimeout(r, POLL_TICK_MS));
    await Promise.all(
      [...pending].map(async (arn) => {
        const { tasks } = await driver.describeTasks([arn]);
        const status = tasks[0]?.lastStatus;
        if (status === 'RUNNING') pending.delete(arn);
        else if (status === 'STOPPED')
          throw new Error(`task ${arn} stopped: ${tasks[0]?.stoppedReason}`);
      }),
    );
  }
}

/**
 * With the buckets on, every call is issued at once and the driver paces them.
 * Without them, at most `inFlight` calls run at once: the SDK's 50 sockets.
 */
function launchAll(
  driver: EcsDriver,
  tag: string,
  onLaunched: (at: number) => void,
  inFlight = Number.POSITIVE_INFINITY,
): Promise<string>[] {
  let running = 0;
  const queue: Array<() => void> = [];
  const slot = async () => {
    if (running >= inFlight) await new Promise<void>((r) => queue.push(r));
    running++;
  };
  const release = () => {
    running--;
    queue.shift()?.();
  };
  return Array.from({ length: N }, async (_, i) => {
    await slot();
    const r = await driver
      .runTask({ taskDefinition: 'bench-sleep', clientToken: `${tag}-${i}` })
      .finally(release);
    if (!('task' in r)) throw new Error(`RunTask failure: ${r.failure.reason}`);
    onLaunched(performance.now());
    return r.task.taskArn!;
  });
}

function memoryOf(pids: number[]): { rssKiB: number; pssKiB: number } {
  let rssKiB = 0;
  let pssKiB = 0;
  for (const pid of pids) {
    try {
      const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      rssKiB += Number(/^Rss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
      pssKiB += Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
    } catch {
      // the process is gone
    }
  }
  return { rssKiB, pssKiB };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const rows: Array<[string, string, string]> = [];
const started: EcsLocal[] = [];
const allPids = new Set<number>();
let failed = false;

try {
  // ---- 1. throttling on ----
  {
    const ecsLocal = await startEcsLocal({
      port: 0,
      throttling: true,
      imageMap: sleepImage,
      addressOctet: 10,
    });
    started.push(ecsLocal);
    const { driver, describeCalls, throttled } = makeDriver(ecsLocal, true);
    await driver.registerTaskDefinition(taskDefinition);
    const launchTimes: number[] = [];
    const t0 = performance.now();
    const arns = launchAll(driver, 'on', (at) => launchTimes.push(at));
    await Promise.all([Promise.all(arns), pollUntilRunning(driver, arns)]);
    const tRunning = (performance.now() - t0) / 1000;
    launchTimes.sort((a, b) => a - b);
    const elapsed = (launchTimes.at(-1)! - t0) / 1000;
    const rate = N / elapsed;
    // After the burst the bucket alone sets the pace: the fairest comparison with 20/s.
    const burst = driver.buckets.fargateTaskLaunch.capacity;
    const sustained = (N - burst) / ((launchTimes.at(-1)! - launchTimes[burst - 1]!) / 1000);
    const ideal = N / ((N - burst) / FARGATE_RATE);
    rows.push([`tasks launched (throttling on)`, String(N), '']);
    rows.push([
      'launch rate, overall',
      `${rate.toFixed(2)} tasks/s`,
      `${(rate / FARGATE_RATE).toFixed(3)} of 20/s (bucket allows ${(ideal / FARGATE_RATE).toFixed(3)} with a burst of ${burst})`,
    ]);
    rows.push([
      'launch rate, after the burst',
      `${sustained.toFixed(2)} tasks/s`,
      `${(sustained / FARGATE_RATE).toFixed(3)} of 20/s (target >= 0.95)`,
    ]);
    rows.push(['ThrottlingException answers', String(await throttled()), 'target 0']);
    rows.push([
      'DescribeTasks calls',
      String(describeCalls()),
      `${(describeCalls() / N).toFixed(3)} per task (${N} pollers, 1 s tick)`,
    ]);
    rows.push(['all RUNNING after', `${tRunning.toFixed(1)} s`, '']);
    if (sustained / FARGATE_RATE < 0.95) failed = true;
    for (const p of ecsLocal.processes()) allPids.add(p.pid);
    driver.close();
    await ecsLocal.close(2000);
  }

  // ---- 2. throttling off ----
  {
    const ecsLocal = await startEcsLocal({
      port: 0,
      throttling: false,
      imageMap: sleepImage,
      addressOctet: 11,
    });
    started.push(ecsLocal);
    const { driver } = makeDriver(ecsLocal, false);
    await driver.registerTaskDefinition(taskDefinition);
    const rssBefore = process.memoryUsage().rss;
    const t0 = performance.now();
    const arns = launchAll(driver, 'off', () => {}, 50);
    const launched = await Promise.all(arns);
    const launchSeconds = (performance.now() - t0) / 1000;
    await pollUntilRunning(driver, arns);
    const runningSeconds = (performance.now() - t0) / 1000;
    const pids = ecsLocal
      .processes()
      .filter((p) => p.running)
      .map((p) => p.pid);
    const { rssKiB, pssKiB } = memoryOf(pids);
    const ecsLocalGrowth = (process.memoryUsage().rss - rssBefore) / 1024;
    rows.push([`tasks launched (throttling off)`, String(launched.length), '']);
    rows.push([
      'raw launch rate',
      `${(N / launchSeconds).toFixed(1)} tasks/s`,
      `${(N / launchSeconds / FARGATE_RATE).toFixed(1)}x Fargate's 20/s`,
    ]);
    rows.push(['all RUNNING after', `${runningSeconds.toFixed(1)} s`, '']);
    rows.push(['running task processes', String(pids.length), '']);
    rows.push([
      'memory per running task (RSS)',
      `${(rssKiB / pids.length).toFixed(0)} KiB`,
      'container process only (sleep)',
    ]);
    rows.push([
      'memory per running task (PSS)',
      `${(pssKiB / pids.length).toFixed(0)} KiB`,
      'shared pages split between processes',
    ]);
    rows.push([
      'ecs-local + driver heap per task',
      `${(ecsLocalGrowth / N).toFixed(0)} KiB`,
      'RSS growth of this process / tasks',
    ]);
    for (const p of ecsLocal.processes()) allPids.add(p.pid);
    driver.close();
    await ecsLocal.close(2000);
  }
} catch (err) {
  failed = true;
  console.error(err);
} finally {
  for (const e of started) await e.close(2000);
}

const strays = [...allPids].filter(alive);
rows.push([
  'task processes left after close()',
  String(strays.length),
  `of ${allPids.size} started`,
]);
if (strays.length > 0) failed = true;

const w0 = Math.max(...rows.map((r) => r[0].length));
const w1 = Math.max(...rows.map((r) => r[1].length));
console.log(`\nbench/ecs/launch: ${N} tasks through the ECS driver against ecs-local`);
for (const [a, b, c] of rows) console.log(`  ${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`);
process.exit(failed ? 1 : 0);
