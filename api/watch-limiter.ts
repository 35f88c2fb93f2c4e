// Counts open watches per token, so one client cannot hold every connection,
// and remembers each watch's abort, by the credential that opened it, so that
// closing the server ends them all and a revoked credential ends its own
// (api/credential-recheck.ts).
import { ApiError } from '../crds/index.ts';
import type { Principal } from '../store/index.ts';

/** Who opened a watch: the principal, with the token or session that authenticated it. */
export type WatchOwner = Principal & { sessionId?: string };

interface OpenWatch {
  abort: AbortController;
  owner: WatchOwner;
}

/** `t:<token id>` or `s:<session id>`, as Identity.liveCredentials keys them. */
function credentialKey(owner: WatchOwner): string | undefined {
  if (owner.tokenId) return `t:${owner.tokenId}`;
  if (owner.sessionId) return `s:${owner.sessionId}`;
  return undefined;
}

function sameRights(a: Principal, b: Principal): boolean {
  return (
    a.name === b.name &&
    a.admin === b.admin &&
    a.groups.length === b.groups.length &&
    a.groups.every((g, i) => g === b.groups[i])
  );
}

export class WatchLimiter {
  readonly #max: number;
  readonly #open = new Map<string, number>();
  readonly #aborts = new Set<AbortController>();
  /** Open watches by credential key: a Map of sets, touched only when a watch opens or ends. */
  readonly #byCredential = new Map<string, Set<OpenWatch>>();

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

  /** Registers a watch's abort controller (and who opened it) until it ends. */
  track(abort: AbortController, owner?: WatchOwner): void {
    this.#aborts.add(abort);
    const key = owner && credentialKey(owner);
    let entry: OpenWatch | undefined;
    if (owner && key) {
      entry = { abort, owner };
      let set = this.#byCredential.get(key);
      if (!set) {
        set = new Set();
        this.#byCredential.set(key, set);
      }
      set.add(entry);
    }
    abort.signal.addEventListener(
      'abort',
      () => {
        this.#aborts.delete(abort);
        if (!key || !entry) return;
        const set = this.#byCredential.get(key);
        set?.delete(entry);
        if (set?.size === 0) this.#byCredential.delete(key);
      },
      { once: true },
    );
  }

  /** The token and session ids behind open watches. */
  credentials(): { tokenIds: string[]; sessionIds: string[] } {
    const tokenIds: string[] = [];
    const sessionIds: string[] = [];
    for (const key of this.#byCredential.keys()) {
      if (key.startsWith('t:')) tokenIds.push(key.slice(2));
      else sessionIds.push(key.slice(2));
    }
    return { tokenIds, sessionIds };
  }

  /**
   * Ends the watches whose credential is not in `live` (revoked, expired, user
   * disabled) or whose user's rights changed since they opened (a watch filters
   * by the rights it started with; the client reconnects with the new ones).
   * `checked` are the keys `live` was computed for (watches opened since keep on).
   */
  endRevoked(live: Map<string, Principal>, checked: ReadonlySet<string>): number {
    let ended = 0;
    for (const [key, set] of [...this.#byCredential]) {
      if (!checked.has(key)) continue;
      const now = live.get(key);
      for (const w of [...set]) {
        if (now && sameRights(now, w.owner)) continue;
        w.abort.abort();
        ended++;
      }
    }
    return ended;
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
