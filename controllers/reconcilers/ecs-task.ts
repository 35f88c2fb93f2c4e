// What berth writes on ECS tasks and how it reads them back: the finalizer that
// holds an instance until its task is gone, the tags on every task, and small
// pure readers of an ECS `Task` that the ToolInstance reconciler, the poller and
// the GC share.
import type { Task } from '@aws-sdk/client-ecs';

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
