// The rules of a launch, as pure functions shared by the API's admission, the
// proxy's launch on visit and the controllers' check at launch: which write asks
// for a launch, which instances count as running for a quota, and who may use a
// ToolDefinition.
import type { ToolDefinition } from './tooldefinition.ts';
import type { ToolInstance } from './toolinstance.ts';

/** The namespace of shared apps: admins' instances, never counted against a user. */
export const SHARED_NAMESPACE = 'shared';

/**
 * Whether a write of a ToolInstance (`prev` before it, null for a create) asks for
 * a launch: it wants the instance to run and it is new, was Stopped, asks again
 * (`launchRequestedAt`), or changes the tool or the size. A write that leaves
 * these alone (labels, a stop) never does, so it is never refused for a quota.
 */
export function asksForLaunch(prev: ToolInstance | null, next: ToolInstance): boolean {
  if (next.metadata.deletionTimestamp || next.spec.state !== 'Running') return false;
  if (!prev) return true;
  return (
    prev.spec.state !== 'Running' ||
    prev.spec.launchRequestedAt !== next.spec.launchRequestedAt ||
    prev.spec.size !== next.spec.size ||
    prev.spec.toolRef !== next.spec.toolRef
  );
}

/** Stop reasons after which the controllers launch again by themselves (a lost task). */
const LOST_TASK_REASONS = new Set(['TaskMissing', 'SpotInterruption', 'TaskStopped']);

/**
 * Counts as running for admission: it wants to run and has not ended. Ended is
 * Stopped or Failed with its latest spec seen by the controllers and no task to
 * bring back, so a tool that failed does not hold a place until it is stopped.
 */
export function wantsToRun(ti: ToolInstance): boolean {
  if (ti.metadata.deletionTimestamp || ti.spec.state !== 'Running') return false;
  const phase = ti.status?.phase;
  if (phase !== 'Stopped' && phase !== 'Failed') return true;
  const observed = ti.status?.observedGeneration ?? 0;
  if (observed < (ti.metadata.generation ?? 0)) return true;
  return phase === 'Stopped' && LOST_TASK_REASONS.has(ti.status?.stopReason ?? '');
}

/**
 * Counts as running for the controllers: it wants to run and holds a task
 * (Starting or Ready). A subset of `wantsToRun`, so under the same Quotas the
 * controllers never refuse a launch that admission let through, and two launches
 * checked at once (under the user's lock) see each other's Starting.
 */
export function holdsTask(ti: ToolInstance): boolean {
  if (ti.metadata.deletionTimestamp || ti.spec.state !== 'Running') return false;
  return ti.status?.phase === 'Starting' || ti.status?.phase === 'Ready';
}

/** Who is launching, as the users table says now. */
export interface ToolUser {
  name: string;
  groups: readonly string[];
  admin: boolean;
}

/** Whether `user` may use `td`: admins always; else its access rule (absent: everyone). */
export function mayUseTool(user: ToolUser, td: ToolDefinition): boolean {
  if (user.admin) return true;
  const access = td.spec.access;
  if (!access) return true;
  return access.users.includes(user.name) || access.groups.some((g) => user.groups.includes(g));
}
