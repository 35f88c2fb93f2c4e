// Runs one reconcile job and settles it: done; requeue after N ms; terminal; a
// thrown error backs off (failure count carried in the next job's data); a 409
// Conflict requeues quietly after a short delay. The follow-up job is enqueued
// before the current one is completed, so a crash in between loses nothing.
// A failure is also written on the object (error-report.ts), so a person sees it.
import { isApiError } from '../crds/index.ts';
import { reportFailure, reportRecovery } from './error-report.ts';
import type { ControllerMetrics, ReconcileOutcome } from './metrics.ts';
import { backoffDelayMs, jitter, keyString, type ReconcileJob } from './queue/index.ts';
import {
  type ReconcileContext,
  type ReconcileResult,
  type Reconciler,
  RetryLater,
} from './reconcile.ts';

export interface JobRunnerDeps {
  reconciler: Reconciler;
  /** The context minus the per-reconcile signal. */
  context: Omit<ReconcileContext, 'signal'>;
  queue: {
    enqueue(
      key: ReconcileJob['key'],
      opts: { delayMs: number; failures: number; priority: 'system' },
    ): Promise<void>;
    complete(job: ReconcileJob): Promise<void>;
  };
  /** Local wake-up for a job deferred by `delayMs`. */
  wakeAfter(delayMs: number): void;
  metrics: ControllerMetrics;
  /** Aborted on shutdown past the deadline. */
  shutdown: AbortSignal;
  timeoutMs: number;
  backoff: { baseMs: number; maxMs: number };
  conflictRequeueMs: number;
}

export class ReconcileTimeoutError extends Error {
  override name = 'ReconcileTimeoutError';
}

export async function runJob(
  job: ReconcileJob,
  d: JobRunnerDeps,
  slot?: { whileWaiting<T>(wait: Promise<T>): Promise<T> },
): Promise<void> {
  const { kind } = job.key;
  const key = keyString(job.key);
  const log = d.context.log;
  const started = Date.now();
  if (job.data.enqueuedAt !== undefined)
    d.metrics.queueWait.observe({ kind }, Math.max(0, started - job.data.enqueuedAt) / 1000);
  const timeout = new AbortController();
  const timer = setTimeout(
    () =>
      timeout.abort(
        new ReconcileTimeoutError(`reconcile of ${key} timed out after ${d.timeoutMs} ms`),
      ),
    d.timeoutMs,
  );
  const signal = AbortSignal.any([timeout.signal, d.shutdown]);
  d.metrics.inflight.inc({ kind });
  let outcome: ReconcileOutcome;
  let next: { delayMs: number; failures: number } | undefined;
  let failure: unknown;
  try {
    const r: ReconcileResult = await d.reconciler(
      { ...d.context, signal, ...(slot ? { whileWaiting: slot.whileWaiting } : {}) },
      job.key,
    );
    outcome = r.type;
    if (r.type === 'requeue') next = { delayMs: Math.max(0, r.afterMs), failures: 0 };
    if (r.type === 'terminal')
      log.warn({ key, reason: r.reason }, 'reconcile gave up until the object changes');
  } catch (err) {
    if (isApiError(err, 'Conflict')) {
      // Someone wrote the object meanwhile: read it again soon, no noise.
      outcome = 'conflict';
      next = { delayMs: jitter(d.conflictRequeueMs), failures: job.data.failures };
      log.debug({ key }, 'conflict; requeued');
    } else {
      outcome = timeout.signal.aborted ? 'timeout' : 'error';
      failure = err;
      // A RetryLater (no capacity) backs off from its own base; the count is the queue's either way.
      const baseMs =
        err instanceof RetryLater ? Math.max(d.backoff.baseMs, err.minBackoffMs) : d.backoff.baseMs;
      const delayMs = backoffDelayMs(job.data.failures, { ...d.backoff, baseMs });
      next = { delayMs, failures: job.data.failures + 1 };
      const fields = { key, failures: next.failures, retryInMs: delayMs };
      if (err instanceof RetryLater) log.warn({ ...fields, reason: err.reason }, err.message);
      else log.error({ ...fields, err }, `reconcile failed (${outcome})`);
    }
  } finally {
    clearTimeout(timer);
    d.metrics.inflight.dec({ kind });
  }
  d.metrics.reconciles.inc({ kind, result: outcome });
  d.metrics.reconcileDuration.observe({ kind }, (Date.now() - started) / 1000);
  try {
    if (next) {
      await d.queue.enqueue(job.key, { ...next, priority: 'system' });
      d.wakeAfter(next.delayMs);
    }
    await d.queue.complete(job);
  } catch (err) {
    // The job stays active; when its heartbeat stops, pg-boss hands it out again.
    log.error({ key, err }, 'settling a reconcile job failed');
  }
  // After settling, so the next attempt's timing does not wait for these writes.
  try {
    if (failure !== undefined && next) {
      await reportFailure(d.context, job.key, failure, next.failures);
    } else if (job.data.failures > 0 && outcome !== 'conflict') {
      await reportRecovery(d.context, job.key);
    }
  } catch (err) {
    log.warn({ key, err: (err as Error).message }, 'could not write the outcome on the object');
  }
}
