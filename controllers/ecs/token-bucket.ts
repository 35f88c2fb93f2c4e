// A token bucket callers wait on, first come first served. ECS throttles each
// account with token buckets (a capacity that allows a burst, refilled at the
// sustained rate); holding the same buckets on our side means berth waits a
// little instead of being answered ThrottlingException and retrying.

export interface TokenBucketOptions {
  /** Most tokens the bucket holds (the burst). */
  capacity: number;
  /** Tokens added per second (the sustained rate). */
  refillPerSecond: number;
  /** Clock in milliseconds; injectable for tests. */
  now?: () => number;
}

interface Waiter {
  tokens: number;
  enqueuedAt: number;
  resolve: (waitedSeconds: number) => void;
  reject: (err: Error) => void;
}

export class TokenBucket {
  readonly capacity: number;
  readonly refillPerSecond: number;
  private readonly now: () => number;
  private tokens: number;
  private lastRefill: number;
  private readonly queue: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: TokenBucketOptions) {
    if (!(options.capacity > 0) || !(options.refillPerSecond > 0)) {
      throw new RangeError('capacity and refillPerSecond must be positive');
    }
    this.capacity = options.capacity;
    this.refillPerSecond = options.refillPerSecond;
    this.now = options.now ?? (() => performance.now());
    this.tokens = options.capacity;
    this.lastRefill = this.now();
  }

  /** Tokens available right now (fractional). */
  available(): number {
    this.refill();
    return this.tokens;
  }

  /** Callers waiting for tokens. */
  waiting(): number {
    return this.queue.length;
  }

  /**
   * Milliseconds a `take(tokens)` made now would wait: behind every waiter
   * already queued (first come, first served), at the refill rate. Lets a caller
   * decide not to wait at all when the wait is long.
   */
  estimateWaitMs(tokens = 1): number {
    this.refill();
    let owed = tokens;
    for (const w of this.queue) owed += w.tokens;
    const deficit = owed - this.tokens;
    return deficit <= EPSILON ? 0 : Math.ceil((deficit * 1000) / this.refillPerSecond);
  }

  /**
   * Resolves, with the seconds spent waiting, once `tokens` tokens are taken.
   * Waiters are served strictly in arrival order: a large request is not
   * overtaken by small ones behind it, so nobody starves.
   */
  take(tokens = 1): Promise<number> {
    if (this.closed) return Promise.reject(new Error('token bucket closed'));
    if (!(tokens > 0) || tokens > this.capacity) {
      return Promise.reject(
        new RangeError(`cannot take ${tokens} tokens from a bucket of ${this.capacity}`),
      );
    }
    this.refill();
    if (this.queue.length === 0 && this.tokens >= tokens - EPSILON) {
      this.tokens -= tokens;
      return Promise.resolve(0);
    }
    return new Promise<number>((resolve, reject) => {
      this.queue.push({ tokens, enqueuedAt: this.now(), resolve, reject });
      this.schedule();
    });
  }

  /** Rejects every waiter; later take() calls reject at once. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.queue.splice(0)) w.reject(new Error('token bucket closed'));
  }

  private refill(): void {
    const t = this.now();
    const elapsed = t - this.lastRefill;
    if (elapsed > 0) {
      this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.refillPerSecond) / 1000);
      this.lastRefill = t;
    }
  }

  private drain(): void {
    this.refill();
    while (this.queue.length > 0 && this.tokens >= this.queue[0]!.tokens - EPSILON) {
      const w = this.queue.shift()!;
      this.tokens -= w.tokens;
      w.resolve((this.now() - w.enqueuedAt) / 1000);
    }
  }

  private schedule(): void {
    if (this.timer || this.queue.length === 0) return;
    const deficit = this.queue[0]!.tokens - this.tokens;
    const ms = Math.max(0, Math.ceil((deficit * 1000) / this.refillPerSecond));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.drain();
      this.schedule();
    }, ms);
  }
}

// Refill arithmetic in floating point can leave 0.9999999 of a token.
const EPSILON = 1e-9;
