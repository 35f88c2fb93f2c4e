// Watches: one shared LISTEN connection per store (WatchHub) reads each new batch
// of resource_log rows once and fans it out to every live watcher. A new watcher
// first catches up from the log by itself (in bounded batches, at its consumer's
// pace) and then joins the live stream; the switch happens synchronously, so no
// row is lost or delivered twice. Nothing polls while idle.
import type pg from 'pg';
import { API_VERSION, ApiError, type BerthObject } from '../crds/index.ts';
import type { Pool } from './db.ts';
import { Listener } from './listener.ts';
import { matchesSelector, type Requirement } from './selectors.ts';
import type { WatchEvent } from './types.ts';

export const NOTIFY_CHANNEL = 'berth_resources';
const BATCH = 500;

export interface LogRow {
  rv: number;
  kind: string;
  namespace: string;
  name: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: BerthObject;
  prev_object: BerthObject | null;
}

export interface LogPage {
  /** The newest resourceVersion committed in the snapshot the rows were read from. */
  head: number;
  /** Rows up to this resourceVersion are gone from the log. */
  compacted: number;
  rows: LogRow[];
}

export type LogReader = (
  after: number,
  kind: string,
  namespace: string | undefined,
  limit: number,
) => Promise<LogPage>;

export function goneError(rv: number, compacted: number): ApiError {
  return new ApiError('Gone', `too old resource version: ${rv} (${compacted})`);
}

/** The shared listener: tracks `position`, the newest log row offered to live watchers. */
export class WatchHub {
  position = -1;
  readonly #pool: Pool;
  readonly #listener: Listener;
  readonly #subs = new Set<Watch>();
  #pumping = false;
  #again = false;
  #closed = false;
  #backoffMs = 100;

  constructor(pool: Pool, clientConfig: pg.ClientConfig) {
    this.#pool = pool;
    this.#listener = new Listener(clientConfig, {
      channel: NOTIFY_CHANNEL,
      applicationName: 'berth-watch',
      onNotify: (payload) => this.#onNotify(payload),
      onConnected: () => this.#caughtUp(),
    });
  }

  /** Connects the listener if needed; resolves once LISTEN is active and `position` is known. */
  start(): Promise<void> {
    if (this.#closed)
      return Promise.reject(new ApiError('ServiceUnavailable', 'the resource store is closed'));
    return this.#listener.start();
  }

  /** After LISTEN (so no commit falls between the two): where the log stands. */
  async #caughtUp(): Promise<void> {
    if (this.position < 0) {
      const { rows } = await this.#pool.query<{ rv: number }>('select rv from rv_counter');
      this.position = Math.max(this.position, rows[0]!.rv);
    } else {
      // Reconnected: whatever committed while we were away is in the log after `position`.
      void this.pump();
    }
  }

  #onNotify(payload: string | undefined): void {
    if (this.#subs.size === 0 && !this.#pumping) {
      // Nobody to deliver to: just remember how far the log goes.
      const rv = Number(payload);
      if (Number.isSafeInteger(rv) && rv > this.position) this.position = rv;
      return;
    }
    void this.pump();
  }

  add(w: Watch): void {
    this.#subs.add(w);
  }

  remove(w: Watch): void {
    this.#subs.delete(w);
  }

  /** Reads every log row after `position` and offers it to the watchers; one pump at a time. */
  async pump(): Promise<void> {
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#again = false;
        while (this.#subs.size > 0 && !this.#closed) {
          const from = this.position;
          const { rows } = await this.#pool.query<LogRow>(
            'select rv, kind, namespace, name, type, object, prev_object from resource_log where rv > $1 order by rv limit $2',
            [from, BATCH],
          );
          // Every write has exactly one log row, so the log is gapless unless compacted under us.
          if (rows.length > 0 && rows[0]!.rv > from + 1 && this.position === from) {
            for (const s of this.#subs) s.hubLost(goneError(from, rows[0]!.rv - 1));
          }
          for (const row of rows) {
            if (row.rv <= this.position) continue;
            this.position = row.rv;
            for (const s of this.#subs) s.offer(row);
          }
          if (rows.length < BATCH) break;
        }
      } while (this.#again);
      this.#backoffMs = 100;
    } catch {
      // The database is unreachable for now; try again (the listener reconnects on its own).
      if (!this.#closed) {
        const t = setTimeout(() => void this.pump(), this.#backoffMs);
        t.unref();
        this.#backoffMs = Math.min(this.#backoffMs * 2, 5_000);
      }
    } finally {
      this.#pumping = false;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const s of [...this.#subs]) s.close();
    await this.#listener.close();
  }
}

export interface WatchSetup {
  kind: string;
  namespace?: string;
  selector: Requirement[];
  /** Deliver changes with a resourceVersion above this. */
  cursor: number;
  initial: WatchEvent[];
  bufferSize: number;
  allowBookmarks: boolean;
  bookmarkIntervalMs: number;
  signal?: AbortSignal;
}

/** One watch: an async iterator of events with a bounded buffer. */
export class Watch implements AsyncIterableIterator<WatchEvent> {
  readonly #hub: WatchHub;
  readonly #setup: WatchSetup;
  readonly #read: LogReader;
  #queue: WatchEvent[] = [];
  #head = 0;
  #wake: (() => void) | undefined;
  #roomWaiter: (() => void) | undefined;
  #live = false;
  #ended = false; // no more events will be queued
  #cursor: number;
  #bookmarks: NodeJS.Timeout | undefined;
  #onAbort = () => this.close();

  constructor(hub: WatchHub, read: LogReader, setup: WatchSetup) {
    this.#hub = hub;
    this.#read = read;
    this.#setup = setup;
    this.#cursor = setup.cursor;
    for (const ev of setup.initial) this.#queue.push(ev);
    if (setup.signal?.aborted) {
      this.close();
      return;
    }
    setup.signal?.addEventListener('abort', this.#onAbort, { once: true });
    hub.add(this);
    if (setup.allowBookmarks) {
      this.#bookmarks = setInterval(() => this.#bookmark(), setup.bookmarkIntervalMs);
      this.#bookmarks.unref();
    }
    void this.#catchUp();
  }

  /** The newest resourceVersion this watch has covered (delivered or filtered out). */
  get resourceVersion(): number {
    return this.#cursor;
  }

  get #size(): number {
    return this.#queue.length - this.#head;
  }

  async #catchUp(): Promise<void> {
    try {
      while (!this.#ended) {
        const page = await this.#read(this.#cursor, this.#setup.kind, this.#setup.namespace, BATCH);
        if (this.#ended) return;
        if (this.#cursor < page.compacted) throw goneError(this.#cursor, page.compacted);
        for (const row of page.rows) this.#accept(row);
        if (page.rows.length < BATCH) this.#cursor = Math.max(this.#cursor, page.head);
        // Catching up is paced by the consumer: read on only when half the buffer is free.
        if (page.rows.length === BATCH || this.#size >= this.#setup.bufferSize / 2) {
          await this.#room();
          continue;
        }
        // Synchronously after the read: every row up to the hub's position is covered,
        // so from here on the hub's rows (above our cursor) are exactly what is missing.
        if (this.#cursor >= this.#hub.position) {
          this.#live = true;
          return;
        }
      }
    } catch (err) {
      this.#fail(
        err instanceof ApiError
          ? err
          : new ApiError('InternalError', 'the watch could not read the change log'),
      );
    }
  }

  /** A row from the hub. */
  offer(row: LogRow): void {
    if (!this.#live || this.#ended) return;
    this.#accept(row);
    if (this.#size > this.#setup.bufferSize) {
      this.#fail(
        new ApiError(
          'Gone',
          `the watch fell too far behind (more than ${this.#setup.bufferSize} undelivered events); list again and watch from the list's resourceVersion`,
        ),
      );
    }
  }

  hubLost(err: ApiError): void {
    if (this.#live) this.#fail(err);
  }

  #accept(row: LogRow): void {
    if (row.rv <= this.#cursor) return;
    this.#cursor = row.rv;
    const ev = this.#toEvent(row);
    if (ev) this.#push(ev);
  }

  #toEvent(row: LogRow): WatchEvent | undefined {
    const { kind, namespace, selector } = this.#setup;
    if (row.kind !== kind || (namespace !== undefined && row.namespace !== namespace))
      return undefined;
    if (selector.length === 0) return { type: row.type, object: row.object };
    const now = matchesSelector(selector, row.object.metadata.labels);
    if (row.type !== 'MODIFIED') return now ? { type: row.type, object: row.object } : undefined;
    const before = row.prev_object
      ? matchesSelector(selector, row.prev_object.metadata.labels)
      : false;
    if (now && before) return { type: 'MODIFIED', object: row.object };
    if (now) return { type: 'ADDED', object: row.object };
    if (before) {
      // Left the selection: DELETED with the last matching state, at this event's resourceVersion (as Kubernetes does).
      const prev = structuredClone(row.prev_object!);
      prev.metadata.resourceVersion = String(row.rv);
      return { type: 'DELETED', object: prev };
    }
    return undefined;
  }

  #push(ev: WatchEvent): void {
    this.#queue.push(ev);
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #bookmark(): void {
    if (!this.#live || this.#ended || this.#size >= this.#setup.bufferSize) return;
    this.#push({
      type: 'BOOKMARK',
      object: {
        apiVersion: API_VERSION,
        kind: this.#setup.kind,
        metadata: { name: '', resourceVersion: String(this.#cursor) },
      },
    });
  }

  #room(): Promise<void> {
    if (this.#size < this.#setup.bufferSize / 2 || this.#ended) return Promise.resolve();
    return new Promise((resolve) => {
      this.#roomWaiter = resolve;
    });
  }

  #fail(err: ApiError): void {
    if (this.#ended) return;
    this.#queue = [{ type: 'ERROR', object: err.toStatus() as unknown as BerthObject }];
    this.#head = 0;
    this.#end();
  }

  #end(): void {
    this.#ended = true;
    this.#hub.remove(this);
    if (this.#bookmarks) clearInterval(this.#bookmarks);
    this.#setup.signal?.removeEventListener('abort', this.#onAbort);
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
    const room = this.#roomWaiter;
    this.#roomWaiter = undefined;
    room?.();
  }

  /** Ends the watch; pending events are dropped and the iterator finishes. */
  close(): void {
    this.#queue = [];
    this.#head = 0;
    this.#end();
  }

  async next(): Promise<IteratorResult<WatchEvent>> {
    for (;;) {
      if (this.#size > 0) {
        const value = this.#queue[this.#head]!;
        this.#queue[this.#head] = undefined as unknown as WatchEvent;
        this.#head++;
        if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
          this.#queue = this.#queue.slice(this.#head);
          this.#head = 0;
        }
        if (this.#roomWaiter && this.#size < this.#setup.bufferSize / 2) {
          const room = this.#roomWaiter;
          this.#roomWaiter = undefined;
          room();
        }
        return { value, done: false };
      }
      if (this.#ended) return { value: undefined, done: true };
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  async return(): Promise<IteratorResult<WatchEvent>> {
    this.close();
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
