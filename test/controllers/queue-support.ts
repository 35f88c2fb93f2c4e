// Shared bits of the queue/manager tests: a recording reconciler, a store whose
// writes enqueue, and a manager started on the test kinds with fast settings.
import type {
  ControllerConfig,
  ControllerLogger,
  EcsDriver,
  Reconciler,
} from '../../controllers/index.ts';
import {
  ReconcileQueue,
  type RunningControllers,
  reconcileOnWrite,
  startControllers,
} from '../../controllers/index.ts';
import type { ObjectKey, ResourceStore } from '../../store/index.ts';
import { testStore } from '../store/test-kinds.ts';
import type { TestDatabase } from '../support/db.ts';

export const noDriver = {} as EcsDriver;

export interface Span {
  key: string;
  start: number;
  end: number;
  manager: string;
}

/** Records every reconcile's start and end per key; `behave` decides each outcome. */
export class Recorder {
  readonly spans: Span[] = [];
  readonly running = new Map<string, number>();
  overlaps = 0;
  behave: (key: ObjectKey, attempt: number, signal: AbortSignal) => ReturnType<Reconciler> =
    async () => ({
      type: 'done',
    });
  readonly attempts = new Map<string, number>();

  reconciler(manager: string): Reconciler {
    return async (ctx, key) => {
      const k = `${key.namespace ?? ''}/${key.name}`;
      const start = performance.now();
      const n = (this.running.get(k) ?? 0) + 1;
      this.running.set(k, n);
      if (n > 1) this.overlaps++;
      const attempt = (this.attempts.get(k) ?? 0) + 1;
      this.attempts.set(k, attempt);
      try {
        return await this.behave(key, attempt, ctx.signal);
      } finally {
        this.running.set(k, (this.running.get(k) ?? 1) - 1);
        this.spans.push({ key: k, start, end: performance.now(), manager });
      }
    };
  }

  count(k: string): number {
    return this.spans.filter((s) => s.key === k).length;
  }
}

export class MemoryLog implements ControllerLogger {
  readonly lines: { level: string; msg: string; obj: Record<string, unknown> }[] = [];
  info(obj: Record<string, unknown>, msg: string) {
    this.lines.push({ level: 'info', msg, obj });
  }
  warn(obj: Record<string, unknown>, msg: string) {
    this.lines.push({ level: 'warn', msg, obj });
  }
  error(obj: Record<string, unknown>, msg: string) {
    this.lines.push({ level: 'error', msg, obj });
  }
  debug(obj: Record<string, unknown>, msg: string) {
    this.lines.push({ level: 'debug', msg, obj });
  }
}

export const FAST: Partial<ControllerConfig> = {
  concurrency: 8,
  resyncIntervalMs: 0,
  shutdownDeadlineMs: 5_000,
  pollIntervalMs: 1_000,
  backoffBaseMs: 5,
  conflictRequeueMs: 5,
  metricsPort: -1,
};

/** A producer-side queue and a store whose writes enqueue Widget reconciles. */
export async function writerStore(
  db: TestDatabase,
): Promise<{ queue: ReconcileQueue; store: ResourceStore }> {
  const queue = await ReconcileQueue.start({ pool: db.pool, kinds: ['Widget'], role: 'producer' });
  const store = testStore(db, { onWrite: reconcileOnWrite(queue) });
  return { queue, store };
}

export function startTestControllers(
  db: TestDatabase,
  recorder: Recorder,
  name: string,
  opts: { config?: Partial<ControllerConfig>; log?: ControllerLogger } = {},
): Promise<RunningControllers> {
  return startControllers({
    pool: db.pool,
    store: testStore(db),
    driver: noDriver,
    reconcilers: { Widget: recorder.reconciler(name) },
    config: { ...FAST, ...opts.config },
    ...(opts.log ? { log: opts.log } : {}),
  });
}

export { waitFor } from '../support/wait.ts';
