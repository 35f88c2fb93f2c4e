// The ToolInstance reconciler: makes ECS run exactly one task for an instance
// whose spec.state is Running, and none for one that is Stopped or deleted.
// It is the only writer of ToolInstance status (the poller and the GC only
// enqueue). This file decides which step applies; the steps are in
// instance-launch.ts, instance-readiness.ts and instance-stop.ts, and every
// status change goes through instance-transition.ts.
//
// When does an instance whose spec says Running get a new attempt?
//   - it has none yet (Pending), or its last one was stopped while it ran again;
//   - its task was lost (TaskMissing, a Spot interruption, stopped outside berth):
//     level-triggered, the spec still says Running, so it runs again;
//   - it is Stopped or Failed for another reason (the tool exited, a spawn
//     timeout, an image that cannot be pulled) and a person asked again since
//     (a visit, Launch, `berth launch`: a write that bumps the generation, such
//     as spec.launchRequestedAt). Without that, a failure stays Failed rather
//     than looping.
import { isApiError, parseDuration, type ToolInstance } from '../../crds/index.ts';
import { describeError } from '../error-report.ts';
import { done, type ReconcileResult, type Reconciler } from '../reconcile.ts';
import { auditedStop } from './audit.ts';
import { FINALIZER } from './ecs-task.ts';
import { launch } from './instance-launch.ts';
import { watchReady, watchStart } from './instance-readiness.ts';
import {
  getToolDefinition,
  KIND,
  type Run,
  stopReasonOf,
  type ToolInstanceDeps,
} from './instance-run.ts';
import { finalize, stopInstance } from './instance-stop.ts';
import { transition } from './instance-transition.ts';

export type { ReconcilerHooks, ToolInstanceDeps } from './instance-run.ts';

/** Stop reasons that mean the task was lost rather than ended: relaunched while the spec says Running. */
const LOST = new Set(['TaskMissing', 'SpotInterruption', 'TaskStopped']);

export function createToolInstanceReconciler(deps: ToolInstanceDeps): Reconciler {
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
      await transition(run, { phase: 'Pending', reason: 'Pending', message: 'Waiting to launch' });
    }

    if (run.ti.spec.state === 'Stopped') {
      const r = await stopInstance(run, stopReasonOf(run.ti));
      return r.stopped ? done() : r.result;
    }
    try {
      return await keepRunning(run);
    } catch (err) {
      if (isApiError(err, 'Conflict') || !(await pastSpawnDeadline(run))) throw err;
      // It keeps failing and its time is up: say so on the object rather than try forever.
      const why = describeError(err);
      await transition(run, {
        phase: 'Failed',
        reason: why.reason,
        stopReason: true,
        message: `Could not launch within the tool's spawn timeout: ${why.message}`,
        fields: { endpoint: null },
        event: { type: 'Warning' },
        opts: auditedStop(run, why.reason),
      });
      return done();
    }
  };
}

/** spec.state is Running: the step that brings the instance closer to Ready. */
async function keepRunning(run: Run): Promise<ReconcileResult> {
  const status = run.ti.status ?? { conditions: [] };
  switch (status.phase) {
    case 'Starting':
      return status.taskArn ? settle(run, await watchStart(run)) : launch(run);
    case 'Ready':
      return status.taskArn ? settle(run, await watchReady(run)) : launch(run);
    case 'Stopping': {
      // Asked to run again while stopping: let the old task go first, then launch.
      const r = await stopInstance(run, status.stopReason ?? 'UserRequested');
      return r.stopped ? launch(run) : r.result;
    }
    case 'Stopped':
    case 'Failed':
      return wantsNewAttempt(run.ti) ? launch(run) : done();
    default:
      return launch(run);
  }
}

/** After a step that may have ended the attempt: launch again at once if the instance wants it. */
async function settle(run: Run, result: ReconcileResult): Promise<ReconcileResult> {
  return result.type === 'done' && wantsNewAttempt(run.ti) ? launch(run) : result;
}

/** Stopped or Failed, spec Running, and either the task was lost or a person asked again since. */
function wantsNewAttempt(ti: ToolInstance): boolean {
  const status = ti.status;
  if (ti.spec.state !== 'Running' || (status?.phase !== 'Stopped' && status?.phase !== 'Failed'))
    return false;
  if ((status.observedGeneration ?? 0) < (ti.metadata.generation ?? 0)) return true;
  return status.phase === 'Stopped' && LOST.has(status.stopReason ?? '');
}

/** A launch that started more than the tool's spawnTimeout ago and is still not Ready. */
async function pastSpawnDeadline(run: Run): Promise<boolean> {
  const status = run.ti.status;
  if (!status?.startedAt || (status.phase !== 'Starting' && status.phase !== 'Pending'))
    return false;
  const td = await getToolDefinition(run.ctx, run.ti.spec.toolRef).catch(() => undefined);
  const spawnMs = parseDuration(td?.spec.spawnTimeout ?? '10m');
  return run.ctx.now().getTime() >= Date.parse(status.startedAt) + spawnMs;
}
