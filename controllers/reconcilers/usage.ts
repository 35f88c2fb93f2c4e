// Usage records (store/usage.ts): the row of a task opens in the same transaction
// as the ToolInstance status write that gives the instance that task, and closes in
// the one that takes it away, so a retried reconcile or a restart can neither lose
// nor double one. An instance "holds" its task while it is Starting, Ready or
// Stopping (billing runs until ECS has stopped it), exactly the tasks the GC expects.
//
// Times are ECS's own when the task is at hand (the poller's or the reconcile's
// last DescribeTasks, kept in Observations): pullStartedAt, else startedAt (Fargate
// bills from the image pull), and stoppedAt; else RunTask's createdAt or the clock,
// which the first exact start refines (at Ready, the task described then).
//
// After an anomaly (an instance whose finalizer was removed by hand, a status
// pointed at another task) the GC closes every open row that no instance holds,
// once its task has stopped: `closeUnheldUsage`, at ECS's stoppedAt when it still
// knows the task, else at the time of the pass.
import type { Task } from '@aws-sdk/client-ecs';
import type { BerthObject, ToolDefinition, ToolInstance } from '../../crds/index.ts';
import {
  type OpenTaskUsage,
  openTaskUsage,
  type PoolClient,
  recordTaskStart,
  recordTaskStop,
  type WriteChange,
  type WriteOptions,
} from '../../store/index.ts';
import type { Runnable } from '../reconcile.ts';
import { getToolDefinition, type Run } from './instance-run.ts';
import { TOOL_CONTAINER } from './task-definition.ts';

type RunnableContext = Parameters<Runnable['start']>[0];

/** How old an observation of the task may be and still give its size and times. */
const TASK_AT_HAND_MS = 60_000;

/** The task an instance holds (it may be running or billed), if any. */
export function heldTask(obj: BerthObject | null): string | undefined {
  const status = (obj as ToolInstance | null)?.status;
  const phase = status?.phase;
  const holds = phase === 'Starting' || phase === 'Ready' || phase === 'Stopping';
  return holds && status?.taskArn ? status.taskArn : undefined;
}

/**
 * `opts` for a ToolInstance status write, with its usage record in the same
 * transaction. The ToolDefinition a row may need for its size is read first,
 * outside the transaction: a read on the pool while the transaction holds one of
 * its clients can wait forever when every client is held that way.
 */
export async function withUsage(
  run: Run,
  patch: { taskArn?: unknown },
  opts: WriteOptions = {},
): Promise<WriteOptions> {
  const arn = typeof patch.taskArn === 'string' ? patch.taskArn : run.ti.status?.taskArn;
  const td =
    arn && !sizeFromTask(taskAtHand(run, arn))
      ? await getToolDefinition(run.ctx, run.ti.spec.toolRef)
      : undefined;
  return {
    ...opts,
    inTransaction: async (db, change) => {
      await opts.inTransaction?.(db, change);
      await recordUsage(run, td, db, change);
    },
  };
}

async function recordUsage(
  run: Run,
  td: ToolDefinition | undefined,
  db: PoolClient,
  change: WriteChange,
): Promise<void> {
  const before = heldTask(change.previous);
  const after = heldTask(change.object);
  if (before && before !== after) {
    const task = taskAtHand(run, before);
    await recordTaskStop(
      db,
      before,
      toDate(task?.stoppedAt ?? task?.executionStoppedAt) ?? run.ctx.now(),
    );
  }
  if (!after) return;
  const becameReady =
    (change.object as ToolInstance).status?.phase === 'Ready' &&
    (change.previous as ToolInstance | null)?.status?.phase !== 'Ready';
  if (after !== before || becameReady)
    await recordStart(run, td, db, change.object as ToolInstance, after, after === before);
}

async function recordStart(
  run: Run,
  td: ToolDefinition | undefined,
  db: PoolClient,
  ti: ToolInstance,
  arn: string,
  refineOnly: boolean,
): Promise<void> {
  const task = taskAtHand(run, arn);
  const exactStart = toDate(task?.pullStartedAt ?? task?.startedAt);
  if (refineOnly && !exactStart) return;
  const size = sizeOf(ti, task, td);
  if (!size) {
    // The ToolDefinition is gone and the task is not at hand: nothing to size the row by.
    run.ctx.log.warn({ task: arn }, 'usage: the task has no known size; not recorded');
    return;
  }
  await recordTaskStart(db, {
    taskArn: arn,
    namespace: ti.metadata.namespace ?? '',
    instanceName: ti.metadata.name,
    instanceUid: ti.metadata.uid!,
    tool: ti.spec.toolRef,
    ...size,
    startedAt: exactStart ?? toDate(task?.createdAt) ?? run.ctx.now(),
    exact: exactStart !== undefined,
  });
}

type UsageSize = { size: string; cpuUnits: number; memoryMib: number };

/** The task's size as ECS reports it (its cpu and memory, overrides included, and the size named in its environment). */
function sizeFromTask(task: Task | undefined): UsageSize | undefined {
  const name = sizeNameOf(task);
  const cpu = Number(task?.cpu);
  const memory = Number(task?.memory);
  return name && cpu > 0 && memory > 0
    ? { size: name, cpuUnits: cpu, memoryMib: memory }
    : undefined;
}

function sizeNameOf(task: Task | undefined): string | undefined {
  return task?.overrides?.containerOverrides
    ?.find((c) => c.name === TOOL_CONTAINER)
    ?.environment?.find((e) => e.name === 'BERTH_SIZE')?.value;
}

/** The task's size: ECS's when it says it all, else filled in from the ToolDefinition read before the write. */
function sizeOf(
  ti: ToolInstance,
  task: Task | undefined,
  td: ToolDefinition | undefined,
): UsageSize | undefined {
  const exact = sizeFromTask(task);
  if (exact) return exact;
  const name = sizeNameOf(task) ?? ti.spec.size ?? td?.spec.defaultSize;
  const size = name ? td?.spec.sizes[name] : undefined;
  if (!name || !size) return undefined;
  const cpu = Number(task?.cpu);
  const memory = Number(task?.memory);
  return {
    size: name,
    cpuUnits: cpu > 0 ? cpu : size.cpu,
    memoryMib: memory > 0 ? memory : size.memory,
  };
}

function taskAtHand(run: Run, arn: string): Task | undefined {
  return run.deps.observations.fresh(arn, Date.now(), TASK_AT_HAND_MS)?.task;
}

function toDate(v: Date | string | number | undefined): Date | undefined {
  if (v === undefined) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/**
 * The open rows, read before the GC lists the instances: a row committed with
 * its instance's status write is then always matched by that status or a later one.
 */
export function readOpenUsage(ctx: RunnableContext): Promise<OpenTaskUsage[]> {
  return openTaskUsage(ctx.store.pool);
}

/**
 * Closes the open rows whose task no instance holds (`held`: task ARN -> instance,
 * from the same pass) once ECS says the task stopped (at its stoppedAt) or no
 * longer knows it (at the pass's time). A task still running is left open: the
 * GC stops it (after its grace) and a later pass closes its row.
 */
export async function closeUnheldUsage(
  ctx: RunnableContext,
  open: OpenTaskUsage[],
  held: ReadonlyMap<string, unknown>,
): Promise<number> {
  const unheld = open.filter((o) => !held.has(o.taskArn)).map((o) => o.taskArn);
  if (unheld.length === 0) return 0;
  const { tasks } = await ctx.driver.describeTasks(unheld);
  const known = new Map(tasks.map((t) => [t.taskArn!, t]));
  let closed = 0;
  for (const arn of unheld) {
    const task = known.get(arn);
    if (task && task.lastStatus !== 'STOPPED') continue;
    const at = toDate(task?.stoppedAt ?? task?.executionStoppedAt) ?? ctx.now();
    if (await recordTaskStop(ctx.store.pool, arn, at)) closed++;
  }
  return closed;
}
