// One LISTEN connection that stays up. It connects, runs LISTEN on its channel,
// then the caller's `onConnected` (to catch up on whatever it may have missed
// while it was not listening), and hands every notification to `onNotify`. A lost
// connection is replaced after a backoff (100 ms doubling to 5 s); each new
// connection runs `onConnected` again. Used by the resource watches (WatchHub),
// the controllers' wake-ups and the proxy's credential cache.
import pg from 'pg';

export interface ListenerOptions {
  channel: string;
  /** application_name of the connection, to tell it apart in pg_stat_activity. */
  applicationName: string;
  onNotify(payload: string | undefined): void;
  /** Runs after LISTEN on every (re)connection; a throw counts as a failed connection. */
  onConnected?(): Promise<void> | void;
  /** A lost connection or a failed reconnection attempt (for a log line). */
  onError?(err: unknown): void;
}

export class Listener {
  readonly #config: pg.ClientConfig;
  readonly #opts: ListenerOptions;
  #client: pg.Client | undefined;
  #ready: Promise<void> | undefined;
  #closed = false;
  #backoffMs = 100;
  #timer: NodeJS.Timeout | undefined;

  constructor(config: pg.ClientConfig, opts: ListenerOptions) {
    if (!/^[a-z_][a-z0-9_]*$/.test(opts.channel)) throw new Error('invalid channel name');
    this.#config = config;
    this.#opts = opts;
  }

  /** Connects if needed; resolves once LISTEN is active and onConnected has run. */
  start(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('the listener is closed'));
    this.#ready ??= this.#connect().catch((err: unknown) => {
      this.#ready = undefined;
      throw err;
    });
    return this.#ready;
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({ ...this.#config, application_name: this.#opts.applicationName });
    client.on('error', (err) => this.#lost(client, err));
    client.on('end', () => this.#lost(client, new Error('the LISTEN connection ended')));
    client.on('notification', (msg) => this.#opts.onNotify(msg.payload));
    try {
      await client.connect();
      // The channel is checked against a plain identifier pattern in the constructor.
      await client.query(`listen ${this.#opts.channel}`);
      // Closed while connecting: this connection must not outlive close().
      if (this.#closed) throw new Error('the listener is closed');
      // Notifications from here on are delivered; onConnected catches up on the gap before.
      this.#client = client;
      await this.#opts.onConnected?.();
    } catch (err) {
      if (this.#client === client) this.#client = undefined;
      client.removeAllListeners('end');
      await client.end().catch(() => {});
      throw err;
    }
    this.#backoffMs = 100;
  }

  #lost(client: pg.Client, err: Error): void {
    if (this.#client !== client) return;
    this.#opts.onError?.(err);
    this.#client = undefined;
    this.#ready = undefined;
    client.end().catch(() => {});
    this.#reconnectLater();
  }

  #reconnectLater(): void {
    if (this.#closed || this.#timer) return;
    const delay = this.#backoffMs;
    this.#backoffMs = Math.min(this.#backoffMs * 2, 5_000);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.start().catch((err: unknown) => {
        this.#opts.onError?.(err);
        this.#reconnectLater();
      });
    }, delay);
    this.#timer.unref();
  }

  /** Keeps retrying in the background until connected (for callers that do not await start). */
  startInBackground(): void {
    this.start().catch((err: unknown) => {
      this.#opts.onError?.(err);
      this.#reconnectLater();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    const c = this.#client;
    this.#client = undefined;
    if (c) {
      c.removeAllListeners('end');
      await c.end().catch(() => {});
    }
  }
}
