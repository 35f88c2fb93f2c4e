// From launched to ready, and watching a ready instance: reads the task (the
// poller's observation or DescribeTasks), probes the tool's readiness path once
// the task runs, and writes Ready with the endpoint. A task that stopped, or that
// ECS no longer knows, ends the attempt; the dispatcher decides whether to
// launch again (toolinstance.ts).
import type { Task } from '@aws-sdk/client-ecs';
import { parseDuration } from '../../crds/index.ts';
import { deriveToolSecret } from '../../store/index.ts';
import { done, type ReconcileResult, requeueAfter } from '../reconcile.ts';
import { auditedStop } from './audit.ts';
import { isStopping, privateIp, TAG, tagValue, taskId } from './ecs-task.ts';
import { explainStop } from './failure-reason.ts';
import { SAFETY_REQUEUE_MS } from './instance-launch.ts';
import { getToolDefinition, observe, type Run } from './instance-run.ts';
import { formatSeconds, progress, transition } from './instance-transition.ts';
import { probeReadiness } from './readiness-probe.ts';

/** Right after RunTask, DescribeTasks may not know the task yet (ECS is eventually consistent). */
const MISSING_GRACE_MS = 15_000;
/** How old a poller observation may be and still be used (the poller triggers again on any change). */
const STARTING_OBSERVATION_MS = 5_000;

export async function watchStart(run: Run): Promise<ReconcileResult> {
  const { ctx, deps } = run;
  const status = run.ti.status!;
  const arn = status.taskArn!;
  const td = await getToolDefinition(ctx, run.ti.spec.toolRef);
  const now = ctx.now().getTime();
  const startedAt = status.startedAt ? Date.parse(status.startedAt) : now;
  const deadline = startedAt + parseDuration(td?.spec.spawnTimeout ?? '10m');

  const task = await observe(run, arn, STARTING_OBSERVATION_MS);
  if (!task) {
    if (now - startedAt < MISSING_GRACE_MS) return requeueAfter(1000);
    return markGone(run, arn);
  }
  if (isStopping(task) && task.stopCode) return endAttempt(run, task, true);
  const readiness = td?.spec.readiness ?? { path: '/', timeoutSeconds: 5, periodSeconds: 1 };
  if (now >= deadline) {
    await ctx.driver.stopTask(arn, 'berth: SpawnTimeout');
    await transition(run, {
      phase: 'Failed',
      reason: 'SpawnTimeout',
      stopReason: true,
      message: `The tool did not answer its readiness check (GET ${readiness.path} on port ${td?.spec.port}) within ${td?.spec.spawnTimeout ?? '10m'}; its task was stopped`,
      fields: { endpoint: null },
      event: { type: 'Warning' },
      opts: auditedStop(run, 'SpawnTimeout'),
    });
    return done();
  }
  const ip = privateIp(task);
  const wait = Math.max(1, Math.min(deadline - now, SAFETY_REQUEUE_MS));
  if (task.lastStatus !== 'RUNNING' || !ip || !td) {
    await progress(run, `Task is ${task.lastStatus?.toLowerCase() ?? 'starting'}`);
    return requeueAfter(wait);
  }
  // The proxy reaches the tool through the gate, so the endpoint is the gate's port.
  const endpoint = `http://${ip.includes(':') ? `[${ip}]` : ip}:${deps.config.gatePort}`;
  let ready = deps.observations.readyEndpoint(arn, 15_000) === endpoint;
  let detail = '';
  if (!ready) {
    const probe = await probeReadiness(
      ip,
      deps.config.gatePort,
      readiness.path,
      readiness.timeoutSeconds * 1000,
      ctx.signal,
      launchSecret(run, task),
    );
    ready = probe.ok;
    detail = probe.detail;
  }
  if (!ready) {
    await progress(run, `Task is running; waiting for GET ${readiness.path} to answer (${detail})`);
    return requeueAfter(wait);
  }
  const took = ctx.now().getTime() - startedAt;
  await transition(run, {
    phase: 'Ready',
    ready: 'True',
    reason: 'TaskReady',
    message: `Ready in ${formatSeconds(took)}`,
    fields: { endpoint, readyAt: ctx.now().toISOString() },
    event: { type: 'Normal', message: `ready in ${formatSeconds(took)}`, when: 'later' },
  });
  deps.onReady?.(took / 1000);
  ctx.metrics?.timeToReady.observe({ tool: td.metadata.name }, took / 1000);
  return done();
}

/** The tool secret of the task's own attempt (its tag; the status's attempt when untagged). */
export function launchSecret(run: Run, task: Task): string {
  const attempt = Number(tagValue(task, TAG.attempt) ?? run.ti.status?.attempt ?? 1);
  return deriveToolSecret(run.deps.config.toolSecretKey, run.ti.metadata.uid!, attempt);
}

/** A Ready instance: nothing to do unless its task stopped behind berth's back. */
export async function watchReady(run: Run): Promise<ReconcileResult> {
  const arn = run.ti.status!.taskArn!;
  // The poller describes Ready tasks every readyPollIntervalMs and enqueues on a stop, so its observation is good that long.
  const task = await observe(run, arn, run.deps.config.readyPollIntervalMs + 5_000);
  if (!task) return markGone(run, arn);
  if (!isStopping(task)) return done();
  return endAttempt(run, task, false);
}

/** The task stopped (before or after Ready): Stopped or Failed with the reason in plain words, and a Warning Event. */
async function endAttempt(run: Run, task: Task, beforeReady: boolean): Promise<ReconcileResult> {
  const why = explainStop(task, beforeReady);
  await transition(run, {
    phase: why.phase,
    reason: why.reason,
    stopReason: true,
    message: why.message,
    fields: { endpoint: null },
    event: { type: 'Warning' },
  });
  return done();
}

/** The task vanished from ECS (not even STOPPED): the instance is Stopped with reason TaskMissing. */
async function markGone(run: Run, arn: string): Promise<ReconcileResult> {
  await transition(run, {
    phase: 'Stopped',
    reason: 'TaskMissing',
    stopReason: true,
    message: `Task ${taskId(arn)} no longer exists in ECS`,
    fields: { endpoint: null },
    event: { type: 'Warning' },
  });
  run.deps.observations.forget(arn);
  return done();
}
