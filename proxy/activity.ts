// Last activity per instance (a request or a WebSocket frame), kept in memory and
// written to status.lastActivityAt in batches: one flush every `flushMs` writes
// each instance seen since the last flush once, so an instance gets at most one
// write per interval however busy it is. The idle culler reads the field.
import type { ResourceStore } from '../store/index.ts';
import type { ProxyLogger } from './log.ts';

export class ActivityRecorder {
  readonly #store: ResourceStore;
  readonly #log: ProxyLogger;
  readonly #pending = new Map<string, { namespace: string; name: string; at: number }>();
  readonly #timer: NodeJS.Timeout | undefined;
  readonly #onWrite: () => void;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    store: ResourceStore,
    flushMs: number,
    log: ProxyLogger,
    onWrite: () => void = () => {},
  ) {
    this.#store = store;
    this.#log = log;
    this.#onWrite = onWrite;
    if (flushMs > 0) {
      this.#timer = setInterval(() => void this.flush(), flushMs);
      this.#timer.unref();
    }
  }

  /** Hot path: a Map write, nothing else. `at`: the caller's Date.now() when it has one. */
  touch(namespace: string, name: string, key: string, at = Date.now()): void {
    const e = this.#pending.get(key);
    if (e) e.at = at;
    else this.#pending.set(key, { namespace, name, at });
  }

  /** Writes what is pending; overlapping calls run one after the other. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#flushOnce());
    return this.#flushing;
  }

  async #flushOnce(): Promise<void> {
    if (this.#pending.size === 0) return;
    const batch = [...this.#pending.values()];
    this.#pending.clear();
    await Promise.all(
      batch.map(async ({ namespace, name, at }) => {
        try {
          await this.#store.patchStatus('ToolInstance', namespace, name, {
            status: { lastActivityAt: new Date(at).toISOString() },
          });
          this.#onWrite();
        } catch (err) {
          // Gone or unreachable: activity is advisory; the next request records it again.
          this.#log.warn({ err: String(err), namespace, name }, 'lastActivityAt write failed');
        }
      }),
    );
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.flush();
  }
}
