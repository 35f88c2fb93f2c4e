// Events off the reconcile's path. Every store write takes the database's one
// resourceVersion counter until it commits, so each Event written inside a
// reconcile delays that reconcile and every other write. Events a person reads
// later (TaskLaunched, TaskReady) are handed to this recorder instead: it writes
// them behind the reconciles, at most `concurrency` at a time, and a full
// backlog drops the newest (logged). An Event lost in a crash is acceptable:
// Events are a record for people, never state a controller reads.
//
// Those Events name a task or a time, so they are nearly always new: the recorder
// creates first (one transaction) and only on AlreadyExists takes the store's
// aggregating path (an update of count and lastTimestamp).
import { isApiError } from '../crds/index.ts';
import { EVENT_KIND, newEvent, type RecordEventInput, type ResourceStore } from '../store/index.ts';
import type { ControllerLogger } from './reconcile.ts';

const SOURCE = { component: 'berth-controller' };

export interface EventRecorderOptions {
  store: ResourceStore;
  log: ControllerLogger;
  /** Writes at once; default 2. */
  concurrency?: number;
  /** Events waiting beyond this are dropped; default 10,000. */
  maxBacklog?: number;
}

export class EventRecorder {
  readonly #o: Required<EventRecorderOptions>;
  readonly #backlog: Array<Omit<RecordEventInput, 'source'>> = [];
  #running = 0;
  #dropped = 0;
  #idle: Array<() => void> = [];

  constructor(o: EventRecorderOptions) {
    this.#o = { concurrency: 2, maxBacklog: 10_000, ...o };
  }

  /** Queues an Event; never throws, never waits. */
  record(input: Omit<RecordEventInput, 'source'>): void {
    if (this.#backlog.length >= this.#o.maxBacklog) {
      if (this.#dropped++ % 1000 === 0)
        this.#o.log.warn({ dropped: this.#dropped }, 'event backlog full; dropping Events');
      return;
    }
    // The time it happened, not the time it is written.
    this.#backlog.push({ ...input, now: input.now ?? new Date() });
    this.#pump();
  }

  /** Resolves once every queued Event was written (or failed); for shutdown and tests. */
  flush(): Promise<void> {
    if (this.#running === 0 && this.#backlog.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #pump(): void {
    while (this.#running < this.#o.concurrency && this.#backlog.length > 0) {
      const input = this.#backlog.shift()!;
      this.#running++;
      void this.#write(input)
        .catch((err: unknown) =>
          this.#o.log.warn({ err, reason: input.reason }, 'recording an Event failed'),
        )
        .finally(() => {
          this.#running--;
          this.#pump();
          if (this.#running === 0 && this.#backlog.length === 0)
            for (const r of this.#idle.splice(0)) r();
        });
    }
  }

  async #write(input: Omit<RecordEventInput, 'source'>): Promise<void> {
    const full: RecordEventInput = { ...input, source: SOURCE };
    try {
      // The same object store.recordEvent creates (same name, so aggregation still works).
      await this.#o.store.create(EVENT_KIND, newEvent(full));
    } catch (err) {
      if (!isApiError(err, 'AlreadyExists')) throw err;
      await this.#o.store.recordEvent(full);
    }
  }
}
