// Names and small pure helpers the ToolInstance reconciler, the poller and the
// GC share: the finalizer, the task tags, how to read an ECS task, and the
// Ready condition.
import type { Task } from '@aws-sdk/client-ecs';
import { type Condition, setCondition, type ToolInstance } from '../../crds/index.ts';

export const FINALIZER = 'berth/task';

/** Tags on every task (the driver adds `berth:installation`). */
export const TAG = {
  instanceUid: 'berth:instance-uid',
  namespace: 'berth:namespace',
  name: 'berth:name',
  tool: 'berth:tool',
  attempt: 'berth:attempt',
} as const;

/** Annotation a writer (the culler, a user) may set with spec.state Stopped to say why. */
export const STOP_REASON_ANNOTATION = 'berth/stop-reason';

/** A task counts as gone once ECS wants it stopped; it may still be deprovisioning. */
export function isStopping(task: Task): boolean {
  return task.desiredStatus === 'STOPPED' || task.lastStatus === 'STOPPED';
}

export function privateIp(task: Task): string | undefined {
  const eni = task.attachments?.find((a) => a.type === 'ElasticNetworkInterface');
  return eni?.details?.find((d) => d.name === 'privateIPv4Address')?.value || undefined;
}

export function tagValue(task: Task, key: string): string | undefined {
  return task.tags?.find((t) => t.key === key)?.value;
}

export function taskId(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}

export function instanceKeyString(ns: string | undefined, name: string): string {
  return `${ns ?? ''}/${name}`;
}

/** The next `conditions` with Ready set (lastTransitionTime kept when the status did not change). */
export function withReady(
  ti: ToolInstance,
  status: 'True' | 'False' | 'Unknown',
  reason: string,
  message: string,
  now: Date,
): Condition[] {
  return setCondition(
    ti.status?.conditions,
    { type: 'Ready', status, reason, message, observedGeneration: ti.metadata.generation },
    now,
  );
}

/** Seconds with one decimal, for Events a person reads: `3.2s`. */
export function formatSeconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
}
