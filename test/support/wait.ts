// Tests wait for conditions, never for fixed sleeps: poll `check` until it holds.
// The one polling helper of the suite; its timeouts are generous because the
// suite shares two cores with other work, so a timeout means "never", not "slow".

/** What a check answers: a value (or `true`) when it holds; `undefined`, `null` or `false` while not yet. */
export type Check<T> = () => T | undefined | null | false | Promise<T | undefined | null | false>;

/**
 * Polls `check` (every `everyMs`) until it answers a value other than `undefined`,
 * `null` or `false`, and resolves with that value; fails naming `what` after `timeoutMs`.
 */
export async function waitFor<T>(
  check: Check<T>,
  timeoutMs: number,
  what: string,
  everyMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** One turn of the event loop: lets every callback already due (a wake, a settled promise) run. */
export function nextTurn(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}
