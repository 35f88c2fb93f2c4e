// One ToolInstance reconcile's working state (`Run`) and the reads every step
// of it shares: the task as ECS reports it, the instance's live task found by
// its tags, the ToolDefinition. The steps themselves live in instance-launch.ts,
// instance-readiness.ts and instance-stop.ts.
import type { Task } from '@aws-sdk/client-ecs';
import { isApiError, type ToolDefinition, type ToolInstance } from '../../crds/index.ts';
import type { ObjectKey } from '../../store/index.ts';
import type { InstanceCredentials } from '../credentials/index.ts';
import type { Files } from '../files/index.ts';
import type { ReconcileContext } from '../reconcile.ts';
import type { ReconcilerConfig } from './config.ts';
import { isStopping, STOP_REASON_ANNOTATION, TAG, tagValue } from './ecs-task.ts';
import type { Observations } from './observations.ts';

export const KIND = 'ToolInstance';

export interface ReconcilerHooks {
  /**
   * Called after RunTask answered with a task and before its ARN is written to
   * status. A test seam: the crash-safety test pauses here and SIGKILLs the process.
   */
  afterRunTask?(key: ObjectKey, taskArn: string): Promise<void>;
  /**
   * Called after the launch's database logins were made and before RunTask. A
   * test seam: the credentials crash test pauses here and SIGKILLs the process.
   */
  afterLaunchCredentials?(key: ObjectKey): Promise<void>;
}

export interface ToolInstanceDeps {
  config: ReconcilerConfig;
  observations: Observations;
  hooks?: ReconcilerHooks;
  /** Database logins for each launch (controllers/credentials); absent: tools get none. */
  credentials?: InstanceCredentials;
  /** Users' files (controllers/files): the file role and files environment; absent: files off. */
  files?: Files;
  /** Observes the seconds from launch to ready (the time-to-ready histogram). */
  onReady?(seconds: number): void;
}

/** One reconcile: its context, the key, and the instance as last read or written. */
export interface Run {
  ctx: ReconcileContext;
  deps: ToolInstanceDeps;
  key: ObjectKey;
  ti: ToolInstance;
}

/** The task as ECS reports it (the poller's fresh observation when there is one); undefined when ECS says MISSING. */
export async function observe(run: Run, arn: string, maxAgeMs = 2_000): Promise<Task | undefined> {
  const seen = run.deps.observations.fresh(arn, Date.now(), maxAgeMs);
  if (seen) return seen.task;
  const { tasks } = await run.ctx.driver.describeTasks([arn]);
  const task = tasks.find((t) => t.taskArn === arn);
  run.deps.observations.record(arn, task);
  return task;
}

/** A task of this installation tagged with the instance's uid that is not stopping (the adoption search). */
export async function findLiveTaskOf(
  ctx: ReconcileContext,
  uid: string,
): Promise<Task | undefined> {
  const arns = await ctx.driver.listTasks({ startedBy: ctx.driver.startedBy });
  if (arns.length === 0) return undefined;
  const { tasks } = await ctx.driver.describeTasks(arns);
  return tasks
    .filter((t) => tagValue(t, TAG.instanceUid) === uid && !isStopping(t))
    .sort(
      (a, b) => Number(tagValue(b, TAG.attempt) ?? 0) - Number(tagValue(a, TAG.attempt) ?? 0),
    )[0];
}

export async function getToolDefinition(
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

/** Why the instance is being stopped: the annotation a culler or a user set, else UserRequested. */
export function stopReasonOf(ti: ToolInstance): string {
  return ti.metadata.annotations?.[STOP_REASON_ANNOTATION]?.slice(0, 1024) || 'UserRequested';
}
