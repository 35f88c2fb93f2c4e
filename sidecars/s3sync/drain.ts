// SIGTERM: stop watching and polling, queue what the watcher saw and what one scan
// finds different from the state, send it (retries without their backoff) within
// the drain timeout, then say what could not be sent.
import type { Syncer } from './sync.ts';
import type { SyncState } from './sync-state.ts';
import type { Watching } from './watcher.ts';

export interface DrainResult {
  /** Local changes not in S3 (paths). */
  left: string[];
  ms: number;
}

export async function drain(
  syncer: Syncer,
  state: SyncState,
  stopPolling: () => void,
  watching: Watching | undefined,
  timeoutMs: number,
): Promise<DrainResult> {
  const started = Date.now();
  stopPolling();
  await watching?.stop().catch(() => {});
  await syncer.flushDebounced();
  await syncer.queueLocalDifferences().catch(() => {});
  syncer.queue.hurry();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    syncer.queue.idle(),
    new Promise((r) => {
      timer = setTimeout(r, timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  syncer.queue.stop();
  const left = [
    ...[...syncer.queue.pending.values()].filter((j) => j.local).map((j) => j.rel),
    ...syncer.queue.inFlight.keys(),
  ];
  await state.flush();
  return { left: [...new Set(left)].sort(), ms: Date.now() - started };
}
