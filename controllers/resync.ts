// Periodic resync: every interval (±10% jitter) each object of each reconciled kind
// is enqueued at low priority, so drift that no event reported (a task changed
// behind berth's back, a lost job) is found. Keys already queued keep their job;
// user changes outrank these in the queue. Each replica runs its own timer; the
// stately queue drops the duplicates.
import type { ResourceStore } from '../store/index.ts';
import { jitter, type ReconcileQueue } from './queue/index.ts';
import type { ControllerLogger } from './reconcile.ts';

const PAGE = 500;

export interface ResyncOptions {
  store: ResourceStore;
  queue: Pick<ReconcileQueue, 'enqueueMany'>;
  kinds: string[];
  intervalMs: number;
  log: ControllerLogger;
  /** Local wake-up for the kind's loop. */
  wake(kind: string): void;
}

/** Enqueues every object of `kinds` at resync priority; returns how many jobs were added. */
export async function resyncOnce(o: Omit<ResyncOptions, 'intervalMs'>): Promise<number> {
  let added = 0;
  for (const kind of o.kinds) {
    let cont: string | undefined;
    do {
      const page = await o.store.list(kind, { limit: PAGE, ...(cont ? { continue: cont } : {}) });
      const keys = page.items.map((i) => ({
        kind,
        ...(i.metadata.namespace ? { namespace: i.metadata.namespace } : {}),
        name: i.metadata.name,
      }));
      added += await o.queue.enqueueMany(kind, keys, 'resync');
      cont = page.metadata.continue;
    } while (cont);
    o.wake(kind);
  }
  return added;
}

/** Starts the timer; returns a function that stops it. */
export function startResync(o: ResyncOptions): () => void {
  if (o.intervalMs <= 0) return () => {};
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(async () => {
      try {
        const added = await resyncOnce(o);
        o.log.debug({ added }, 'resync enqueued');
      } catch (err) {
        o.log.warn({ err }, 'resync failed; next one at the next interval');
      }
      schedule();
    }, jitter(o.intervalMs));
  };
  schedule();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
