// The chaos run shared by bench/chaos (100 instances, minutes) and
// test/heal/chaos.test.ts (a few instances, ~20 s): berth's parts as separate
// processes (system.ts), a writer that flips instances between Running and
// Stopped through the API and records every acknowledged write, and a chaos loop
// that at random SIGKILLs a controller replica (and starts a new one), restarts
// ecs-local (SIGKILL: it forgets every task and task definition) or restarts
// PostgreSQL. Then the chaos and the writer stop and the checks run:
//   convergence  every instance matches its spec (convergence.ts) within convergeMs
//   duplicates   an instance with more than one live task (sampled during the run and at the end)
//   strays       a live task whose instance is Stopped, gone, or runs another task
//   finalizers   every instance deleted at the end is gone within convergeMs
//   lost writes  an acknowledged write missing from the store
//   orphans      a task process that outlived the ecs-local that started it
//                (ecsLocalSignal SIGTERM instead lets ecs-local stop its tasks first)
//   crashes      a daemon that exited without being told to
import { setTimeout as setTimeoutPromise } from 'node:timers/promises';
import type { ToolInstance } from '../../../crds/index.ts';
import { tinyToolDefinition, toolInstance } from './api-client.ts';
import { describeInstance, judge } from './convergence.ts';
import { type LiveTask, tasksByInstance } from './ecs-view.ts';
import { type LogCount, warningsByMessage } from './logs.ts';
import { type System, startSystem } from './system.ts';
import { taskProcesses } from './task-processes.ts';

export type ChaosAction = 'controller' | 'ecs-local' | 'postgres';

export interface ChaosOptions {
  dir: string;
  addressOctet: number;
  instances: number;
  /** How long the chaos lasts (longer when one round of every action takes longer than this). */
  chaosSeconds: number;
  /** Gap between two chaos actions, drawn uniformly from [min, max]; the actions come in shuffled rounds. */
  gapMs: [number, number];
  /** Each instance's writer waits this long (uniform) between two flips. */
  flipMs: [number, number];
  convergeMs: number;
  actions: ChaosAction[];
  /** How ecs-local is stopped before its restart: SIGKILL (a crash) or SIGTERM (it stops its tasks first). */
  ecsLocalSignal?: 'SIGKILL' | 'SIGTERM';
  controllers: number;
  /** Extra controller environment. */
  controllerEnv?: Record<string, string>;
  log?: (line: string) => void;
}

export interface ChaosReport {
  kills: Record<ChaosAction, number>;
  writes: { acknowledged: number; failed: number };
  /** Per instance, ms from the end of the chaos until it matched its spec. */
  convergenceMs: number[];
  unconverged: string[];
  duplicates: string[];
  strays: string[];
  stuckFinalizers: string[];
  lostWrites: string[];
  orphans: string[];
  crashes: string[];
  warnings: LogCount[];
  logDir: string;
}

interface Attempt {
  state: 'Running' | 'Stopped';
  acknowledged: boolean;
  resourceVersion?: string;
}

const NS = 'chaos';
const TOOL = 'tiny';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sleepUnless = (ms: number, signal: AbortSignal) =>
  setTimeoutPromise(ms, undefined, { signal }).catch(() => {});
const between = ([a, b]: [number, number]) => a + Math.random() * (b - a);

/** Restarts every daemon that died without being told to (counted in `crashes`). */
async function reviveCrashed(system: System): Promise<void> {
  for (const d of system.daemons()) {
    if (!d.running && system.pg.running) await d.start().catch(() => {});
  }
}

async function doAction(system: System, action: ChaosAction, o: ChaosOptions): Promise<void> {
  if (action === 'controller') {
    const c = system.controllers[Math.floor(Math.random() * system.controllers.length)]!;
    await c.restart('SIGKILL');
  } else if (action === 'ecs-local') {
    await system.ecsLocal.restart(o.ecsLocalSignal ?? 'SIGKILL');
  } else {
    await system.pg.restart();
  }
}

export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const log = o.log ?? (() => {});
  const system = await startSystem({
    dir: o.dir,
    addressOctet: o.addressOctet,
    controllers: o.controllers,
    proxy: false,
    ...(o.controllerEnv ? { controllerEnv: o.controllerEnv } : {}),
  });
  let keepLogs = true;
  try {
    const report = await run(system, o, log);
    keepLogs = failedChecks(report, o.instances).length > 0;
    return report;
  } finally {
    await system.close(keepLogs);
  }
}

async function run(system: System, o: ChaosOptions, log: (line: string) => void) {
  const api = system.admin;
  await api.create('tooldefinitions', undefined, tinyToolDefinition(TOOL));
  const names = Array.from({ length: o.instances }, (_, i) => `i${i}`);
  for (const name of names) {
    await api.create('toolinstances', NS, toolInstance(NS, name, TOOL, 'Stopped'));
  }
  log(
    `system up (logs in ${system.logDir}); ${o.instances} instances; chaos for ${o.chaosSeconds} s`,
  );

  // ---- the writer: each instance flips on its own clock ----
  const attempts = new Map<string, Attempt[]>(names.map((n) => [n, []]));
  let writing = true;
  // Stopping the writer ends its pauses at once: convergence is timed from the last write.
  const stopWriting = new AbortController();
  const writers = names.map(async (name) => {
    let next: Attempt['state'] = 'Running';
    while (writing) {
      const a: Attempt = { state: next, acknowledged: false };
      attempts.get(name)!.push(a);
      try {
        const ti = await api.setState(NS, name, next);
        a.acknowledged = true;
        a.resourceVersion = ti.metadata.resourceVersion!;
      } catch {
        // not acknowledged: it may or may not have committed
      }
      next = next === 'Running' ? 'Stopped' : 'Running';
      await sleepUnless(between(o.flipMs), stopWriting.signal);
    }
  });

  // ---- the duplicate sampler: at most one live task per instance, always ----
  const duplicates = new Set<string>();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      try {
        for (const [uid, tasks] of tasksByInstance(await system.ecs.liveTasks())) {
          if (tasks.length > 1)
            duplicates.add(`${uid}: ${tasks.map((t) => t.taskArn.split('/').pop()).join(', ')}`);
        }
      } catch {
        // ecs-local is restarting
      }
      await sleep(2_000);
    }
  })();

  // ---- chaos ----
  const kills: Record<ChaosAction, number> = { controller: 0, 'ecs-local': 0, postgres: 0 };
  const end = Date.now() + o.chaosSeconds * 1000;
  const deck: ChaosAction[] = [];
  // At least one round of every action, however slowly a loaded machine restarts them.
  let done = 0;
  for (;;) {
    const gap = between(o.gapMs);
    if (Date.now() + gap >= end && done >= o.actions.length) {
      await sleep(Math.max(0, end - Date.now()));
      break;
    }
    await sleep(gap);
    // Rounds of every action in a random order, so even a short run has each kind.
    if (deck.length === 0) deck.push(...[...o.actions].sort(() => Math.random() - 0.5));
    const action = deck.pop()!;
    done += 1;
    const t0 = Date.now();
    try {
      await doAction(system, action, o);
      kills[action] += 1;
      log(`chaos: ${action} restarted (${Date.now() - t0} ms)`);
    } catch (err) {
      log(`chaos: ${action} restart failed: ${(err as Error).message}`);
    }
    await reviveCrashed(system);
  }
  writing = false;
  stopWriting.abort();
  await Promise.all(writers);
  await reviveCrashed(system);
  const chaosEnd = Date.now();
  const all = [...attempts.values()].flat();
  const writes = {
    acknowledged: all.filter((a) => a.acknowledged).length,
    failed: all.filter((a) => !a.acknowledged).length,
  };
  log(
    `chaos over: ${JSON.stringify(kills)}; writes acknowledged ${writes.acknowledged}, not ${writes.failed}`,
  );

  // ---- convergence ----
  const convergedAt = new Map<string, number>();
  let lastWhy = new Map<string, string>();
  let instances: ToolInstance[] = [];
  let tasks: LiveTask[] = [];
  const orphanList = () =>
    taskProcesses(system.runId).filter((p) => p.ecsStart !== system.ecsStarts());
  for (;;) {
    try {
      instances = await api.instances(NS);
      tasks = await system.ecs.liveTasks();
      const orphanAddresses = new Set(orphanList().map((p) => p.address));
      const why = new Map<string, string>();
      await Promise.all(
        instances.map(async (ti) => {
          const v = await judge(ti, tasks, orphanAddresses);
          const name = ti.metadata.name;
          if (v.ok) {
            if (!convergedAt.has(name)) convergedAt.set(name, Date.now());
          } else {
            convergedAt.delete(name);
            why.set(name, v.why);
          }
        }),
      );
      lastWhy = why;
      if (why.size === 0 && instances.length === names.length) break;
    } catch (err) {
      lastWhy.set('(harness)', (err as Error).message);
    }
    if (Date.now() - chaosEnd > o.convergeMs) break;
    await sleep(500);
  }
  sampling = false;
  await sampler;
  const convergenceMs = names
    .filter((n) => convergedAt.has(n))
    .map((n) => Math.max(0, convergedAt.get(n)! - chaosEnd));
  const unconverged = [...lastWhy].map(([n, why]) => `${n}: ${why}`);
  log(`convergence: ${convergenceMs.length}/${names.length} within ${o.convergeMs / 1000} s`);

  // ---- duplicates and strays at the end ----
  const byUid = new Map(instances.map((ti) => [ti.metadata.uid!, ti]));
  const strays: string[] = [];
  for (const [uid, live] of tasksByInstance(tasks)) {
    if (live.length > 1)
      duplicates.add(`${uid}: ${live.map((t) => t.taskArn.split('/').pop()).join(', ')}`);
    const ti = byUid.get(uid);
    for (const t of live) {
      const id = t.taskArn.split('/').pop();
      if (!ti) strays.push(`task ${id}: no instance with uid ${uid}`);
      else if (ti.spec.state === 'Stopped')
        strays.push(
          `task ${id}: instance ${ti.metadata.name} is Stopped (${describeInstance(ti)})`,
        );
      else if (ti.status?.taskArn !== t.taskArn)
        strays.push(
          `task ${id}: instance ${ti.metadata.name} runs ${ti.status?.taskArn ?? 'nothing'}`,
        );
    }
  }

  // ---- lost writes: every acknowledged write is in the store ----
  const lostWrites: string[] = [];
  const byName = new Map(instances.map((ti) => [ti.metadata.name, ti]));
  for (const [name, list] of attempts) {
    const lastAck = list.findLastIndex((a) => a.acknowledged);
    if (lastAck < 0) continue;
    const a = list[lastAck]!;
    const ti = byName.get(name);
    if (!ti) {
      lostWrites.push(`${name}: acknowledged at resourceVersion ${a.resourceVersion}, missing`);
      continue;
    }
    if (BigInt(ti.metadata.resourceVersion!) < BigInt(a.resourceVersion!)) {
      lostWrites.push(
        `${name}: acknowledged at resourceVersion ${a.resourceVersion}, store has ${ti.metadata.resourceVersion}`,
      );
    }
    const laterUnacknowledged = list.slice(lastAck + 1).some((x) => !x.acknowledged);
    if (ti.spec.state !== a.state && !laterUnacknowledged) {
      lostWrites.push(`${name}: acknowledged spec.state ${a.state}, store has ${ti.spec.state}`);
    }
  }

  // ---- finalizers: delete everything; it must go, and its tasks with it ----
  const orphans = orphanList().map(
    (p) => `pid ${p.pid} (ecs-local start ${p.ecsStart}) on ${p.address}`,
  );
  const stuckFinalizers: string[] = [];
  await Promise.all(names.map((n) => api.deleteInstance(NS, n).catch(() => {})));
  const deleteStart = Date.now();
  for (;;) {
    let left: ToolInstance[] = [];
    try {
      left = await api.instances(NS);
    } catch {
      left = instances;
    }
    if (left.length === 0) break;
    if (Date.now() - deleteStart > o.convergeMs) {
      for (const ti of left) stuckFinalizers.push(`${ti.metadata.name}: ${describeInstance(ti)}`);
      break;
    }
    await sleep(500);
  }
  if (stuckFinalizers.length === 0) {
    for (const t of await system.ecs.liveTasks().catch(() => [])) {
      strays.push(
        `task ${t.taskArn.split('/').pop()}: still live after every instance was deleted`,
      );
    }
  }
  const crashes = system
    .daemons()
    .flatMap((d) => d.unexpectedExits)
    .map((e) => `${e.name} exited (${e.code ?? e.signal}); see ${e.log}`);
  return {
    kills,
    writes,
    convergenceMs,
    unconverged,
    duplicates: [...duplicates],
    strays,
    stuckFinalizers,
    lostWrites,
    orphans,
    crashes,
    warnings: warningsByMessage(system.daemons()),
    logDir: system.logDir,
  };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** The report's failed checks, in words; empty when all passed. */
export function failedChecks(r: ChaosReport, instances: number): string[] {
  const out: string[] = [];
  if (r.convergenceMs.length < instances)
    out.push(`${instances - r.convergenceMs.length} of ${instances} instances did not converge`);
  if (r.duplicates.length) out.push(`${r.duplicates.length} instances with duplicate tasks`);
  if (r.strays.length) out.push(`${r.strays.length} stray tasks`);
  if (r.stuckFinalizers.length) out.push(`${r.stuckFinalizers.length} stuck finalizers`);
  if (r.lostWrites.length) out.push(`${r.lostWrites.length} lost writes`);
  if (r.orphans.length) out.push(`${r.orphans.length} task processes outlived their ecs-local`);
  if (r.crashes.length) out.push(`${r.crashes.length} daemon crashes`);
  return out;
}
