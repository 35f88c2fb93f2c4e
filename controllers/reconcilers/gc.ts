// The garbage collector: every `gcIntervalMs` it lists this installation's
// tasks (startedBy, every page) and compares them with the ToolInstances.
//   - A task whose instance is gone, or whose instance expects another task or
//     none (Stopped, Failed), is stopped, with an Event.
//   - An instance in Starting or Ready whose task is not in the list is
//     enqueued; its reconcile describes the task and, if ECS no longer knows
//     it, marks the instance Stopped with reason TaskMissing (and an Event).
//   - A usage row (store/usage.ts) whose task no instance holds is closed once
//     ECS says the task stopped (usage.ts `closeUnheldUsage`).
// Tasks younger than `gcGraceMs` are left alone: a launch writes its task ARN
// a moment after RunTask answers, and a crashed launch is adopted by the
// reconciler, not killed here. The GC writes no status (the reconciler is the
// one writer); it only calls StopTask, enqueues, and closes usage rows.
import type { Task } from '@aws-sdk/client-ecs';
import type { ToolInstance } from '../../crds/index.ts';
import type { Runnable } from '../reconcile.ts';
import { sleepUnlessAborted } from '../sleep.ts';
import type { ReconcilerConfig } from './config.ts';
import { TAG, tagValue, taskId } from './ecs-task.ts';
import { closeUnheldUsage, readOpenUsage } from './usage.ts';

type RunnableContext = Parameters<Runnable['start']>[0];

export interface GcDeps {
  config: Pick<ReconcilerConfig, 'gcIntervalMs' | 'gcGraceMs'>;
}

export interface GcPassResult {
  listed: number;
  stopped: string[];
  enqueued: number;
  /** Usage rows closed because no instance holds their task any more. */
  usageClosed: number;
}

export function createGarbageCollector(deps: GcDeps): Runnable & {
  /** One pass now (tests, and the loop). */
  runOnce(ctx: RunnableContext): Promise<GcPassResult>;
} {
  const runOnce = (ctx: RunnableContext) => collect(ctx, deps);
  return {
    name: 'task-gc',
    runOnce,
    start: async (ctx) => {
      while (!ctx.signal.aborted) {
        await sleepUnlessAborted(deps.config.gcIntervalMs, ctx.signal);
        if (ctx.signal.aborted) return;
        try {
          const r = await runOnce(ctx);
          if (r.stopped.length > 0 || r.enqueued > 0 || r.usageClosed > 0) {
            ctx.log.info({ ...r, stopped: r.stopped.length }, 'task gc pass');
          }
        } catch (err) {
          ctx.log.warn({ err: (err as Error).message }, 'task gc pass failed; next pass retries');
        }
      }
    },
  };
}

async function collect(ctx: RunnableContext, deps: GcDeps): Promise<GcPassResult> {
  // Tasks first, then instances: an instance launched after the listing shows up
  // as "task not listed" and is merely enqueued (harmless), never the reverse.
  const arns = await ctx.driver.listTasks({ startedBy: ctx.driver.startedBy });
  const openUsage = await readOpenUsage(ctx);
  const instances = (await ctx.store.list('ToolInstance')).items as ToolInstance[];
  const byUid = new Map(instances.map((ti) => [ti.metadata.uid!, ti]));
  const expected = new Map<string, ToolInstance>();
  for (const ti of instances) {
    const phase = ti.status?.phase;
    if (ti.status?.taskArn && (phase === 'Starting' || phase === 'Ready' || phase === 'Stopping')) {
      expected.set(ti.status.taskArn, ti);
    }
  }
  const listed = new Set(arns);
  const stopped: string[] = [];
  const now = ctx.now().getTime();

  const unexpected = arns.filter((a) => !expected.has(a));
  if (unexpected.length > 0) {
    const { tasks } = await ctx.driver.describeTasks(unexpected);
    for (const task of tasks) {
      if (task.desiredStatus === 'STOPPED') continue;
      const created = task.createdAt ? new Date(task.createdAt).getTime() : now;
      if (now - created < deps.config.gcGraceMs) continue;
      const uid = tagValue(task, TAG.instanceUid);
      const ti = uid ? byUid.get(uid) : undefined;
      if (ti && isLaunchInFlight(ti, task)) continue;
      const why = !ti
        ? 'its ToolInstance no longer exists'
        : `ToolInstance ${ti.metadata.namespace}/${ti.metadata.name} expects ${ti.status?.taskArn ? `task ${taskId(ti.status.taskArn)}` : 'no task'}`;
      await ctx.driver.stopTask(task.taskArn!, `berth gc: ${why}`.slice(0, 255));
      stopped.push(task.taskArn!);
      await ctx.recordEvent({
        involvedObject: ti
          ? {
              kind: 'ToolInstance',
              name: ti.metadata.name,
              namespace: ti.metadata.namespace,
              uid: ti.metadata.uid,
            }
          : {
              kind: 'ToolInstance',
              name: tagValue(task, TAG.name) ?? 'unknown',
              namespace: tagValue(task, TAG.namespace) || 'default',
              ...(uid ? { uid } : {}),
            },
        type: 'Warning',
        reason: 'OrphanTaskStopped',
        message: `Stopped task ${taskId(task.taskArn!)}: ${why}`,
      });
    }
  }

  let enqueued = 0;
  for (const [arn, ti] of expected) {
    const phase = ti.status?.phase;
    if ((phase === 'Starting' || phase === 'Ready') && !listed.has(arn)) {
      await ctx.enqueue(
        { kind: 'ToolInstance', namespace: ti.metadata.namespace, name: ti.metadata.name },
        { priority: 'system' },
      );
      enqueued++;
    }
  }
  const usageClosed = await closeUnheldUsage(ctx, openUsage, expected);
  return { listed: arns.length, stopped, enqueued, usageClosed };
}

/** The instance wrote attempt N but not yet its task, and this is attempt N's task: the reconciler adopts it. */
function isLaunchInFlight(ti: ToolInstance, task: Task): boolean {
  const s = ti.status;
  return (
    s?.phase === 'Starting' &&
    !s.taskArn &&
    ti.spec.state === 'Running' &&
    String(s.attempt) === tagValue(task, TAG.attempt)
  );
}
