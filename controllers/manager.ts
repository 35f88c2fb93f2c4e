// The manager: runs the reconcilers (one fetch loop per kind) and the runnables
// (poller, garbage collector) for the life of the process, against the shared
// pg-boss queue, so any number of replicas can run side by side. close() stops
// taking jobs, lets in-flight reconciles finish within the shutdown deadline, then
// aborts what is left and returns.
import type pg from 'pg';
import { Registry } from 'prom-client';
import { type Pool, ResourceStore } from '../store/index.ts';
import { type ControllerConfig, loadControllerConfig } from './config.ts';
import type { EcsDriver } from './ecs/index.ts';
import { EventRecorder } from './event-recorder.ts';
import { KindLoop } from './kind-loop.ts';
import { type ControllerMetrics, controllerMetrics } from './metrics.ts';
import {
  ReconcileQueue,
  reconcileOnWrite,
  startWakeListener,
  type WakeListener,
} from './queue/index.ts';
import type { ControllerLogger, ReconcileContext, Reconciler, Runnable } from './reconcile.ts';
import { resyncOnce, startResync } from './resync.ts';
import { runJob } from './run-job.ts';

export interface StartControllersOptions {
  pool: Pool;
  /** The store the reconcilers use; by default one over `pool` whose writes enqueue reconciles. */
  store?: ResourceStore;
  driver: EcsDriver;
  /** By kind, e.g. `{ ToolDefinition: reconcileToolDefinition, ToolInstance: reconcileToolInstance }`. */
  reconcilers: Record<string, Reconciler>;
  runnables?: Runnable[];
  /** Overrides over the environment's BERTH_CONTROLLER_* settings. */
  config?: Partial<ControllerConfig>;
  registry?: Registry;
  log?: ControllerLogger;
  /** The LISTEN connection's settings; default the pool's. */
  listenerConfig?: pg.ClientConfig;
}

export interface RunningControllers {
  queue: ReconcileQueue;
  store: ResourceStore;
  metrics: ControllerMetrics;
  registry: Registry;
  config: ControllerConfig;
  /** True until close() starts (for /readyz). */
  readonly running: boolean;
  /** Reconciles running in this process right now. */
  inflight(): number;
  /** Enqueues every object of every reconciled kind at low priority now. */
  resync(): Promise<number>;
  close(): Promise<void>;
}

function serves(store: ResourceStore, kind: string): boolean {
  try {
    store.kindInfo(kind);
    return true;
  } catch {
    return false;
  }
}

const silent: ControllerLogger = { info() {}, warn() {}, error() {}, debug() {} };

export async function startControllers(o: StartControllersOptions): Promise<RunningControllers> {
  const config = { ...loadControllerConfig(), ...o.config };
  const log = o.log ?? silent;
  const registry = o.registry ?? new Registry();
  const metrics = controllerMetrics(registry);
  const kinds = Object.keys(o.reconcilers);
  const queue = await ReconcileQueue.start({
    pool: o.pool,
    kinds,
    schema: config.queueSchema,
    role: 'worker',
    heartbeatSeconds: config.heartbeatSeconds,
    superviseSeconds: config.superviseSeconds,
    // Past the reconcile timeout a stuck reconcile is given up on; the margin keeps a
    // slow but live one from being handed to a second worker.
    expireSeconds: Math.ceil((config.reconcileTimeoutMs * 2) / 1000) + 30,
    onError: (err) => log.warn({ err }, 'pg-boss reported an error'),
  });
  const ownStore = !o.store;
  const store =
    o.store ??
    new ResourceStore(o.pool, {
      onWrite: reconcileOnWrite(queue),
      onBackgroundError: (err, what) => log.warn({ err, what }, 'store background work failed'),
    });

  const loops = new Map<string, KindLoop>();
  const shutdown = new AbortController();
  const events = new EventRecorder({ store, log });
  const base: Omit<ReconcileContext, 'signal'> = {
    store,
    driver: o.driver,
    log,
    metrics,
    async enqueue(key, opts = {}) {
      const delayMs = opts.delayMs ?? 0;
      const loop = loops.get(key.kind);
      await queue.enqueue(key, {
        priority: opts.priority ?? 'system',
        delayMs,
        // This process wakes its own loop; a NOTIFY would only wake the others too.
        localWake: loop !== undefined,
        // In-process requests (the poller) mostly find the key's delayed safety requeue.
        likelyQueued: opts.likelyQueued ?? false,
      });
      loop?.wakeAfter(delayMs);
    },
    async recordEvent(input) {
      await store.recordEvent({ ...input, source: { component: 'berth-controller' } });
    },
    recordEventLater: (input) => events.record(input),
    now: () => new Date(),
  };

  for (const kind of kinds) {
    const reconciler = o.reconcilers[kind]!;
    const loop: KindLoop = new KindLoop({
      kind,
      queue,
      concurrency: config.concurrency,
      pollIntervalMs: config.pollIntervalMs,
      heartbeatSeconds: config.heartbeatSeconds,
      log,
      run: (job, slot) =>
        runJob(
          job,
          {
            reconciler,
            context: base,
            queue: {
              enqueue: (key, opts) => queue.enqueue(key, opts),
              complete: (j) => queue.complete(j),
            },
            wakeAfter: (ms) => loop.wakeAfter(ms),
            metrics,
            shutdown: shutdown.signal,
            timeoutMs: config.reconcileTimeoutMs,
            backoff: { baseMs: config.backoffBaseMs, maxMs: config.backoffMaxMs },
            conflictRequeueMs: config.conflictRequeueMs,
          },
          slot,
        ),
    });
    loops.set(kind, loop);
  }

  metrics.sources.queueDepth = () => queue.depth();
  if (serves(store, 'ToolInstance')) {
    metrics.sources.instancesByPhase = async () => {
      const list = await store.list('ToolInstance');
      const counts: Record<string, number> = {};
      for (const i of list.items) {
        const phase = String((i.status as { phase?: unknown } | undefined)?.phase ?? 'Pending');
        counts[phase] = (counts[phase] ?? 0) + 1;
      }
      return counts;
    };
  }

  let listener: WakeListener | undefined;
  try {
    listener = await startWakeListener(
      o.listenerConfig ?? (o.pool.options as pg.ClientConfig),
      (kind) => {
        if (kind) loops.get(kind)?.wake();
        else for (const l of loops.values()) l.wake();
      },
      (err) => log.warn({ err }, 'reconcile LISTEN connection lost; reconnecting'),
    );
  } catch (err) {
    await queue.stop().catch(() => {});
    if (ownStore) await store.close().catch(() => {});
    throw err;
  }
  for (const loop of loops.values()) loop.start();
  const stopResync = startResync({
    store,
    queue,
    kinds,
    intervalMs: config.resyncIntervalMs,
    log,
    wake: (kind) => loops.get(kind)?.wake(),
  });

  const runnableDone = (o.runnables ?? []).map(async (r) => {
    try {
      await r.start({ ...base, log, signal: shutdown.signal });
    } catch (err) {
      if (!shutdown.signal.aborted) log.error({ err, runnable: r.name }, 'runnable failed');
    }
  });

  let running = true;
  let closing: Promise<void> | undefined;
  const close = async () => {
    running = false;
    stopResync();
    await listener?.close();
    let t: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((r) => {
      t = setTimeout(r, config.shutdownDeadlineMs);
    });
    await Promise.all([...loops.values()].map((l) => l.stop(deadline)));
    clearTimeout(t);
    // Past the deadline (or all done): abort what is left, give it a moment to settle.
    shutdown.abort(new Error('the controller is shutting down'));
    await Promise.all([...loops.values()].map((l) => l.drain(2_000)));
    await Promise.race([Promise.all(runnableDone), new Promise((r) => setTimeout(r, 2_000))]);
    await Promise.race([events.flush(), new Promise((r) => setTimeout(r, 2_000))]);
    await queue.stop().catch(() => {});
    if (ownStore) await store.close();
  };

  return {
    queue,
    store,
    metrics,
    registry,
    config,
    get running() {
      return running;
    },
    inflight: () => [...loops.values()].reduce((n, l) => n + l.inflight, 0),
    resync: () => resyncOnce({ store, queue, kinds, log, wake: (k) => loops.get(k)?.wake() }),
    close() {
      closing ??= close();
      return closing;
    },
  };
}
