// Launch on visit (as Data Workspace does): an authorized GET to a tool that is
// not running sets its ToolInstance to Running, creating it from the
// ToolDefinition (default size) when missing. An instance that is Stopped or
// Failed while its spec says Running (the controller saw its attempt end) gets a
// new attempt: one write of spec.launchRequestedAt, which changes the generation,
// so the level-triggered controller launches again. One whose request is still
// unobserved is left alone, so that parallel requests do not relaunch it again
// and again. Every launch write carries the launch admission (store's
// launchAdmission: the owner's Quotas, the launch rate), so a refused one writes
// nothing and the visitor sees why.
import type { IncomingMessage } from 'node:http';
import {
  API_VERSION,
  ApiError,
  type BerthObject,
  getCondition,
  type ToolInstance,
} from '../crds/index.ts';
import {
  LaunchRefused,
  launchAdmission,
  type ResourceStore,
  type WriteOptions,
} from '../store/index.ts';
import { auditedLaunch } from './audit.ts';
import { accessAllows } from './authorize.ts';
import type { ProxyContext } from './context.ts';
import type { ParsedHost } from './host.ts';
import type { LaunchStatus } from './pages/starting.ts';
import type { Route } from './route-table.ts';

export type LaunchOutcome = 'created' | 'started' | 'relaunched' | 'in-progress';

function asInstance(o: BerthObject): ToolInstance {
  return o as unknown as ToolInstance;
}

/** True when the instance's latest spec has been seen by the controller and it failed. */
function hasFailed(ti: ToolInstance): boolean {
  return ti.status?.phase === 'Failed' && observedLatest(ti);
}

/** Stopped or Failed with the latest spec observed: nothing will happen unless someone asks. */
export function hasEnded(ti: ToolInstance): boolean {
  const phase = ti.status?.phase;
  return (phase === 'Failed' || phase === 'Stopped') && observedLatest(ti);
}

function observedLatest(ti: ToolInstance): boolean {
  const observed = ti.status?.observedGeneration ?? ti.metadata.generation ?? 0;
  return observed >= (ti.metadata.generation ?? 0);
}

export async function launchOnVisit(
  store: ResourceStore,
  namespace: string,
  name: string,
  toolRef: string,
  opts: WriteOptions = {},
): Promise<LaunchOutcome> {
  let current: ToolInstance;
  try {
    current = asInstance(await store.get('ToolInstance', namespace, name));
  } catch (err) {
    if (!(err instanceof ApiError && err.code === 404)) throw err;
    try {
      await store.create(
        'ToolInstance',
        {
          apiVersion: API_VERSION,
          kind: 'ToolInstance',
          metadata: { name, namespace },
          spec: { toolRef, state: 'Running' },
        },
        opts,
      );
      return 'created';
    } catch (createErr) {
      // Someone else created it in the meantime: that is a launch too.
      if (createErr instanceof ApiError && createErr.code === 409) return 'in-progress';
      throw createErr;
    }
  }
  if (current.metadata.deletionTimestamp) return 'in-progress';
  if (current.spec.state !== 'Running') {
    await relaunch(store, namespace, name, opts);
    return 'started';
  }
  if (hasEnded(current)) {
    await relaunch(store, namespace, name, opts);
    return 'relaunched';
  }
  return 'in-progress';
}

/** Launch or "try again": state Running and a new launch request, in one write (a new generation). */
export async function relaunch(
  store: ResourceStore,
  namespace: string,
  name: string,
  opts: WriteOptions = {},
): Promise<void> {
  await store.patch(
    'ToolInstance',
    namespace,
    name,
    { spec: { state: 'Running', launchRequestedAt: new Date().toISOString() } },
    opts,
  );
}

/** What the starting page shows: phase, conditions, the latest events of the instance. */
export async function launchStatus(
  store: ResourceStore,
  namespace: string,
  name: string,
  cached: ToolInstance | undefined,
): Promise<LaunchStatus> {
  let ti = cached;
  try {
    ti = asInstance(await store.get('ToolInstance', namespace, name));
  } catch (err) {
    if (!(err instanceof ApiError && err.code === 404)) throw err;
  }
  const events = (await store.list('Event', { namespace })).items
    .filter((e) => {
      const io = (e as { involvedObject?: { kind?: string; name?: string } }).involvedObject;
      return io?.kind === 'ToolInstance' && io.name === name;
    })
    .map(
      (e) =>
        e as unknown as {
          type?: string;
          reason: string;
          message?: string;
          count?: number;
          lastTimestamp?: string;
        },
    )
    .sort((a, b) => (a.lastTimestamp ?? '').localeCompare(b.lastTimestamp ?? ''))
    .slice(-10)
    .map((e) => ({
      type: e.type ?? 'Normal',
      reason: e.reason,
      message: e.message ?? '',
      count: e.count ?? 1,
      ...(e.lastTimestamp ? { lastTimestamp: e.lastTimestamp } : {}),
    }));
  const ready = getCondition(ti?.status?.conditions, 'Ready');
  const failed = ti ? hasFailed(ti) : false;
  const reason = failed
    ? (ti?.status?.message ?? ready?.message ?? ti?.status?.stopReason ?? ready?.reason)
    : undefined;
  return {
    tool: name,
    namespace,
    phase: ti?.status?.phase ?? 'Pending',
    ready:
      ti !== undefined &&
      ti.spec.state === 'Running' &&
      ready?.status === 'True' &&
      Boolean(ti.status?.endpoint),
    failed,
    ...(reason ? { reason } : {}),
    conditions: ti?.status?.conditions ?? [],
    events,
    ...(ti?.status?.stopWarning ? { stopWarning: ti.status.stopWarning } : {}),
  };
}

/**
 * A visit (or "Try again") by someone who may use the tool: launch or relaunch
 * it as launchOnVisit decides, count it and log it. A launch the owner's Quota or
 * the launch rate refuses is answered with that refusal (403 or 429, naming the
 * quota or the limit), for the page to show.
 */
export async function launchForVisitor(
  ctx: ProxyContext,
  host: Extract<ParsedHost, { kind: 'tool' }>,
  route: Route | undefined,
  def: Parameters<typeof accessAllows>[1] | undefined,
  principal: Parameters<typeof accessAllows>[0],
  retry: boolean,
  req?: IncomingMessage,
): Promise<LaunchRefused | undefined> {
  if (!def || !accessAllows(principal, def)) return undefined;
  const admission = launchAdmission({
    limit: ctx.config.launchRateLimit,
    windowMs: ctx.config.launchRateWindowMs,
  });
  const audited = req
    ? auditedLaunch(ctx, req, principal.name, host.namespace, host.instance, def.metadata.name)
    : undefined;
  // Admission first: a refused launch throws, so no audit entry says it happened.
  const admit: WriteOptions = {
    inTransaction: async (client, change) => {
      await admission(client, change);
      if (audited) await audited.inTransaction(client);
    },
  };
  try {
    if (retry && route && hasEnded(route.instance)) {
      await relaunch(ctx.store, host.namespace, host.instance, admit);
    } else {
      const outcome = await launchOnVisit(
        ctx.store,
        host.namespace,
        host.instance,
        def.metadata.name,
        admit,
      );
      if (outcome === 'in-progress') return undefined;
    }
  } catch (err) {
    if (!(err instanceof LaunchRefused)) throw err;
    ctx.log.info(
      { namespace: host.namespace, instance: host.instance, user: principal.name, why: err.why },
      'launch on visit refused',
    );
    return err;
  }
  ctx.metrics.launches.inc();
  ctx.log.info(
    { namespace: host.namespace, instance: host.instance, user: principal.name },
    'launch on visit',
  );
  return undefined;
}
