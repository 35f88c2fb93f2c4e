// "Keep it running" on a tool host (POST /_berth/keep-running, from the starting
// page's button) and the words the starting page uses about culling: a person
// said they are using the tool, so status.lastActivityAt becomes now and an Idle
// stopWarning goes (the API's keep-running endpoint does the same). A
// MaxLifetime warning cannot be postponed and stays.
import {
  isApiError,
  parseDuration,
  type ToolDefinition,
  type ToolInstance,
} from '../crds/index.ts';
import type { ResourceStore } from '../store/index.ts';

export interface KeptRunning {
  instance: ToolInstance;
  /** Set when a MaxLifetime stop is still coming: when. */
  maxLifetimeStopAt?: string;
  /** An Idle stop was scheduled and is now off. */
  cancelledIdleStop: boolean;
}

/** One conditional status write (retried on a conflict with the culler). */
export async function keepRunning(
  store: ResourceStore,
  namespace: string,
  name: string,
): Promise<KeptRunning> {
  for (let attempt = 0; ; attempt++) {
    const current = (await store.get('ToolInstance', namespace, name)) as unknown as ToolInstance;
    const warning = current.status?.stopWarning;
    const status: Record<string, unknown> = {
      lastActivityAt: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    };
    if (warning?.reason === 'Idle') status.stopWarning = null;
    try {
      const updated = (await store.patchStatus(
        'ToolInstance',
        namespace,
        name,
        { status },
        { resourceVersion: current.metadata.resourceVersion ?? '' },
      )) as unknown as ToolInstance;
      return {
        instance: updated,
        cancelledIdleStop: warning?.reason === 'Idle',
        ...(warning?.reason === 'MaxLifetime' ? { maxLifetimeStopAt: warning.stopAt } : {}),
      };
    } catch (err) {
      if (!isApiError(err, 'Conflict') || attempt >= 5) throw err;
    }
  }
}

/** `30 min`, `8 h`, `1 h 30 min`, `45 s`, `2 d`: a duration as the pages say it. */
export function humanDuration(ms: number): string {
  const parts: string[] = [];
  let rest = Math.max(0, Math.round(ms / 1000));
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3_600],
    ['min', 60],
    ['s', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n} ${unit}`);
    rest -= n * size;
    if (parts.length === 2) break;
  }
  return parts.length ? parts.join(' ') : '0 s';
}

function durationMs(text: string | undefined): number | undefined {
  if (!text) return undefined;
  try {
    return parseDuration(text);
  } catch {
    return undefined;
  }
}

/**
 * Why the culler stopped the instance, for the Launch and starting pages
 * ("stopped because it was idle for 30 min"); undefined when it did not.
 */
export function culledBecause(
  ti: ToolInstance | undefined,
  def: ToolDefinition | undefined,
): string | undefined {
  const s = ti?.status;
  if (!s || ti?.spec.state !== 'Stopped' || (s.phase !== 'Stopped' && s.phase !== 'Stopping'))
    return undefined;
  if (s.stopReason === 'Idle') {
    const idle = durationMs(def?.spec.idle?.idleAfter);
    return idle
      ? `stopped because it was idle for ${humanDuration(idle)}`
      : 'stopped because it was idle';
  }
  if (s.stopReason === 'MaxLifetime') {
    const limit = durationMs(def?.spec.maxLifetime);
    return limit
      ? `stopped because it reached its ${humanDuration(limit)} limit`
      : 'stopped because it reached its time limit';
  }
  return undefined;
}
