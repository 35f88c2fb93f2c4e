// The ToolInstance reconciler: makes ECS run exactly one task for an instance
// whose spec.state is Running, and none for one that is Stopped or deleted.
// It is the only writer of ToolInstance status (the poller and the GC only
// enqueue), so each decision below reads the current object and the task as
// ECS reports it, makes at most the calls needed, writes status and returns.
//
// Launch protocol (no duplicates, see README "No duplicate tasks"):
//   1. write status {phase: Starting, attempt: N, taskArn: null} with a
//      resourceVersion precondition (two reconciles racing: one gets 409);
//   2. RunTask with clientToken `<uid>-<N>`;
//   3. write status.taskArn.
// A reconcile that finds step 1 done but not step 3 (a crash in between) first
// looks for a live task tagged with the instance uid and adopts it; otherwise it
// repeats RunTask with the same token, which ECS answers with the same task.
import type { Task } from '@aws-sdk/client-ecs';
import {
  type BerthObject,
  isApiError,
  parseDuration,
  type ToolDefinition,
  type ToolInstance,
} from '../../crds/index.ts';
import type { ObjectKey, WriteOptions } from '../../store/index.ts';
import {
  done,
  type ReconcileContext,
  type ReconcileResult,
  type Reconciler,
  requeueAfter,
  terminal,
} from '../reconcile.ts';
import type { ReconcilerConfig } from './config.ts';
import { explainStop } from './failure-reason.ts';
import type { Observations } from './observations.ts';
import {
  FINALIZER,
  formatSeconds,
  isStopping,
  privateIp,
  STOP_REASON_ANNOTATION,
  TAG,
  tagValue,
  taskId,
  withReady,
} from './phase.ts';
import { probeReadiness } from './readiness-probe.ts';
import { TOOL_CONTAINER } from './task-definition.ts';
import { ensureTaskDefinition } from './tooldefinition.ts';

const KIND = 'ToolInstance';
/** Right after RunTask, DescribeTasks may not know the task yet (ECS is eventually consistent). */
const MISSING_GRACE_MS = 15_000;
/** How often a reconcile looks again when no poller tells it (a safety net; the poller is faster). */
const SAFETY_REQUEUE_MS = 30_000;
/** How old a poller observation may be and still be used (the poller triggers again on any change). */
const STARTING_OBSERVATION_MS = 5_000;
/**
 * A launch waits (parked, without a worker slot) for ECS's RunTask rate at most
 * about this long; a longer wait (a burst of launches) comes back later at its
 * turn instead, well within the reconcile timeout, and before writing anything.
 */
const LAUNCH_WAIT_HORIZON_MS = 10_000;

export interface ReconcilerHooks {
  /**
   * Called after RunTask answered with a task and before its ARN is written to
   * status. A test seam: the crash-safety test pauses here and SIGKILLs the process.
   */
  afterRunTask?(key: ObjectKey, taskArn: string): Promise<void>;
}

export interface ToolInstanceDeps {
  config: ReconcilerConfig;
  observations: Observations;
  hooks?: ReconcilerHooks;
  /** Observes the seconds from launch to ready (the time-to-ready histogram). */
  onReady?(seconds: number): void;
}

interface Run {
  ctx: ReconcileContext;
  deps: ToolInstanceDeps;
  key: ObjectKey;
  ti: ToolInstance;
}

export function createToolInstanceReconciler(deps: ToolInstanceDeps): Reconciler {
  // Consecutive capacity failures per instance uid, for the backoff between launch attempts.
  const capacityFailures = new Map<string, number>();

  return async (ctx, key) => {
    let ti: ToolInstance;
    try {
      ti = (await ctx.store.get(KIND, key.namespace, key.name)) as ToolInstance;
    } catch (err) {
      if (isApiError(err, 'NotFound')) return done();
      throw err;
    }
    const run: Run = { ctx, deps, key, ti };

    if (ti.metadata.deletionTimestamp) return finalize(run);

    if (!ti.metadata.finalizers?.includes(FINALIZER)) {
      run.ti = (await ctx.store.patch(KIND, key.namespace, key.name, {
        metadata: {
          finalizers: [...(ti.metadata.finalizers ?? []), FINALIZER],
          resourceVersion: ti.metadata.resourceVersion,
        },
      })) as ToolInstance;
    }
    if (!run.ti.status?.phase) {
      await writeStatus(run, {
        phase: 'Pending',
        message: 'Waiting to launch',
        conditions: withReady(run.ti, 'False', 'Pending', 'Waiting to launch', ctx.now()),
      });
    }

    if (run.ti.spec.state === 'Stopped') {
      const r = await stopInstance(run, stopReasonOf(run.ti));
      return r.stopped ? done() : r.result;
    }

    const status = run.ti.status ?? { conditions: [] };
    switch (status.phase) {
      case 'Starting':
        return status.taskArn ? watchStart(run) : launch(run, capacityFailures);
      case 'Ready':
        return watchReady(run);
      case 'Stopping': {
        // Asked to run again while stopping: let the old task go first, then launch.
        const r = await stopInstance(run, status.stopReason ?? 'UserRequested');
        return r.stopped ? launch(run, capacityFailures) : r.result;
      }
      case 'Stopped':
      case 'Failed':
        // A new attempt only when the spec changed since berth last looked (the
        // user set Running again); a failure with an unchanged spec stays failed.
        if ((status.observedGeneration ?? 0) >= (run.ti.metadata.generation ?? 0)) return done();
        return launch(run, capacityFailures);
      default:
        return launch(run, capacityFailures);
    }
  };
}

// ---- launching ----

async function launch(run: Run, capacityFailures: Map<string, number>): Promise<ReconcileResult> {
  const { ctx, deps } = run;
  const uid = run.ti.metadata.uid!;
  const td = await getToolDefinition(ctx, run.ti.spec.toolRef);
  if (!td) {
    const message = `ToolDefinition "${run.ti.spec.toolRef}" does not exist`;
    await writeStatus(run, {
      phase: 'Pending',
      message,
      conditions: withReady(run.ti, 'False', 'ToolDefinitionNotFound', message, ctx.now()),
    });
    return requeueAfter(30_000);
  }
  const sizeName = run.ti.spec.size ?? td.spec.defaultSize;
  const size = td.spec.sizes[sizeName];
  if (!size) {
    const names = Object.keys(td.spec.sizes).join(', ');
    const message = `Size "${sizeName}" is not one of the sizes of tool "${td.metadata.name}" (${names}); set spec.size to one of them`;
    await writeStatus(run, {
      phase: 'Failed',
      stopReason: 'UnknownSize',
      message,
      conditions: withReady(run.ti, 'False', 'UnknownSize', message, ctx.now()),
    });
    await event(run, 'Warning', 'UnknownSize', message);
    return terminal(message);
  }

  const status = run.ti.status ?? { conditions: [] };
  const inFlight = status.phase === 'Starting' && !status.taskArn && status.attempt !== undefined;
  let attempt: number;
  if (inFlight) {
    // A launch began and never wrote its task: maybe RunTask succeeded and we crashed.
    attempt = status.attempt!;
    const live = await findLiveTaskOf(ctx, uid);
    if (live) return recordLaunched(run, live, sizeName, true);
  } else {
    // A burst: ECS's RunTask rate has a queue longer than we want to wait in.
    const deferMs = ctx.driver.runTaskDeferMs(LAUNCH_WAIT_HORIZON_MS);
    if (deferMs > 0) return requeueAfter(deferMs);
    attempt = (status.attempt ?? 0) + 1;
    const message = `Launching (attempt ${attempt}, size ${sizeName})`;
    await writeStatus(
      run,
      {
        phase: 'Starting',
        attempt,
        startedAt: ctx.now().toISOString(),
        taskArn: null,
        endpoint: null,
        readyAt: null,
        stopReason: null,
        message,
        conditions: withReady(run.ti, 'False', 'Launching', message, ctx.now()),
      },
      { resourceVersion: run.ti.metadata.resourceVersion },
    );
  }

  const taskDefinition = await taskDefinitionArn(run, td);
  const env = toolEnvironment(run, td, sizeName);
  let task: Task;
  try {
    const result = await ctx.driver.runTask({
      taskDefinition,
      clientToken: `${uid}-${attempt}`,
      tags: {
        [TAG.instanceUid]: uid,
        [TAG.namespace]: run.ti.metadata.namespace ?? '',
        [TAG.name]: run.ti.metadata.name,
        [TAG.tool]: td.metadata.name,
        [TAG.attempt]: String(attempt),
      },
      overrides: {
        cpu: String(size.cpu),
        memory: String(size.memory),
        containerOverrides: [{ name: TOOL_CONTAINER, environment: env }],
      },
      capacityProvider: td.spec.capacity,
      // Waiting for a RunTask token is not work: give the worker slot to another key meanwhile.
      ...(ctx.whileWaiting ? { whileWaiting: ctx.whileWaiting } : {}),
    });
    if ('failure' in result) {
      const n = (capacityFailures.get(uid) ?? 0) + 1;
      capacityFailures.set(uid, n);
      const delay = Math.round(Math.min(300_000, 1000 * 2 ** (n - 1)) * (0.5 + Math.random() / 2));
      const why = [result.failure.reason, result.failure.detail].filter(Boolean).join(': ');
      const message = `ECS could not start a task (${why}); trying again in ${formatSeconds(delay)}`;
      // Pending (not Starting): the next reconcile starts a fresh attempt with a new clientToken.
      await writeStatus(run, {
        phase: 'Pending',
        message,
        conditions: withReady(run.ti, 'False', 'LaunchFailed', message, ctx.now()),
      });
      await event(run, 'Warning', 'LaunchFailed', message);
      return requeueAfter(delay);
    }
    task = result.task;
  } catch (err) {
    // Same token, other parameters (the tool's definition changed between a crashed
    // attempt and now): ECS names the task that token already started. Adopt it.
    const ids = (err as { name?: string; resourceIds?: string[] }).resourceIds;
    if ((err as Error).name !== 'ConflictException' || !ids?.length) throw err;
    const { tasks } = await ctx.driver.describeTasks(ids);
    const live = tasks.find((t) => !isStopping(t)) ?? tasks[0];
    if (!live) throw err;
    task = live;
  }
  capacityFailures.delete(uid);
  await deps.hooks?.afterRunTask?.(run.key, task.taskArn!);
  return recordLaunched(run, task, sizeName, false);
}

async function recordLaunched(
  run: Run,
  task: Task,
  sizeName: string,
  adopted: boolean,
): Promise<ReconcileResult> {
  const arn = task.taskArn!;
  const attempt = Number(tagValue(task, TAG.attempt) ?? run.ti.status?.attempt ?? 1);
  run.deps.observations.record(arn, task);
  const message = 'Task launched; waiting for it to run';
  await writeStatus(run, {
    phase: 'Starting',
    taskArn: arn,
    attempt,
    message,
    conditions: withReady(run.ti, 'False', 'TaskStarting', message, run.ctx.now()),
  });
  eventLater(
    run,
    'Normal',
    adopted ? 'TaskAdopted' : 'TaskLaunched',
    `${adopted ? 'Adopted running' : 'Launched'} task ${taskId(arn)} (attempt ${attempt}, size ${sizeName})`,
  );
  return requeueAfter(SAFETY_REQUEUE_MS);
}

// ---- starting -> ready ----

async function watchStart(run: Run): Promise<ReconcileResult> {
  const { ctx, deps } = run;
  const status = run.ti.status!;
  const arn = status.taskArn!;
  const td = await getToolDefinition(ctx, run.ti.spec.toolRef);
  const now = ctx.now().getTime();
  const startedAt = status.startedAt ? Date.parse(status.startedAt) : now;
  const spawnMs = parseDuration(td?.spec.spawnTimeout ?? '10m');
  const deadline = startedAt + spawnMs;

  const task = await observe(run, arn, STARTING_OBSERVATION_MS);
  if (!task) {
    if (now - startedAt < MISSING_GRACE_MS) return requeueAfter(1000);
    return markGone(run, arn);
  }
  if (isStopping(task) && task.stopCode) {
    const why = explainStop(task, true);
    await writeStatus(run, {
      phase: why.phase,
      stopReason: why.reason,
      message: why.message,
      endpoint: null,
      conditions: withReady(run.ti, 'False', why.reason, why.message, ctx.now()),
    });
    await event(run, 'Warning', why.reason, why.message);
    return done();
  }
  const readiness = td?.spec.readiness ?? { path: '/', timeoutSeconds: 5, periodSeconds: 1 };
  if (now >= deadline) {
    const message = `The tool did not answer its readiness check (GET ${readiness.path} on port ${td?.spec.port}) within ${td?.spec.spawnTimeout ?? '10m'}; its task was stopped`;
    await ctx.driver.stopTask(arn, 'berth: SpawnTimeout');
    await writeStatus(run, {
      phase: 'Failed',
      stopReason: 'SpawnTimeout',
      message,
      endpoint: null,
      conditions: withReady(run.ti, 'False', 'SpawnTimeout', message, ctx.now()),
    });
    await event(run, 'Warning', 'SpawnTimeout', message);
    return done();
  }
  const ip = privateIp(task);
  const wait = Math.max(1, Math.min(deadline - now, SAFETY_REQUEUE_MS));
  if (task.lastStatus !== 'RUNNING' || !ip || !td) {
    await progress(run, `Task is ${task.lastStatus?.toLowerCase() ?? 'starting'}`);
    return requeueAfter(wait);
  }
  const endpoint = `http://${ip.includes(':') ? `[${ip}]` : ip}:${td.spec.port}`;
  let ready = deps.observations.readyEndpoint(arn, 15_000) === endpoint;
  let detail = '';
  if (!ready) {
    const probe = await probeReadiness(
      ip,
      td.spec.port,
      readiness.path,
      readiness.timeoutSeconds * 1000,
      ctx.signal,
    );
    ready = probe.ok;
    detail = probe.detail;
  }
  if (!ready) {
    await progress(run, `Task is running; waiting for GET ${readiness.path} to answer (${detail})`);
    return requeueAfter(wait);
  }
  const took = ctx.now().getTime() - startedAt;
  const message = `Ready in ${formatSeconds(took)}`;
  await writeStatus(run, {
    phase: 'Ready',
    endpoint,
    readyAt: ctx.now().toISOString(),
    message,
    conditions: withReady(run.ti, 'True', 'TaskReady', message, ctx.now()),
  });
  eventLater(run, 'Normal', 'TaskReady', `ready in ${formatSeconds(took)}`);
  deps.onReady?.(took / 1000);
  ctx.metrics?.timeToReady.observe({ tool: td.metadata.name }, took / 1000);
  return done();
}

/** A Ready instance: nothing to do unless its task stopped behind berth's back. */
async function watchReady(run: Run): Promise<ReconcileResult> {
  const arn = run.ti.status?.taskArn;
  if (!arn) return launch(run, new Map());
  // The poller describes Ready tasks every readyPollIntervalMs and enqueues on a stop, so its observation is good that long.
  const task = await observe(run, arn, run.deps.config.readyPollIntervalMs + 5_000);
  if (!task) return markGone(run, arn);
  if (!isStopping(task)) return done();
  const why = explainStop(task, false);
  await writeStatus(run, {
    phase: why.phase,
    stopReason: why.reason,
    message: why.message,
    endpoint: null,
    conditions: withReady(run.ti, 'False', why.reason, why.message, run.ctx.now()),
  });
  await event(run, 'Warning', why.reason, why.message);
  return done();
}

/** The task vanished from ECS (not even STOPPED): the instance is Stopped with reason TaskMissing. */
async function markGone(run: Run, arn: string): Promise<ReconcileResult> {
  const message = `Task ${taskId(arn)} no longer exists in ECS`;
  await writeStatus(run, {
    phase: 'Stopped',
    stopReason: 'TaskMissing',
    message,
    endpoint: null,
    conditions: withReady(run.ti, 'False', 'TaskMissing', message, run.ctx.now()),
  });
  await event(run, 'Warning', 'TaskMissing', message);
  run.deps.observations.forget(arn);
  return done();
}

// ---- stopping ----

async function stopInstance(
  run: Run,
  reason: string,
): Promise<{ stopped: true } | { stopped: false; result: ReconcileResult }> {
  const { ctx } = run;
  let status = run.ti.status ?? { conditions: [] };
  if (status.phase === 'Starting' && !status.taskArn && status.attempt !== undefined) {
    // A launch may have reached ECS without writing its task: find it before saying Stopped.
    const live = await findLiveTaskOf(ctx, run.ti.metadata.uid!);
    if (live) {
      await writeStatus(run, { taskArn: live.taskArn! });
      status = run.ti.status!;
    }
  }
  const arn = status.taskArn;
  const phase = status.phase;
  if (phase === 'Stopped' || phase === 'Failed') return { stopped: true };
  if (!arn || phase === 'Pending' || phase === undefined) {
    const message = 'Stopped before a task was launched';
    await writeStatus(run, {
      phase: 'Stopped',
      stopReason: reason,
      message,
      endpoint: null,
      conditions: withReady(run.ti, 'False', 'Stopped', message, ctx.now()),
    });
    return { stopped: true };
  }
  if (phase !== 'Stopping') {
    await ctx.driver.stopTask(arn, `berth: ${reason}`);
    const message = `Stopping task ${taskId(arn)} (${reason})`;
    await writeStatus(run, {
      phase: 'Stopping',
      stopReason: reason,
      message,
      endpoint: null,
      conditions: withReady(run.ti, 'False', 'Stopping', message, ctx.now()),
    });
    await event(run, 'Normal', 'TaskStopping', message);
    return { stopped: false, result: requeueAfter(SAFETY_REQUEUE_MS) };
  }
  const task = await observe(run, arn);
  if (task && task.lastStatus !== 'STOPPED') {
    // StopTask is idempotent; ask again if ECS does not know we asked (a lost call).
    if (task.desiredStatus !== 'STOPPED') await ctx.driver.stopTask(arn, `berth: ${reason}`);
    return { stopped: false, result: requeueAfter(SAFETY_REQUEUE_MS) };
  }
  const message = `Stopped (${status.stopReason ?? reason})`;
  await writeStatus(run, {
    phase: 'Stopped',
    message,
    endpoint: null,
    conditions: withReady(run.ti, 'False', 'Stopped', message, ctx.now()),
  });
  await event(run, 'Normal', 'TaskStopped', `Task ${taskId(arn)} stopped`);
  run.deps.observations.forget(arn);
  return { stopped: true };
}

async function finalize(run: Run): Promise<ReconcileResult> {
  if (!run.ti.metadata.finalizers?.includes(FINALIZER)) return done();
  const r = await stopInstance(run, 'Deleted');
  if (!r.stopped) return r.result;
  await run.ctx.store.updateWith(KIND, run.key.namespace, run.key.name, (cur) => ({
    ...cur,
    metadata: {
      ...cur.metadata,
      finalizers: (cur.metadata.finalizers ?? []).filter((f) => f !== FINALIZER),
    },
  }));
  return done();
}

// ---- helpers ----

/** The task as ECS reports it (the poller's fresh observation when there is one); undefined when ECS says MISSING. */
async function observe(run: Run, arn: string, maxAgeMs = 2_000): Promise<Task | undefined> {
  const seen = run.deps.observations.fresh(arn, Date.now(), maxAgeMs);
  if (seen) return seen.task;
  const { tasks } = await run.ctx.driver.describeTasks([arn]);
  const task = tasks.find((t) => t.taskArn === arn);
  run.deps.observations.record(arn, task);
  return task;
}

/** A task of this installation tagged with the instance's uid that is not stopping (the adoption search). */
async function findLiveTaskOf(ctx: ReconcileContext, uid: string): Promise<Task | undefined> {
  const arns = await ctx.driver.listTasks({ startedBy: ctx.driver.startedBy });
  if (arns.length === 0) return undefined;
  const { tasks } = await ctx.driver.describeTasks(arns);
  return tasks
    .filter((t) => tagValue(t, TAG.instanceUid) === uid && !isStopping(t))
    .sort(
      (a, b) => Number(tagValue(b, TAG.attempt) ?? 0) - Number(tagValue(a, TAG.attempt) ?? 0),
    )[0];
}

async function getToolDefinition(
  ctx: ReconcileContext,
  name: string,
): Promise<ToolDefinition | undefined> {
  try {
    return (await ctx.store.get('ToolDefinition', undefined, name)) as ToolDefinition;
  } catch (err) {
    if (isApiError(err, 'NotFound')) return undefined;
    throw err;
  }
}

/** The ToolDefinition's registered task definition when it is current; otherwise register it now. */
async function taskDefinitionArn(run: Run, td: ToolDefinition): Promise<string> {
  const s = td.status;
  const registered = s?.conditions.find((c) => c.type === 'Registered');
  if (
    s?.taskDefinitionArn &&
    s.observedGeneration === td.metadata.generation &&
    registered?.status === 'True'
  ) {
    return s.taskDefinitionArn;
  }
  const { arn } = await ensureTaskDefinition(run.ctx.driver, td, run.deps.config);
  // The ToolDefinition reconciler records it (it is the one writer of that status).
  await run.ctx.enqueue({ kind: 'ToolDefinition', name: td.metadata.name });
  return arn;
}

/** What the tool is told about itself. No secrets: these end up in the task definition override. */
function toolEnvironment(run: Run, td: ToolDefinition, size: string) {
  const ns = run.ti.metadata.namespace ?? '';
  const publicUrl = run.deps.config.publicUrl({
    tool: td.metadata.name,
    namespace: ns,
    name: run.ti.metadata.name,
    shared: td.spec.sharing === 'shared',
  });
  return [
    { name: 'BERTH_PUBLIC_URL', value: publicUrl },
    { name: 'BERTH_USER', value: ns },
    { name: 'BERTH_NAMESPACE', value: ns },
    { name: 'BERTH_INSTANCE', value: run.ti.metadata.name },
    { name: 'BERTH_TOOL', value: td.metadata.name },
    { name: 'BERTH_SIZE', value: size },
  ];
}

function stopReasonOf(ti: ToolInstance): string {
  return ti.metadata.annotations?.[STOP_REASON_ANNOTATION]?.slice(0, 1024) || 'UserRequested';
}

/** Updates the progress message while starting, only when it changed (a write per change, not per poll). */
async function progress(run: Run, message: string): Promise<void> {
  if (run.ti.status?.message === message) return;
  await writeStatus(run, {
    message,
    conditions: withReady(run.ti, 'False', 'TaskStarting', message, run.ctx.now()),
  });
}

async function writeStatus(
  run: Run,
  patch: Record<string, unknown>,
  opts: WriteOptions = {},
): Promise<void> {
  const next: BerthObject = await run.ctx.store.patchStatus(
    KIND,
    run.key.namespace,
    run.key.name,
    { status: { ...patch, observedGeneration: run.ti.metadata.generation } },
    opts,
  );
  run.ti = next as ToolInstance;
}

/**
 * An Event on the launch path (it names a task or a time, so it is new): written
 * in the background so the reconcile and other writes do not wait for it.
 */
function eventLater(run: Run, type: 'Normal' | 'Warning', reason: string, message: string): void {
  const input = eventInput(run, type, reason, message);
  if (run.ctx.recordEventLater) run.ctx.recordEventLater(input);
  else void run.ctx.recordEvent(input).catch(() => {});
}

async function event(
  run: Run,
  type: 'Normal' | 'Warning',
  reason: string,
  message: string,
): Promise<void> {
  await run.ctx.recordEvent(eventInput(run, type, reason, message));
}

/** An Event about this instance. */
function eventInput(run: Run, type: 'Normal' | 'Warning', reason: string, message: string) {
  return {
    involvedObject: {
      kind: KIND,
      name: run.ti.metadata.name,
      namespace: run.ti.metadata.namespace,
      uid: run.ti.metadata.uid,
    },
    type,
    reason,
    message,
  };
}
