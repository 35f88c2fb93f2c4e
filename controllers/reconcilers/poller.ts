// The task poller: one loop per controller process that watches every
// ToolInstance in phase Starting, Stopping or Ready and describes their tasks
// in batches (the driver's coalescer: at most 100 per DescribeTasks call).
// Starting and stopping tasks are looked at every `pollIntervalMs` (1 s);
// ready ones every `readyPollIntervalMs` (10 s), aligned to a shared grid so
// they go out in full batches. When nothing is due the loop sleeps until the
// next due time or until the watch reports a change, so 1,000 ready instances
// cost a few DescribeTasks calls every 10 s and almost no CPU.
//
// The poller never writes status. When it sees something the reconciler must
// act on (a task RUNNING whose readiness probe answered, a task stopped or
// missing, a spawn deadline passed) it records the observation in the shared
// `Observations` and enqueues the instance's reconcile, which writes status.
import type { Task } from '@aws-sdk/client-ecs';
import { parseDuration, type ToolInstance } from '../../crds/index.ts';
import { deriveToolSecret } from '../../store/index.ts';
import type { Runnable } from '../reconcile.ts';
import { sleepUnlessAborted } from '../sleep.ts';
import type { ReconcilerConfig } from './config.ts';
import { isStopping, privateIp, TAG, tagValue } from './ecs-task.ts';
import type { Observations } from './observations.ts';
import { probeReadiness } from './readiness-probe.ts';
import { ToolDefinitionCache } from './tool-definition-cache.ts';

type RunnableContext = Parameters<Runnable['start']>[0];

interface Tracked {
  uid: string;
  namespace: string | undefined;
  name: string;
  toolRef: string;
  phase: 'Starting' | 'Stopping' | 'Ready';
  taskArn: string | undefined;
  startedAt: number;
  /** When this instance is next described. */
  due: number;
  lastStatus?: string;
  enqueuedAt: number;
  /** What the last enqueue was for (e.g. `ready`, `stopped`): the same news is not sent twice. */
  enqueuedFor?: string;
}

/**
 * The same news about an instance (its probe answered, its task stopped, ...) is
 * enqueued once, and again only after this long: the first enqueue already made
 * its reconcile runnable, and in a burst, when reconciles lag, repeating it every
 * poll only adds queue writes that slow the reconciles down further. The reconcile
 * looks again by itself (its safety requeue) if it could not act on the news.
 */
const REPEAT_NEWS_MS = 30_000;
/**
 * Different news within this long of an enqueue waits for the next poll (one
 * reconcile is on the way); every poll judges the task afresh, so it goes then.
 */
const ENQUEUE_QUIET_MS = 1000;
const MISSING_GRACE_MS = 15_000;
/** A readiness answer this recent is not probed again (the reconciler trusts one for 15 s). */
const READY_ANSWER_FRESH_MS = 10_000;
/** A launch that wrote its attempt but no task for this long probably crashed: have it reconciled. */
const STALLED_LAUNCH_MS = 10_000;

export interface PollerDeps {
  config: Pick<
    ReconcilerConfig,
    'pollIntervalMs' | 'readyPollIntervalMs' | 'gatePort' | 'toolSecretKey'
  >;
  observations: Observations;
}

export function createTaskPoller(deps: PollerDeps): Runnable {
  return {
    name: 'task-poller',
    start: (ctx) => new TaskPoller(ctx, deps).run(),
  };
}

class TaskPoller {
  readonly #ctx: RunnableContext;
  readonly #deps: PollerDeps;
  readonly #tracked = new Map<string, Tracked>();
  readonly #probing = new Set<string>();
  readonly #tds: ToolDefinitionCache;
  #wake: (() => void) | undefined;

  constructor(ctx: RunnableContext, deps: PollerDeps) {
    this.#ctx = ctx;
    this.#deps = deps;
    this.#tds = new ToolDefinitionCache(ctx.store);
  }

  async run(): Promise<void> {
    const watching = this.#watchLoop();
    await this.#pollLoop();
    await watching;
  }

  // ---- the index of instances to poll, kept by a watch ----

  async #watchLoop(): Promise<void> {
    const { signal } = this.#ctx;
    while (!signal.aborted) {
      try {
        // From "0": a snapshot of every instance, then each change. On a 410 or a
        // broken watch the index is rebuilt from a fresh snapshot.
        const watch = await this.#ctx.store.watch('ToolInstance', { signal });
        this.#tracked.clear();
        for await (const ev of watch) {
          if (ev.type === 'ERROR') break;
          if (ev.type === 'BOOKMARK') continue;
          const ti = ev.object as ToolInstance;
          if (ev.type === 'DELETED') this.#tracked.delete(ti.metadata.uid!);
          else this.#upsert(ti);
        }
      } catch (err) {
        if (signal.aborted) return;
        this.#ctx.log.warn({ err: (err as Error).message }, 'task poller: watch failed; retrying');
      }
      if (!signal.aborted) await sleepUnlessAborted(1000, signal);
    }
  }

  #upsert(ti: ToolInstance): void {
    const uid = ti.metadata.uid!;
    const phase = ti.status?.phase;
    if (phase !== 'Starting' && phase !== 'Stopping' && phase !== 'Ready') {
      this.#tracked.delete(uid);
      return;
    }
    const taskArn = ti.status?.taskArn;
    const prev = this.#tracked.get(uid);
    const startedAt = ti.status?.startedAt ? Date.parse(ti.status.startedAt) : Date.now();
    if (prev && prev.phase === phase && prev.taskArn === taskArn) {
      prev.startedAt = startedAt;
      return;
    }
    this.#tracked.set(uid, {
      uid,
      namespace: ti.metadata.namespace,
      name: ti.metadata.name,
      toolRef: ti.spec.toolRef,
      phase,
      taskArn,
      startedAt,
      // Ready (or Stopping) and new to this poller (it just started, or relisted): what
      // status says is a memory from before, maybe from before a restart of ECS or
      // ecs-local, so look now rather than at the next grid point.
      due: prev || phase === 'Starting' ? this.#nextDue(phase, Date.now()) : Date.now(),
      enqueuedAt: 0,
    });
    this.#wake?.();
  }

  #nextDue(phase: Tracked['phase'], now: number): number {
    if (phase !== 'Ready') return now + this.#deps.config.pollIntervalMs;
    const every = this.#deps.config.readyPollIntervalMs;
    return Math.ceil((now + every) / every) * every;
  }

  // ---- polling ----

  async #pollLoop(): Promise<void> {
    const { signal } = this.#ctx;
    while (!signal.aborted) {
      const now = Date.now();
      const due: Tracked[] = [];
      let next = now + 60_000;
      for (const t of this.#tracked.values()) {
        if (t.due <= now) due.push(t);
        else if (t.due < next) next = t.due;
      }
      if (due.length > 0) {
        try {
          await this.#poll(due, now);
        } catch (err) {
          this.#ctx.log.warn({ err: (err as Error).message }, 'task poller: describe failed');
          for (const t of due) t.due = Date.now() + this.#deps.config.pollIntervalMs;
        }
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.max(1, next - now));
        function done() {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          resolve();
        }
        this.#wake = done;
        signal.addEventListener('abort', done, { once: true });
      });
      this.#wake = undefined;
    }
  }

  async #poll(due: Tracked[], now: number): Promise<void> {
    const withTask = due.filter((t) => t.taskArn);
    for (const t of due) {
      t.due = this.#nextDue(t.phase, now);
      if (!t.taskArn && now - t.startedAt > STALLED_LAUNCH_MS) this.#trigger(t, now, 'stalled');
    }
    if (withTask.length === 0) return;
    const { tasks } = await this.#ctx.driver.describeTasks(withTask.map((t) => t.taskArn!));
    const byArn = new Map(tasks.map((task) => [task.taskArn!, task]));
    for (const t of withTask) {
      const task = byArn.get(t.taskArn!);
      this.#deps.observations.record(t.taskArn!, task, now);
      await this.#judge(t, task, now);
    }
  }

  async #judge(t: Tracked, task: Task | undefined, now: number): Promise<void> {
    switch (t.phase) {
      case 'Stopping':
        if (!task || task.lastStatus === 'STOPPED') this.#trigger(t, now, 'stopped');
        return;
      case 'Ready':
        if (!task || isStopping(task)) this.#trigger(t, now, 'stopped');
        return;
      case 'Starting': {
        if (!task) {
          if (now - t.startedAt > MISSING_GRACE_MS) this.#trigger(t, now, 'missing');
          return;
        }
        if (isStopping(task) && task.stopCode) return this.#trigger(t, now, 'stopped');
        const td = await this.#tds.get(t.toolRef, now);
        if (!td) return;
        if (now >= t.startedAt + parseDuration(td.spec.spawnTimeout))
          return this.#trigger(t, now, 'deadline');
        const ip = privateIp(task);
        if (task.lastStatus === 'RUNNING' && ip) {
          t.due = now + td.spec.readiness.periodSeconds * 1000;
          // Answered moments ago: no need to ask the tool again, only to make sure the
          // news went out (a trigger held back by ENQUEUE_QUIET_MS goes now; a sent one is not repeated).
          if (this.#deps.observations.readyEndpoint(t.taskArn!, READY_ANSWER_FRESH_MS, now))
            this.#trigger(t, now, 'ready');
          else this.#probe(t, task, ip, td.spec.readiness);
        } else if (task.lastStatus !== t.lastStatus) {
          // Progress the user can see on the starting page (PROVISIONING, PENDING, ...).
          if (t.lastStatus !== undefined) this.#trigger(t, now, `status:${task.lastStatus}`);
        }
        t.lastStatus = task.lastStatus;
        return;
      }
    }
  }

  /** Probes in the background so one slow tool does not hold up the batch. */
  #probe(
    t: Tracked,
    task: Task,
    ip: string,
    readiness: { path: string; timeoutSeconds: number },
  ): void {
    if (this.#probing.has(t.uid)) return;
    this.#probing.add(t.uid);
    const arn = t.taskArn!;
    // Through the gate, with the secret of the task's own attempt (its tag).
    const { gatePort: port, toolSecretKey } = this.#deps.config;
    const attempt = Number(tagValue(task, TAG.attempt) ?? 1);
    const secret = deriveToolSecret(toolSecretKey, t.uid, attempt);
    const timeoutMs = readiness.timeoutSeconds * 1000;
    void probeReadiness(ip, port, readiness.path, timeoutMs, this.#ctx.signal, secret)
      .then((r) => {
        if (!r.ok) return;
        const host = ip.includes(':') ? `[${ip}]` : ip;
        this.#deps.observations.recordReady(arn, `http://${host}:${port}`);
        this.#trigger(t, Date.now(), 'ready');
      })
      .finally(() => this.#probing.delete(t.uid));
  }

  #trigger(t: Tracked, now: number, news: string): void {
    const since = now - t.enqueuedAt;
    if (since < ENQUEUE_QUIET_MS || (news === t.enqueuedFor && since < REPEAT_NEWS_MS)) return;
    t.enqueuedAt = now;
    t.enqueuedFor = news;
    this.#ctx
      .enqueue(
        { kind: 'ToolInstance', namespace: t.namespace, name: t.name },
        // A starting or ready instance has its delayed safety requeue queued.
        { priority: 'system', likelyQueued: true },
      )
      .catch((err: unknown) =>
        this.#ctx.log.warn(
          { err: (err as Error).message, name: t.name },
          'task poller: enqueue failed',
        ),
      );
  }
}
