// What the culler does with one Ready instance, as a pure function of its
// status, its tool's policy, its CPU samples and the time: no store, no clock.
// The rules (controllers/culling/README.md):
//   - lastUse = the latest of status.lastActivityAt, status.readyAt and the last
//     CPU sample at or over cpuThreshold. CPU before the first sample is not
//     known, so it counts as use (a source that just started knows nothing of
//     the hour before).
//   - CPU is known only when the latest sample is recent (within two steps,
//     plus a little for the source's own lag); without it the instance is never
//     stopped for Idle (Data Workspace's rule) and its idle state is left as is.
//   - A stop is warned of when it is warnBefore away or less, and happens only
//     when a warning of that reason exists and its stopAt has come (stopAt is
//     never earlier than warnedAt + warnBefore). The earlier of Idle and
//     MaxLifetime wins the warning; a standing warning is kept (its stopAt is
//     warnedAt + warnBefore, which nothing due later can beat). Use after an
//     Idle warning cancels it; MaxLifetime cannot be postponed.
//   - idleSince is written only when the idle state changes.
import { formatDuration } from '../../crds/index.ts';
import type { CpuSamples } from './cpu-source.ts';

export type StopReason = 'Idle' | 'MaxLifetime';

export interface StopWarning {
  reason: StopReason;
  stopAt: string;
  warnedAt: string;
  message: string;
}

export interface CullPolicy {
  idleAfterMs: number;
  /** Percent of the task's CPU. */
  cpuThreshold: number;
  warnBeforeMs: number;
  maxLifetimeMs?: number;
}

export interface CullStatus {
  startedAt?: string;
  readyAt?: string;
  lastActivityAt?: string;
  idleSince?: string;
  stopWarning?: StopWarning;
}

export interface DecideInput {
  nowMs: number;
  /** The samples' step (and the culler's pass interval or less). */
  stepMs: number;
  policy: CullPolicy;
  status: CullStatus;
  /** The task's CPU in Fargate units, for messages (1024 = 1 vCPU). */
  cpuUnits: number;
  /**
   * The CPU source's answer for this instance: samples (possibly none) over
   * [sinceMs, nowMs]; undefined when the source failed or there is none.
   */
  cpu: { samples: CpuSamples; sinceMs: number } | undefined;
}

export interface Decision {
  /** Latest use as far as is known (ms). */
  lastUseMs: number;
  cpuKnown: boolean;
  /** A new status.idleSince (null clears it); absent: unchanged. */
  idleSince?: string | null;
  /** A new status.stopWarning (null clears it) and the Event that says so; absent: unchanged. */
  warning?:
    | { to: StopWarning; event: 'StopScheduled' }
    | { to: null; event: 'StopCancelled'; message: string };
  /** Stop now: the store write, the audit entry and the Event. */
  stop?: { reason: StopReason; message: string; idleForMs: number; lifetimeMs: number };
}

/** How much later than two steps the latest sample may be: a source's own lag (CloudWatch stamps a period's start). */
const FRESHNESS_SLACK_MS = 2_000;

const ms = (iso: string | undefined): number | undefined => {
  if (!iso) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
};

const maxOf = (...xs: Array<number | undefined>): number | undefined => {
  let out: number | undefined;
  for (const x of xs) if (x !== undefined && (out === undefined || x > out)) out = x;
  return out;
};

/** What the samples say: the last busy one, and whether they reach up to now. */
export function readCpu(
  cpu: DecideInput['cpu'],
  threshold: number,
  nowMs: number,
  stepMs: number,
): { known: boolean; lastBusyMs?: number; unknownUntilMs?: number } {
  if (!cpu || cpu.samples.length === 0) return { known: false };
  let first: number | undefined;
  let last: number | undefined;
  let lastBusy: number | undefined;
  for (const [t, percent] of cpu.samples) {
    if (t > nowMs) continue;
    if (first === undefined || t < first) first = t;
    if (last === undefined || t > last) last = t;
    if (percent >= threshold && (lastBusy === undefined || t > lastBusy)) lastBusy = t;
  }
  if (last === undefined || nowMs - last > 2 * stepMs + FRESHNESS_SLACK_MS) return { known: false };
  // Samples that begin well after the window's start leave its beginning unknown.
  const unknownUntilMs = first! > cpu.sinceMs + 2 * stepMs ? first : undefined;
  return {
    known: true,
    ...(lastBusy !== undefined ? { lastBusyMs: lastBusy } : {}),
    ...(unknownUntilMs !== undefined ? { unknownUntilMs } : {}),
  };
}

export function decide(input: DecideInput): Decision {
  const { nowMs, stepMs, policy, status } = input;
  const cpu = readCpu(input.cpu, policy.cpuThreshold, nowMs, stepMs);
  const activityMs = maxOf(ms(status.lastActivityAt), ms(status.readyAt), ms(status.startedAt));
  const lastUseMs = maxOf(activityMs, cpu.lastBusyMs, cpu.unknownUntilMs) ?? nowMs;
  const startedMs = ms(status.startedAt) ?? ms(status.readyAt) ?? nowMs;
  const decision: Decision = { lastUseMs, cpuKnown: cpu.known };

  // idleSince: only on a change of state, and only from what is known.
  if (cpu.known) {
    const idle = nowMs - lastUseMs >= stepMs;
    const current = ms(status.idleSince);
    if (idle && (current === undefined || lastUseMs > current + stepMs)) {
      decision.idleSince = new Date(lastUseMs).toISOString();
    } else if (!idle && current !== undefined) {
      decision.idleSince = null;
    }
  }

  const figures = describe(input, lastUseMs, startedMs);
  // Candidate stops, by when they are due.
  const candidates: Array<{ reason: StopReason; atMs: number }> = [];
  if (policy.maxLifetimeMs !== undefined)
    candidates.push({ reason: 'MaxLifetime', atMs: startedMs + policy.maxLifetimeMs });
  if (cpu.known) candidates.push({ reason: 'Idle', atMs: lastUseMs + policy.idleAfterMs });

  // An Idle warning whose CPU is unknown now stays as it is (a missing fact changes nothing).
  const standing = status.stopWarning;
  if (standing?.reason === 'Idle' && !cpu.known)
    candidates.push({ reason: 'Idle', atMs: ms(standing.stopAt)! });
  const isDue = (c: { atMs: number }) => c.atMs - nowMs <= policy.warnBeforeMs;

  let warning = standing;
  let cancelled: string | undefined;
  if (warning?.reason === 'Idle' && lastUseMs > ms(warning.warnedAt)!) {
    cancelled = 'it was used again';
    warning = undefined;
  } else if (warning && !candidates.some((c) => c.reason === warning!.reason && isDue(c))) {
    // Its reason no longer holds (the tool's policy changed, or the Idle stop moved on).
    cancelled = warning.reason === 'Idle' ? 'it is in use' : "its tool's maxLifetime changed";
    warning = undefined;
  }

  const due = candidates.filter(isDue).sort((a, b) => a.atMs - b.atMs)[0];

  if (due && !warning) {
    // A stop is due: the user is told warnBefore ahead. A maxLifetime stop due
    // when an Idle warning is cancelled counts from that warning (it cannot be postponed).
    const warnedAtMs = standing && due.reason === 'MaxLifetime' ? ms(standing.warnedAt)! : nowMs;
    const stopAtMs = Math.max(due.atMs, warnedAtMs + policy.warnBeforeMs);
    const stopAt = new Date(stopAtMs).toISOString();
    decision.warning = {
      to: {
        reason: due.reason,
        stopAt,
        warnedAt: new Date(warnedAtMs).toISOString(),
        message: warningMessage(due.reason, stopAt, figures),
      },
      event: 'StopScheduled',
    };
    return decision;
  }
  if (!warning) {
    if (cancelled)
      decision.warning = {
        to: null,
        event: 'StopCancelled',
        message: `Stop cancelled: ${cancelled}`,
      };
    return decision;
  }
  // A warning stands: stop once its time has come and its reason still holds.
  if (nowMs < ms(warning.stopAt)!) return decision;
  if (warning.reason === 'MaxLifetime' && policy.maxLifetimeMs !== undefined) {
    if (nowMs - startedMs >= policy.maxLifetimeMs)
      decision.stop = {
        reason: 'MaxLifetime',
        message: `Stopped: running ${formatDuration(nowMs - startedMs)}, past its tool's maxLifetime of ${formatDuration(policy.maxLifetimeMs)}`,
        idleForMs: nowMs - lastUseMs,
        lifetimeMs: nowMs - startedMs,
      };
  } else if (warning.reason === 'Idle' && cpu.known && nowMs - lastUseMs >= policy.idleAfterMs) {
    decision.stop = {
      reason: 'Idle',
      message: `Stopped: idle ${formatDuration(roundS(nowMs - lastUseMs))} (${figures.idleWhat})`,
      idleForMs: nowMs - lastUseMs,
      lifetimeMs: nowMs - startedMs,
    };
  }
  return decision;
}

const roundS = (n: number) => Math.round(n / 1000) * 1000;

interface Figures {
  /** "no user traffic, CPU under 5 % of its 0.25 vCPU" */
  idleWhat: string;
  idleFor: string;
  maxLifetime: string;
}

function describe(input: DecideInput, lastUseMs: number, startedMs: number): Figures {
  const vcpu = input.cpuUnits / 1024;
  const p = input.policy;
  return {
    idleWhat: `no user traffic, CPU under ${p.cpuThreshold} % of its ${vcpu} vCPU`,
    idleFor: formatDuration(roundS(Math.max(0, input.nowMs - lastUseMs))),
    maxLifetime:
      p.maxLifetimeMs !== undefined
        ? `running since ${new Date(startedMs).toISOString()}, its tool's maxLifetime is ${formatDuration(p.maxLifetimeMs)}`
        : '',
  };
}

function warningMessage(reason: StopReason, stopAt: string, f: Figures): string {
  if (reason === 'Idle')
    return `Idle for ${f.idleFor} (${f.idleWhat}): stops at ${stopAt} unless it is used; open it or choose "Keep it running"`;
  return `Stops at ${stopAt}: ${f.maxLifetime}; this cannot be postponed`;
}
