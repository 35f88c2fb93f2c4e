// One fetch loop per kind: claims as many jobs as it has free slots, runs each, and
// fetches again when woken (a NOTIFY, a finished job, a local timer for a delayed
// job) or, as a backstop, every poll interval. Idle, it costs one fetch per poll
// interval. A key is never run twice at once: the stately queue will not hand out a
// second active job for it, on any replica.
//
// A running job may park (`slot.park()`) while it only waits, e.g. for an ECS
// rate-limit token: it then does not count against `concurrency`, so other keys
// keep being reconciled; at most `maxParked` jobs are parked at once (beyond that a
// waiting job keeps its slot). Parked jobs stay claimed and heartbeated.

import type { ReconcileJob, ReconcileQueue } from './queue/index.ts';
import type { ControllerLogger } from './reconcile.ts';

export interface KindLoopOptions {
  kind: string;
  queue: Pick<ReconcileQueue, 'fetch' | 'touch'>;
  concurrency: number;
  /** Jobs that may wait parked (not counted against concurrency); default 10 x concurrency. */
  maxParked?: number;
  pollIntervalMs: number;
  heartbeatSeconds: number;
  log: ControllerLogger;
  /** Runs one job to its settlement; never rejects. */
  run(job: ReconcileJob, slot: JobSlot): Promise<void>;
}

/** A running job's hold on a worker slot. */
export interface JobSlot {
  /** Give the slot up while `wait` is pending (if parking room is left), then take it back. */
  whileWaiting<T>(wait: Promise<T>): Promise<T>;
}

export class KindLoop {
  readonly kind: string;
  readonly #o: KindLoopOptions;
  readonly #inflight = new Map<string, { job: ReconcileJob; done: Promise<void> }>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #parked = 0;
  #dirty = true;
  #waiter: (() => void) | undefined;
  #stopping = false;
  #loop: Promise<void> | undefined;
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(o: KindLoopOptions) {
    this.kind = o.kind;
    this.#o = o;
  }

  get inflight(): number {
    return this.#inflight.size;
  }

  /** Jobs that hold a slot (running, not parked). */
  get working(): number {
    return this.#inflight.size - this.#parked;
  }

  get #maxParked(): number {
    return this.#o.maxParked ?? this.#o.concurrency * 10;
  }

  /** Slots free to fetch into: working jobs under concurrency, all jobs under concurrency + maxParked. */
  #free(): number {
    const total = this.#o.concurrency + this.#maxParked - this.#inflight.size;
    return Math.max(0, Math.min(this.#o.concurrency - this.working, total));
  }

  start(): void {
    this.#loop = this.#run();
    const every = Math.max(1000, (this.#o.heartbeatSeconds * 1000) / 3);
    this.#heartbeat = setInterval(() => {
      const jobs = [...this.#inflight.values()].map((e) => e.job);
      this.#o.queue.touch(this.kind, jobs).catch((err: unknown) => {
        this.#o.log.warn({ err, kind: this.kind }, 'heartbeat for running reconciles failed');
      });
    }, every);
  }

  /** Fetch again now (or as soon as the current fetch is over). */
  wake(): void {
    this.#dirty = true;
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }

  /** Fetch again once a job deferred by `delayMs` is due. */
  wakeAfter(delayMs: number): void {
    if (this.#stopping) return;
    if (delayMs <= 0) {
      this.wake();
      return;
    }
    const t = setTimeout(() => {
      this.#timers.delete(t);
      this.wake();
    }, delayMs + 2);
    this.#timers.add(t);
  }

  /** Stops fetching; resolves when every running job settled or `deadline` resolves first. */
  async stop(deadline: Promise<void>): Promise<void> {
    this.#stopping = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.wake();
    await this.#loop;
    await Promise.race([Promise.all([...this.#inflight.values()].map((e) => e.done)), deadline]);
  }

  /** After stop(): waits (at most `ms`) for jobs still running, then stops their heartbeat. */
  async drain(ms: number): Promise<void> {
    let t: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([...this.#inflight.values()].map((e) => e.done)),
      new Promise<void>((r) => {
        t = setTimeout(r, ms);
      }),
    ]);
    clearTimeout(t);
    clearInterval(this.#heartbeat);
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#stopping) {
      const free = this.#free();
      if (free > 0 && this.#dirty) {
        this.#dirty = false;
        let jobs: ReconcileJob[];
        try {
          jobs = await this.#o.queue.fetch(this.kind, free);
          failures = 0;
        } catch (err) {
          // The database is away or two fetches raced for one key: try again soon.
          failures++;
          if (failures === 1 || failures % 50 === 0)
            this.#o.log.warn({ err, kind: this.kind }, 'fetching reconcile jobs failed');
          this.wakeAfter(Math.min(5000, 50 * 2 ** Math.min(failures, 7)));
          jobs = [];
        }
        for (const job of jobs) this.#start(job);
        // A full batch: there may be more.
        if (jobs.length > 0 && jobs.length === free) this.#dirty = true;
        if (this.#stopping) break;
        if (this.#dirty && this.#free() > 0) continue;
      }
      await this.#idle();
    }
  }

  #start(job: ReconcileJob): void {
    const slot: JobSlot = {
      whileWaiting: async (wait) => {
        if (this.#parked >= this.#maxParked) return wait;
        this.#parked++;
        // A slot came free: fetch into it.
        this.wake();
        try {
          return await wait;
        } finally {
          this.#parked--;
        }
      },
    };
    const done = this.#o.run(job, slot).finally(() => {
      this.#inflight.delete(job.id);
      // A free slot, and the key may have a job queued behind the one that ran.
      this.wake();
    });
    this.#inflight.set(job.id, { job, done });
  }

  /** Until woken or the poll interval passes. */
  #idle(): Promise<void> {
    if (this.#stopping) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.#dirty = true;
        this.#waiter = undefined;
        resolve();
      }, this.#o.pollIntervalMs);
      this.#waiter = () => {
        clearTimeout(t);
        resolve();
      };
      // A wake that arrived between the fetch and here.
      if (this.#dirty && this.#free() > 0) this.wake();
    });
  }
}
