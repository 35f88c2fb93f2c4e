// WebSocket relay: the upgrade goes to the tool through undici's `upgrade` (with
// the client's Sec-WebSocket-* headers, so subprotocols and extensions are
// negotiated by the tool itself); once the tool answers 101 the two sockets are
// piped both ways, byte for byte, so every frame, close code included, passes
// unchanged with TCP backpressure. The proxy adds only: a ping to the browser on
// an idle connection (load balancers drop quiet ones), and a 1011 close frame
// when the tool's socket dies without closing the WebSocket.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { clientResponseHeaders } from './headers.ts';
import type { Upstream } from './upstream.ts';
import { closeFrame, FrameBoundaryTracker, PING_FRAME } from './ws-frames.ts';

interface Relay {
  client: Duplex;
  up: Duplex;
  toClient: FrameBoundaryTracker;
  lastTraffic: number;
  onActivity: () => void;
}

export interface WebSocketRelayOptions {
  pingMs: number;
  onOpen: () => void;
  onClose: () => void;
  onUpstreamError: (err: unknown) => void;
}

/** Answers a refused upgrade on the raw socket. */
export function rejectUpgrade(socket: Duplex, status: number, reason: string, extra = ''): void {
  if (socket.destroyed) return;
  const body = `${reason}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n${extra}\r\n${body}`,
  );
}

export class WebSocketRelays {
  readonly #opts: WebSocketRelayOptions;
  readonly #relays = new Set<Relay>();
  readonly #timer: NodeJS.Timeout | undefined;

  constructor(opts: WebSocketRelayOptions) {
    this.#opts = opts;
    if (opts.pingMs > 0) {
      this.#timer = setInterval(() => this.#pingIdle(), Math.max(50, Math.floor(opts.pingMs / 2)));
      this.#timer.unref();
    }
  }

  get size(): number {
    return this.#relays.size;
  }

  async relay(
    req: IncomingMessage,
    client: Duplex,
    head: Buffer,
    upstream: Upstream,
    path: string,
    headers: string[],
    onActivity: () => void,
  ): Promise<void> {
    let up: Duplex;
    let upHeaders: Record<string, string | string[] | undefined>;
    const abort = new AbortController();
    const onEarlyClose = () => abort.abort();
    client.once('close', onEarlyClose);
    client.on('error', () => {});
    try {
      const r = await upstream.pool.upgrade({
        path,
        method: req.method ?? 'GET',
        headers,
        protocol: 'websocket',
        signal: abort.signal,
      });
      up = r.socket;
      upHeaders = r.headers;
    } catch (err) {
      client.off('close', onEarlyClose);
      if (abort.signal.aborted) return;
      this.#opts.onUpstreamError(err);
      rejectUpgrade(client, 502, 'Bad Gateway');
      return;
    }
    client.off('close', onEarlyClose);
    if (client.destroyed) {
      up.destroy();
      return;
    }
    upstream.adopt(up);
    let response =
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n';
    const list = clientResponseHeaders(upHeaders);
    for (let i = 0; i < list.length; i += 2) response += `${list[i]}: ${list[i + 1]}\r\n`;
    client.write(`${response}\r\n`);
    if (head.length) up.write(head);

    const relay: Relay = {
      client,
      up,
      toClient: new FrameBoundaryTracker(),
      lastTraffic: Date.now(),
      onActivity,
    };
    this.#relays.add(relay);
    this.#opts.onOpen();
    for (const s of [client, up] as const) {
      (s as unknown as { setNoDelay?: (v: boolean) => void }).setNoDelay?.(true);
    }
    up.on('data', (chunk: Buffer) => {
      relay.toClient.feed(chunk);
      relay.lastTraffic = Date.now();
      relay.onActivity();
    });
    client.on('data', () => {
      relay.lastTraffic = Date.now();
      relay.onActivity();
    });
    up.pipe(client, { end: false });
    client.pipe(up, { end: false });

    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      this.#relays.delete(relay);
      this.#opts.onClose();
    };
    const upGone = (err?: Error) => {
      if (err) this.#opts.onUpstreamError(err);
      if (!client.destroyed) {
        // The tool went away without closing the WebSocket: tell the browser (1011).
        if (!relay.toClient.closeSeen && relay.toClient.atBoundary) client.write(closeFrame(1011));
        client.end();
        setTimeout(() => client.destroy(), 1_000).unref();
      }
      finish();
    };
    up.once('error', upGone);
    up.once('end', () => upGone());
    up.once('close', () => upGone());
    client.once('error', () => up.destroy());
    client.once('end', () => up.end());
    client.once('close', () => {
      up.destroy();
      finish();
    });
  }

  /** Ends every relayed connection (shutdown). */
  closeAll(): void {
    for (const r of this.#relays) {
      r.up.destroy();
      r.client.destroy();
    }
    this.#relays.clear();
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.closeAll();
  }

  #pingIdle(): void {
    const cutoff = Date.now() - this.#opts.pingMs;
    for (const r of this.#relays) {
      if (r.lastTraffic <= cutoff && r.toClient.atBoundary && !r.toClient.closeSeen) {
        r.client.write(PING_FRAME);
        r.lastTraffic = Date.now();
      }
    }
  }
}
