// Durations as people write them in specs: `90s`, `5m`, `1h30m`, `1d`, `250ms`.
// The same shape as Go's time.ParseDuration (which Kubernetes uses), limited to
// the units a tool's lifetime needs, so a spec stays readable and unambiguous.
import { z } from 'zod';

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

// One or more `<number><unit>` parts; `ms` listed before `m` so it wins.
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;
const WHOLE = /^(\d+(?:\.\d+)?(ms|s|m|h|d))+$/;

const DURATION_HINT = 'a duration such as "90s", "5m", "1h30m" or "2d" (units: ms, s, m, h, d)';

/** Milliseconds in a duration string; throws a RangeError naming the accepted form. */
export function parseDuration(text: string): number {
  if (!WHOLE.test(text))
    throw new RangeError(`invalid duration "${text}": expected ${DURATION_HINT}`);
  let total = 0;
  PART.lastIndex = 0;
  for (let m = PART.exec(text); m; m = PART.exec(text)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  return Math.round(total);
}

export function isDuration(text: string): boolean {
  return WHOLE.test(text);
}

/** Shortest readable form of a millisecond count: 5400000 -> `1h30m`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = Math.round(ms);
  let out = '';
  for (const unit of ['d', 'h', 'm', 's', 'ms'] as const) {
    const size = UNIT_MS[unit]!;
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}

/** A duration string in a spec; must be longer than zero. */
export const duration = z
  .string()
  .regex(WHOLE, `must be ${DURATION_HINT}`)
  .refine((s) => !WHOLE.test(s) || parseDuration(s) > 0, { message: 'must be longer than zero' });
