// What the culler writes for a decision. Every write carries the resourceVersion
// the pass listed, so anything that happened since (a user's Launch or Stop,
// the proxy recording activity, "Keep it running") wins: a conflict skips the
// instance this pass and the next pass decides on what is new.
//   - a stop: one write of spec.state Stopped + the annotation berth/stop-reason,
//     with the audit entry in the same transaction, then the Event;
//   - idleSince and stopWarning: one status write, then the Event.
// tidy() clears what the culler left on an instance that is no longer Ready
// and Running (a warning, idleSince), and the stop-reason annotation once the
// instance is asked to run again (else a later user stop would read "Idle").
import { formatDuration, isApiError, type ToolInstance } from '../../crds/index.ts';
import { recordAudit } from '../../store/index.ts';
import { STOP_REASON_ANNOTATION } from '../reconcilers/ecs-task.ts';
import type { RunnableContext } from './culler.ts';
import type { CullPolicy, Decision, StopReason } from './decide.ts';

export const CULLER_ACTOR = 'system:culler';
const KIND = 'ToolInstance';

export interface Outcome {
  warned?: StopReason;
  cancelled?: boolean;
  stopped?: StopReason;
}

export async function applyDecision(
  ctx: RunnableContext,
  ti: ToolInstance,
  d: Decision,
  policy: CullPolicy,
): Promise<Outcome> {
  try {
    // Launched again after a cull: the old stop reason goes first (the decision waits a pass).
    if (ti.metadata.annotations?.[STOP_REASON_ANNOTATION]) return await tidy(ctx, ti);
    if (d.stop) return await stop(ctx, ti, d.stop, policy);
    const status: Record<string, unknown> = {};
    if (d.idleSince !== undefined) status.idleSince = d.idleSince;
    if (d.warning) status.stopWarning = d.warning.to;
    if (Object.keys(status).length === 0) return {};
    await ctx.store.patchStatus(
      KIND,
      ti.metadata.namespace,
      ti.metadata.name,
      { status },
      { resourceVersion: ti.metadata.resourceVersion },
    );
    if (!d.warning) return {};
    if (d.warning.to) {
      await event(ctx, ti, 'StopScheduled', d.warning.to.message);
      ctx.log.info(
        { instance: keyOf(ti), reason: d.warning.to.reason, stopAt: d.warning.to.stopAt },
        'culler: stop scheduled',
      );
      return { warned: d.warning.to.reason };
    }
    await event(ctx, ti, 'StopCancelled', d.warning.message);
    return { cancelled: true };
  } catch (err) {
    if (isApiError(err, 'Conflict') || isApiError(err, 'NotFound')) return {};
    ctx.log.warn({ instance: keyOf(ti), err: (err as Error).message }, 'culler: write failed');
    return {};
  }
}

async function stop(
  ctx: RunnableContext,
  ti: ToolInstance,
  s: NonNullable<Decision['stop']>,
  policy: CullPolicy,
): Promise<Outcome> {
  const { namespace, name } = ti.metadata;
  const detail =
    s.reason === 'Idle'
      ? {
          reason: s.reason,
          tool: ti.spec.toolRef,
          idleForSeconds: Math.round(s.idleForMs / 1000),
          idleAfter: formatDuration(policy.idleAfterMs),
          cpuThreshold: policy.cpuThreshold,
        }
      : {
          reason: s.reason,
          tool: ti.spec.toolRef,
          lifetimeSeconds: Math.round(s.lifetimeMs / 1000),
          maxLifetime: formatDuration(policy.maxLifetimeMs ?? 0),
        };
  await ctx.store.patch(
    KIND,
    namespace,
    name,
    {
      metadata: {
        resourceVersion: ti.metadata.resourceVersion,
        annotations: { [STOP_REASON_ANNOTATION]: s.reason },
      },
      spec: { state: 'Stopped' },
    },
    {
      inTransaction: async (db) => {
        await recordAudit(
          db,
          {
            actor: CULLER_ACTOR,
            action: 'instance.stopped',
            how: 'culler',
            target: { kind: KIND, ...(namespace ? { namespace } : {}), name },
            detail,
          },
          ctx.log,
        );
      },
    },
  );
  await event(ctx, ti, s.reason, s.message);
  ctx.log.info({ instance: keyOf(ti), ...detail }, 'culler: stopped');
  return { stopped: s.reason };
}

/** An instance the culler does not evaluate (or one launched again): clear what it left there. */
export async function tidy(ctx: RunnableContext, ti: ToolInstance): Promise<Outcome> {
  const { namespace, name } = ti.metadata;
  try {
    const s = ti.status;
    if (s?.stopWarning || s?.idleSince) {
      ti = (await ctx.store.patchStatus(
        KIND,
        namespace,
        name,
        { status: { stopWarning: null, idleSince: null } },
        { resourceVersion: ti.metadata.resourceVersion },
      )) as ToolInstance;
    }
    if (ti.spec.state === 'Running' && ti.metadata.annotations?.[STOP_REASON_ANNOTATION]) {
      await ctx.store.patch(KIND, namespace, name, {
        metadata: {
          resourceVersion: ti.metadata.resourceVersion,
          annotations: { [STOP_REASON_ANNOTATION]: null },
        },
      });
    }
  } catch (err) {
    if (!isApiError(err, 'Conflict') && !isApiError(err, 'NotFound'))
      ctx.log.warn({ instance: keyOf(ti), err: (err as Error).message }, 'culler: tidy failed');
  }
  return {};
}

async function event(
  ctx: RunnableContext,
  ti: ToolInstance,
  reason: string,
  message: string,
): Promise<void> {
  await ctx
    .recordEvent({
      involvedObject: {
        kind: KIND,
        name: ti.metadata.name,
        namespace: ti.metadata.namespace,
        uid: ti.metadata.uid,
      },
      type: 'Normal',
      reason,
      message,
    })
    .catch((err: Error) =>
      ctx.log.warn({ instance: keyOf(ti), reason, err: err.message }, 'culler: Event not written'),
    );
}

const keyOf = (ti: ToolInstance) => `${ti.metadata.namespace}/${ti.metadata.name}`;
