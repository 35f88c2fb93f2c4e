// A pause that ends early, without an error, when the controller shuts down.
// node:timers/promises removes its abort listener when the time is up, so a loop
// sleeping on one long-lived signal does not pile listeners onto it.
import { setTimeout as delay } from 'node:timers/promises';

export async function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, { signal });
  } catch (err) {
    if (!signal.aborted) throw err;
  }
}
