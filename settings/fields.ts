// The few value shapes environment variables take, one way each, so every
// component reads a number, a duration, a flag or a list alike.
import { z } from 'zod';

/** A whole number from `min` to `max`. */
export function integer(min: number, max: number) {
  return z.coerce.number().int().min(min).max(max);
}

/**
 * A duration in whole milliseconds, from `min` to `max`. Every duration
 * variable's name ends in `_MS` (see settings/README.md).
 */
export function durationMs(min: number, max: number) {
  return z.coerce.number().int().min(min).max(max);
}

/** true/false, also written 1/0, yes/no, on/off; a boolean when passed in code. */
export function flag() {
  return z.union([z.boolean(), z.stringbool()], { error: 'expected true or false' });
}

/** A list separated by commas or spaces in the environment, an array when passed in code. */
export function commaList<T extends z.ZodType<unknown, string>>(item: T) {
  return z
    .union([
      z.array(z.string()),
      z.string().transform((s) => s.split(/[\s,]+/).filter((x) => x.length > 0)),
    ])
    .pipe(z.array(item));
}
