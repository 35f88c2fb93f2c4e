// Wraps a verb's action so that expected errors print `error: ...` on stderr and
// set the exit code, never a stack trace. BERTH_DEBUG=1 shows stacks of the
// unexpected ones.
import { ApiError } from '../crds/index.ts';
import { CliError } from './errors.ts';
import { JsonPathError } from './jsonpath.ts';

export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) {
    const causes = err.details?.causes ?? [];
    // The server's message usually lists the causes already; add those it left out.
    const missing = causes.filter(
      (c) => c.field && !err.message.includes(c.field) && !err.message.includes(c.message),
    );
    const extra = missing.map((c) => `${c.field}: ${c.message}`).join(', ');
    return extra ? `${err.message}: ${extra}` : err.message;
  }
  if (err instanceof CliError || err instanceof JsonPathError || err instanceof RangeError)
    return err.message;
  if (err instanceof Error)
    return process.env.BERTH_DEBUG ? (err.stack ?? err.message) : err.message;
  return String(err);
}

export function printError(err: unknown): void {
  process.stderr.write(`error: ${errorMessage(err)}\n`);
}

/** An action that reports errors; `errorExit` is the exit code for failures (diff uses 2). */
export function action<A extends unknown[]>(
  fn: (...args: A) => Promise<void>,
  errorExit = 1,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      printError(err);
      process.exitCode = err instanceof CliError && err.exitCode !== 1 ? err.exitCode : errorExit;
    }
  };
}

/** Durations for --timeout: `30s`, `2m`, `500ms`, or a bare number of seconds. */
export function parseTimeout(text: string): number {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const m = /^((\d+(\.\d+)?)(ms|s|m|h))+$/.test(text);
  if (!m)
    throw new CliError(`invalid --timeout "${text}": expected a duration such as 30s, 2m or 500ms`);
  let total = 0;
  for (const part of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    const unit =
      part[2] === 'ms' ? 1 : part[2] === 's' ? 1000 : part[2] === 'm' ? 60_000 : 3_600_000;
    total += Number(part[1]) * unit;
  }
  return total;
}
