// Stopping and finalizing: StopTask for the instance's task, Stopping until ECS
// reports it stopped, then Stopped; on delete, the finalizer goes once the task
// is gone. A task ECS no longer knows counts as stopped (the driver answers
// StopTask's "task was not found" as done), so neither can hang on a task that
// vanished with ecs-local or was cleaned up in ECS.
//
// Database logins (controllers/credentials): the attempt's login is disabled
// (its sessions terminated) when the task is asked to stop, and dropped by the
// transition to Stopped (instance-transition.ts); a database that cannot be
// reached then is left to the login GC.
import { done, type ReconcileResult, requeueAfter } from '../reconcile.ts';
import { FINALIZER, taskId } from './ecs-task.ts';
import { SAFETY_REQUEUE_MS } from './instance-launch.ts';
import { findLiveTaskOf, KIND, observe, type Run } from './instance-run.ts';
import { transition, writeStatus } from './instance-transition.ts';

export type StopOutcome = { stopped: true } | { stopped: false; result: ReconcileResult };

export async function stopInstance(run: Run, reason: string): Promise<StopOutcome> {
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
    // A launch that stopped between its Starting write and RunTask may have made a
    // login: the transition drops it.
    await transition(run, {
      phase: 'Stopped',
      reason: 'Stopped',
      message: 'Stopped before a task was launched',
      fields: { stopReason: reason, endpoint: null },
    });
    return { stopped: true };
  }
  if (phase !== 'Stopping') {
    await ctx.driver.stopTask(arn, `berth: ${reason}`);
    if (status.attempt !== undefined)
      await run.deps.credentials?.disable(ctx, run.ti, status.attempt);
    const message = `Stopping task ${taskId(arn)} (${reason})`;
    await transition(run, {
      phase: 'Stopping',
      reason: 'Stopping',
      message,
      fields: { stopReason: reason, endpoint: null },
      event: { type: 'Normal', reason: 'TaskStopping' },
    });
    return { stopped: false, result: requeueAfter(SAFETY_REQUEUE_MS) };
  }
  const task = await observe(run, arn);
  if (task && task.lastStatus !== 'STOPPED') {
    // StopTask is idempotent; ask again if ECS does not know we asked (a lost call).
    if (task.desiredStatus !== 'STOPPED') await ctx.driver.stopTask(arn, `berth: ${reason}`);
    return { stopped: false, result: requeueAfter(SAFETY_REQUEUE_MS) };
  }
  await transition(run, {
    phase: 'Stopped',
    reason: 'Stopped',
    message: `Stopped (${status.stopReason ?? reason})`,
    fields: { endpoint: null },
    event: { type: 'Normal', reason: 'TaskStopped', message: `Task ${taskId(arn)} stopped` },
  });
  run.deps.observations.forget(arn);
  return { stopped: true };
}

/** A deleted instance: stop its task, then remove berth's finalizer so the store can delete it. */
export async function finalize(run: Run): Promise<ReconcileResult> {
  if (!run.ti.metadata.finalizers?.includes(FINALIZER)) return done();
  const r = await stopInstance(run, 'Deleted');
  if (!r.stopped) return r.result;
  // An ended attempt's login its transition could not drop (a database out of reach then).
  const attempt = run.ti.status?.attempt;
  if (attempt !== undefined) await run.deps.credentials?.drop(run.ctx, run.ti, attempt);
  await run.ctx.store.updateWith(KIND, run.key.namespace, run.key.name, (cur) => ({
    ...cur,
    metadata: {
      ...cur.metadata,
      finalizers: (cur.metadata.finalizers ?? []).filter((f) => f !== FINALIZER),
    },
  }));
  return done();
}
