// Per-key exponential backoff with jitter: base × 2^failures, capped, then drawn
// uniformly from [d/2, d] so that keys failing together spread out.

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

/** The delay before the next attempt after `failures` consecutive failures (0 = the first failure). */
export function backoffDelayMs(
  failures: number,
  opts: BackoffOptions,
  random: () => number = Math.random,
): number {
  const exp = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(failures, 40));
  return Math.round(exp / 2 + (random() * exp) / 2);
}

/** ±10% around `ms`, so replicas' periodic work does not line up. */
export function jitter(ms: number, random: () => number = Math.random): number {
  return Math.round(ms * (0.9 + random() * 0.2));
}
