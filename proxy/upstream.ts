// One upstream (a tool task's endpoint, or the API server): an undici Pool of
// keep-alive connections plus the WebSocket sockets upgraded through it, so that
// dropping the upstream (route changed or gone) closes everything that reaches it.
// A tool task's upstream carries the launch's tool secret, presented to its gate
// on every request and upgrade (forward.ts, upgrade.ts).
import type { Duplex } from 'node:stream';
import { Pool } from 'undici';

export interface UpstreamOptions {
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  connections: number;
  /** What a response's Set-Cookie values go through before the browser (tools' upstreams). */
  setCookieFilter?: (values: string[]) => string[];
}

export class Upstream {
  readonly origin: string;
  /** The tool secret of the launch behind this origin; undefined for the API server. */
  readonly toolSecret: string | undefined;
  readonly pool: Pool;
  readonly sockets = new Set<Duplex>();
  readonly setCookieFilter: ((values: string[]) => string[]) | undefined;
  #closed = false;

  constructor(origin: string, opts: UpstreamOptions, toolSecret?: string) {
    this.origin = origin;
    this.setCookieFilter = opts.setCookieFilter;
    this.toolSecret = toolSecret;
    this.pool = new Pool(origin, {
      connections: opts.connections,
      connect: { timeout: opts.connectTimeoutMs },
      headersTimeout: opts.headersTimeoutMs,
      // Live streams (SSE, long downloads, notebooks) may be quiet for hours.
      bodyTimeout: 0,
      keepAliveTimeout: 4_000,
      pipelining: 1,
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Tracks an upgraded socket so that close() ends it too. */
  adopt(socket: Duplex): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  /** Drops every connection now: in-flight requests fail (502 to their clients), WebSockets end. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    this.pool.destroy().catch(() => {});
  }
}
