// When the sync counts as stuck (and /healthz says 503, so ECS marks the sidecar
// UNHEALTHY instead of it stopping silently): a listing, a marker check or a
// transfer with no progress for S3SYNC_STUCK_AFTER_MS, or no successful listing or
// marker check for that long past their interval.
import type { S3syncConfig } from './config.ts';

export interface SyncProgress {
  pollStartedAt: number | undefined;
  lastPollOk: number | undefined;
  markerStartedAt: number | undefined;
  lastMarkerOk: number | undefined;
  queue: { inFlight: Map<string, { lastProgress: number }> };
}

export function stuckReason(
  p: SyncProgress,
  config: Pick<S3syncConfig, 'stuckAfterMs' | 'pollIntervalMs' | 'markerIntervalMs'>,
  now: number,
): string | undefined {
  const limit = config.stuckAfterMs;
  const secs = (ms: number) => `${Math.round(ms / 1000)} s`;
  if (p.pollStartedAt !== undefined && now - p.pollStartedAt > limit)
    return `listing S3 has not finished in ${secs(now - p.pollStartedAt)}`;
  if (p.markerStartedAt !== undefined && now - p.markerStartedAt > limit)
    return `checking S3's change marker has not finished in ${secs(now - p.markerStartedAt)}`;
  for (const [rel, f] of p.queue.inFlight)
    if (now - f.lastProgress > limit)
      return `sync of ${rel} made no progress for ${secs(now - f.lastProgress)}`;
  if (p.lastPollOk !== undefined && now - p.lastPollOk > limit + config.pollIntervalMs)
    return `no successful listing of S3 for ${secs(now - p.lastPollOk)}`;
  if (p.lastMarkerOk !== undefined && now - p.lastMarkerOk > limit + config.markerIntervalMs)
    return `no successful check of S3's change marker for ${secs(now - p.lastMarkerOk)}`;
  return undefined;
}
