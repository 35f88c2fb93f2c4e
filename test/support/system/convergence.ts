// Does each instance match its spec, judged from outside: the store (through the
// API), ECS (ecs-local's ListTasks/DescribeTasks) and the tool's own endpoint.
//   spec Running: phase Ready, an endpoint that answers, the instance's task is
//     live in ECS, and the endpoint's address is not held by a task process that
//     outlived an earlier ecs-local (that process would answer instead).
//   spec Stopped: phase Stopped and no live task tagged with the instance.
import { request } from 'undici';
import type { ToolInstance } from '../../../crds/index.ts';
import type { LiveTask } from './ecs-view.ts';

export interface Verdict {
  ok: boolean;
  /** Why not, in words (phase, reason, message). */
  why: string;
}

export async function answers(endpoint: string): Promise<boolean> {
  try {
    const r = await request(`${endpoint}/healthz`, { headersTimeout: 2_000, bodyTimeout: 2_000 });
    await r.body.dump();
    return r.statusCode === 200;
  } catch {
    return false;
  }
}

export function describeInstance(ti: ToolInstance): string {
  const s = ti.status;
  const ready = s?.conditions?.find((c) => c.type === 'Ready');
  return [
    `spec ${ti.spec.state}`,
    `phase ${s?.phase ?? '(none)'}`,
    s?.stopReason ? `stopReason ${s.stopReason}` : '',
    s?.message ? `"${s.message}"` : '',
    ready
      ? `Ready=${ready.status}/${ready.reason ?? ''}${ready.message ? ` "${ready.message}"` : ''}`
      : '',
    `generation ${ti.metadata.generation} observed ${s?.observedGeneration ?? '-'}`,
    s?.attempt ? `attempt ${s.attempt}` : '',
  ]
    .filter(Boolean)
    .join(', ');
}

export async function judge(
  ti: ToolInstance,
  tasks: LiveTask[],
  orphanAddresses: Set<string>,
): Promise<Verdict> {
  const uid = ti.metadata.uid!;
  const mine = tasks.filter((t) => t.instanceUid === uid);
  const phase = ti.status?.phase;
  if (ti.metadata.deletionTimestamp) return { ok: false, why: 'being deleted' };
  if (ti.spec.state === 'Stopped') {
    if (phase !== 'Stopped') return { ok: false, why: describeInstance(ti) };
    if (mine.length > 0) return { ok: false, why: `Stopped with ${mine.length} live task(s)` };
    return { ok: true, why: '' };
  }
  const endpoint = ti.status?.endpoint;
  if (phase !== 'Ready' || !endpoint) return { ok: false, why: describeInstance(ti) };
  if (!mine.some((t) => t.taskArn === ti.status?.taskArn)) {
    return { ok: false, why: `Ready but its task ${ti.status?.taskArn} is not live in ECS` };
  }
  const address = endpoint.replace(/^https?:\/\//, '');
  if (orphanAddresses.has(address)) {
    return {
      ok: false,
      why: `Ready, but ${address} is held by a task process of an earlier ecs-local`,
    };
  }
  if (!(await answers(endpoint)))
    return { ok: false, why: `Ready, but ${endpoint} does not answer` };
  return { ok: true, why: '' };
}
