// Counts open watches per token, so one client cannot hold every connection,
// and remembers each watch's abort so that closing the server ends them all.
import { ApiError } from '../crds/index.ts';

export class WatchLimiter {
  readonly #max: number;
  readonly #open = new Map<string, number>();
  readonly #aborts = new Set<AbortController>();

  constructor(maxPerToken: number) {
    this.#max = maxPerToken;
  }

  /** Takes a slot for `key` or throws 429; call the returned function once to give it back. */
  acquire(key: string): () => void {
    const n = this.#open.get(key) ?? 0;
    if (n >= this.#max) {
      throw new ApiError(
        'TooManyRequests',
        `too many open watches for this token (limit ${this.#max}); close one first`,
        { retryAfterSeconds: 1 },
      );
    }
    this.#open.set(key, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#open.get(key) ?? 1) - 1;
      if (left <= 0) this.#open.delete(key);
      else this.#open.set(key, left);
    };
  }

  /** Registers a watch's abort controller until it ends. */
  track(abort: AbortController): void {
    this.#aborts.add(abort);
    abort.signal.addEventListener('abort', () => this.#aborts.delete(abort), { once: true });
  }

  /** Ends every open watch (server shutdown). */
  abortAll(): void {
    for (const a of [...this.#aborts]) a.abort();
  }

  get total(): number {
    let sum = 0;
    for (const n of this.#open.values()) sum += n;
    return sum;
  }
}
