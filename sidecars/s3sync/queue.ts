// The work queue: one job per path at a time, a few paths at once, failures
// retried with backoff (never dropped). It tracks what is in flight and when each
// last made progress, which /healthz reads to tell a slow sync from a stuck one.
import type { RemoteObject } from './plan.ts';

export interface Job {
  rel: string;
  /** When the oldest change this job stands for was seen. */
  since: number;
  /** A local change (counts towards lag and the drain report). */
  local: boolean;
  attempts: number;
  /** What a full listing said of the path, and when that listing started; else ask S3. */
  hint?: { remote: RemoteObject | undefined; listedAt: number };
}

export interface InFlight {
  startedAt: number;
  lastProgress: number;
}

const backoffMs = (attempts: number) =>
  Math.min(10_000, 250 * 2 ** Math.min(attempts, 10)) * (0.5 + Math.random() / 2);

export class WorkQueue {
  readonly pending = new Map<string, Job>();
  readonly inFlight = new Map<string, InFlight>();
  private ready: string[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private waiters: (() => void)[] = [];
  private stopped = false;

  private readonly concurrency: number;
  private readonly run: (job: Job) => Promise<void>;
  private readonly onError: (job: Job, err: unknown) => void;

  constructor(
    concurrency: number,
    run: (job: Job) => Promise<void>,
    onError: (job: Job, err: unknown) => void,
  ) {
    this.concurrency = concurrency;
    this.run = run;
    this.onError = onError;
  }

  add(rel: string, opts: { local: boolean; hint?: Job['hint'] }): void {
    const was = this.pending.get(rel);
    if (was) {
      was.local ||= opts.local;
      // A fresh local change makes any listing's word stale: ask S3 again.
      was.hint = opts.local ? undefined : (opts.hint ?? was.hint);
      return;
    }
    this.pending.set(rel, {
      rel,
      since: Date.now(),
      local: opts.local,
      attempts: 0,
      hint: opts.hint,
    });
    this.ready.push(rel);
    this.pump();
  }

  progress(rel: string): void {
    const f = this.inFlight.get(rel);
    if (f) f.lastProgress = Date.now();
  }

  /** The oldest local change not yet synced (ms since epoch), if any. */
  oldestLocal(): number | undefined {
    let oldest: number | undefined;
    for (const j of this.pending.values())
      if (j.local && (oldest === undefined || j.since < oldest)) oldest = j.since;
    return oldest;
  }

  /** Resolves when nothing is pending or in flight. */
  idle(): Promise<void> {
    if (this.pending.size === 0 && this.inFlight.size === 0) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  /** No more work is started (what is in flight finishes). */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** Retries now rather than after their backoff (the drain). */
  hurry(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.ready.push(...[...this.pending.keys()].filter((r) => !this.inFlight.has(r)));
    this.pump();
  }

  private pump(): void {
    while (!this.stopped && this.inFlight.size < this.concurrency && this.ready.length > 0) {
      const rel = this.ready.shift() as string;
      const job = this.pending.get(rel);
      if (!job || this.inFlight.has(rel)) continue; // stale, or re-queued when it ends
      this.pending.delete(rel);
      const now = Date.now();
      this.inFlight.set(rel, { startedAt: now, lastProgress: now });
      void this.run(job).then(
        () => this.finish(rel),
        (err: unknown) => {
          this.onError(job, err);
          const again = this.pending.get(rel);
          // Keep the failed job's age and locality; a newer change merges in.
          this.pending.set(rel, {
            ...job,
            local: job.local || (again?.local ?? false),
            hint: undefined,
            attempts: job.attempts + 1,
          });
          const t = setTimeout(() => {
            this.timers.delete(t);
            this.ready.push(rel);
            this.pump();
          }, backoffMs(job.attempts));
          this.timers.add(t);
          this.finish(rel, true);
        },
      );
    }
    this.settle();
  }

  private finish(rel: string, retrying = false): void {
    this.inFlight.delete(rel);
    if (!retrying && this.pending.has(rel)) this.ready.push(rel);
    this.pump();
  }

  private settle(): void {
    if (this.pending.size > 0 || this.inFlight.size > 0) return;
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r();
  }
}
