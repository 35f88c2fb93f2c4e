// How a ToolInstance reconcile records what it found: one `transition` writes
// the phase, the message, the Ready condition and any other status fields in
// one status write, then the Event that goes with them. Every step of the
// reconciler goes through it, so phase, Ready and the Event never disagree.
// A transition that ends an attempt (to Stopped or Failed, on any path: berth
// stopped it, the tool exited or crashed, a spawn timeout, a lost task) first
// drops that attempt's database login, so no login outlives its task.
import { type BerthObject, setCondition, type ToolInstance } from '../../crds/index.ts';
import type { WriteOptions } from '../../store/index.ts';
import { KIND, type Run } from './instance-run.ts';
import { withUsage } from './usage.ts';

type Phase = NonNullable<NonNullable<ToolInstance['status']>['phase']>;

export interface Transition {
  /** Absent: the phase stays as it is (progress within a phase). */
  phase?: Phase;
  /** CamelCase; the Ready condition's reason. */
  reason: string;
  message: string;
  /** The Ready condition's status; False unless said. */
  ready?: 'True' | 'False';
  /** Other status fields written in the same write (`null` clears one). */
  fields?: Record<string, unknown>;
  /** Also set status.stopReason to `reason` (a stop or failure). */
  stopReason?: boolean;
  /**
   * The Event that goes with it: `now` is written before the reconcile goes on,
   * `later` in the background (for Events that name a task or a time, so are new).
   */
  event?: { type: 'Normal' | 'Warning'; reason?: string; message?: string; when?: 'now' | 'later' };
  /** A resourceVersion precondition (the launch's first write: two racing reconciles, one wins). */
  opts?: WriteOptions;
}

export async function transition(run: Run, t: Transition): Promise<void> {
  await dropEndingAttemptLogin(run, t.phase);
  const status: Record<string, unknown> = {
    ...t.fields,
    ...(t.phase ? { phase: t.phase } : {}),
    ...(t.stopReason ? { stopReason: t.reason } : {}),
    message: t.message,
    conditions: withReady(run.ti, t.ready ?? 'False', t.reason, t.message, run.ctx.now()),
  };
  await writeStatus(run, status, t.opts);
  if (!t.event) return;
  const input = eventInput(
    run,
    t.event.type,
    t.event.reason ?? t.reason,
    t.event.message ?? t.message,
  );
  if (t.event.when === 'later') {
    if (run.ctx.recordEventLater) run.ctx.recordEventLater(input);
    else void run.ctx.recordEvent(input).catch(() => {});
  } else {
    await run.ctx.recordEvent(input);
  }
}

/**
 * The attempt ends now: its login is disabled (sessions ended) and dropped
 * before the status says so. Never throws (a database out of reach is left to
 * the login GC). From Stopped or Failed there is no attempt left to end.
 */
async function dropEndingAttemptLogin(run: Run, phase: Phase | undefined): Promise<void> {
  const from = run.ti.status?.phase;
  const attempt = run.ti.status?.attempt;
  if (phase !== 'Stopped' && phase !== 'Failed') return;
  if (from === 'Stopped' || from === 'Failed' || attempt === undefined) return;
  await run.deps.credentials?.drop(run.ctx, run.ti, attempt);
}

/** Updates the progress message while starting, only when it changed (a write per change, not per poll). */
export async function progress(run: Run, message: string): Promise<void> {
  if (run.ti.status?.message === message) return;
  await transition(run, { reason: 'TaskStarting', message });
}

/** A status write without a transition (e.g. recording a found task); it opens or closes the task's usage row. */
export async function writeStatus(
  run: Run,
  patch: Record<string, unknown>,
  opts: WriteOptions = {},
): Promise<void> {
  const next: BerthObject = await run.ctx.store.patchStatus(
    KIND,
    run.key.namespace,
    run.key.name,
    { status: { ...patch, observedGeneration: run.ti.metadata.generation } },
    await withUsage(run, patch, opts),
  );
  run.ti = next as ToolInstance;
}

/** The next `conditions` with Ready set (lastTransitionTime kept when the status did not change). */
function withReady(
  ti: ToolInstance,
  status: 'True' | 'False' | 'Unknown',
  reason: string,
  message: string,
  now: Date,
) {
  return setCondition(
    ti.status?.conditions,
    { type: 'Ready', status, reason, message, observedGeneration: ti.metadata.generation },
    now,
  );
}

/** Seconds with one decimal, for Events a person reads: `3.2s`. */
export function formatSeconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
}

function eventInput(run: Run, type: 'Normal' | 'Warning', reason: string, message: string) {
  return {
    involvedObject: {
      kind: KIND,
      name: run.ti.metadata.name,
      namespace: run.ti.metadata.namespace,
      uid: run.ti.metadata.uid,
    },
    type,
    reason,
    message,
  };
}
