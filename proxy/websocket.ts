// WebSocket relay: the upgrade goes to the tool through undici (upgrade.ts, with
// the client's Sec-WebSocket-* headers, so subprotocols and extensions are
// negotiated by the tool itself; a tool's refusal reaches the browser as the tool
// gave it); once the tool answers 101 the two sockets are
// piped both ways, byte for byte, so every frame, close code included, passes
// unchanged with TCP backpressure. The proxy adds only: a ping to the browser on
// an idle connection (load balancers drop quiet ones), a 1011 close frame
// when the tool's socket dies without closing the WebSocket, and a 1008 close
// frame when the credential that opened it is revoked or loses access to the
// tool (proxy/connection-guard.ts finds those; relays are kept by credential).
// Only data frames from the browser count as use of the tool (activity): pings,
// pongs and closes from either side, and anything the tool sends, do not, so an
// open tab whose only traffic is keep-alive lets an idle tool be culled.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { clientResponseHeaders } from './headers.ts';
import { upgradeThrough } from './upgrade.ts';
import type { Upstream } from './upstream.ts';
import { closeFrame, FrameBoundaryTracker, PING_FRAME } from './ws-frames.ts';

/** Who opened a relayed WebSocket to which tool: what the connection guard re-checks. */
export interface RelayOwner {
  /** `t:<token id>` or `s:<session id>` (Identity.liveCredentials's keys). */
  credential: string;
  namespace: string;
  instance: string;
  hostname: string;
}

/**
 * One relayed WebSocket: both sockets, a frame tracker per direction and the
 * idle bookkeeping. Bytes are moved by one 'data' listener per direction
 * (write, pause on a full socket, resume on drain) rather than two pipe()s,
 * which keeps an idle connection to a handful of small objects. Traffic only
 * sets flags (any bytes: `traffic`, for the idle ping; a browser's data frame:
 * `fromClient.dataSeen`, for activity); the sweep turns them into a timestamp
 * and an activity record, so a frame costs no clock read and no Map write.
 */
export class Relay {
  readonly client: Duplex;
  readonly up: Duplex;
  readonly toClient = new FrameBoundaryTracker();
  /** The browser's frames: a data frame among them is a person's use of the tool. */
  readonly fromClient = new FrameBoundaryTracker();
  readonly onActivity: () => void;
  readonly owner: RelayOwner | undefined;
  lastTraffic: number;
  /** Bytes moved either way since the last sweep (a quiet connection gets a ping). */
  traffic = false;
  finished = false;

  constructor(
    client: Duplex,
    up: Duplex,
    onActivity: () => void,
    now: number,
    owner: RelayOwner | undefined,
  ) {
    this.client = client;
    this.up = up;
    this.onActivity = onActivity;
    this.lastTraffic = now;
    this.owner = owner;
  }

  readonly onUpData = (chunk: Buffer): void => {
    this.toClient.feed(chunk);
    this.traffic = true;
    if (!this.client.write(chunk)) this.up.pause();
  };

  readonly onClientData = (chunk: Buffer): void => {
    this.fromClient.feed(chunk);
    this.traffic = true;
    if (!this.up.write(chunk)) this.client.pause();
  };

  /** True once per sweep when the browser sent a data frame since the last one. */
  takeUse(): boolean {
    if (!this.fromClient.dataSeen) return false;
    this.fromClient.dataSeen = false;
    return true;
  }

  readonly resumeUp = (): void => {
    this.up.resume();
  };

  readonly resumeClient = (): void => {
    this.client.resume();
  };
}

export interface WebSocketRelayOptions {
  pingMs: number;
  onOpen: () => void;
  onClose: () => void;
  onUpstreamError: (err: unknown) => void;
}

/** Answers a refused upgrade on the raw socket (`message`: the body, else the reason). */
export function rejectUpgrade(
  socket: Duplex,
  status: number,
  reason: string,
  extra = '',
  message = reason,
): void {
  if (socket.destroyed) return;
  const body = `${message.replace(/[\r\n]/g, ' ')}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n${extra}\r\n${body}`,
  );
}

export class WebSocketRelays {
  readonly #opts: WebSocketRelayOptions;
  readonly #relays = new Set<Relay>();
  /** Tool relays by credential key: added and removed as connections open and end, never per frame. */
  readonly #byCredential = new Map<string, Set<Relay>>();
  readonly #timer: NodeJS.Timeout;

  constructor(opts: WebSocketRelayOptions) {
    this.#opts = opts;
    // Also runs without pings: it records the activity that frames flag.
    const every = opts.pingMs > 0 ? Math.max(50, Math.floor(opts.pingMs / 2)) : 15_000;
    this.#timer = setInterval(() => this.#sweep(), every);
    this.#timer.unref();
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
    owner?: RelayOwner,
  ): Promise<void> {
    client.on('error', () => {});
    const outcome = await upgradeThrough(
      upstream,
      { path, method: req.method ?? 'GET', headers },
      client,
    );
    if (outcome.kind === 'answered') return; // the tool's own refusal reached the browser
    if (outcome.kind === 'failed') {
      if (outcome.clientGone) return;
      this.#opts.onUpstreamError(outcome.error);
      rejectUpgrade(client, 502, 'Bad Gateway');
      return;
    }
    const up = outcome.socket;
    const upHeaders = outcome.headers;
    if (client.destroyed) {
      up.destroy();
      return;
    }
    upstream.adopt(up);
    let response =
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n';
    const list = clientResponseHeaders(upHeaders, upstream.setCookieFilter);
    for (let i = 0; i < list.length; i += 2) response += `${list[i]}: ${list[i + 1]}\r\n`;
    client.write(`${response}\r\n`);
    const relay = new Relay(client, up, onActivity, Date.now(), owner);
    if (head.length) {
      relay.fromClient.feed(head);
      up.write(head);
    }

    this.#relays.add(relay);
    if (owner) {
      let set = this.#byCredential.get(owner.credential);
      if (!set) {
        set = new Set();
        this.#byCredential.set(owner.credential, set);
      }
      set.add(relay);
    }
    this.#opts.onOpen();
    (client as unknown as { setNoDelay?: (v: boolean) => void }).setNoDelay?.(true);
    (up as unknown as { setNoDelay?: (v: boolean) => void }).setNoDelay?.(true);
    up.on('data', relay.onUpData);
    client.on('data', relay.onClientData);
    client.on('drain', relay.resumeUp);
    up.on('drain', relay.resumeClient);

    const finish = () => {
      if (relay.finished) return;
      relay.finished = true;
      if (relay.takeUse()) relay.onActivity();
      this.#relays.delete(relay);
      if (owner) {
        const set = this.#byCredential.get(owner.credential);
        set?.delete(relay);
        if (set?.size === 0) this.#byCredential.delete(owner.credential);
      }
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
    up.once('end', upGone);
    up.once('close', upGone);
    client.once('error', () => up.destroy());
    client.once('end', () => up.end());
    client.once('close', () => {
      up.destroy();
      finish();
    });
  }

  /** Open tool relays, by the credential that opened them. */
  get byCredential(): ReadonlyMap<string, ReadonlySet<Relay>> {
    return this.#byCredential;
  }

  /**
   * Ends a relay for policy (credential revoked, access lost): a 1008 close frame
   * to the browser when between frames (else the connection is cut), then both
   * sockets end. Nothing more from the tool reaches the browser.
   */
  closeForPolicy(r: Relay): void {
    if (r.finished) return;
    r.up.off('data', r.onUpData);
    r.client.off('data', r.onClientData);
    if (r.toClient.atBoundary && !r.toClient.closeSeen && !r.client.destroyed) {
      const frame = closeFrame(1008);
      // Fed to the tracker too, so that the tool's socket ending adds no 1011 after it.
      r.toClient.feed(frame);
      r.client.write(frame);
      r.client.end();
      setTimeout(() => r.client.destroy(), 1_000).unref();
    } else {
      r.client.destroy();
    }
    r.up.destroy();
  }

  /** Ends every relayed connection (shutdown). */
  closeAll(): void {
    for (const r of this.#relays) {
      r.up.destroy();
      r.client.destroy();
    }
    this.#relays.clear();
    this.#byCredential.clear();
  }

  close(): void {
    clearInterval(this.#timer);
    this.closeAll();
  }

  /** Turns traffic flags into activity and timestamps; pings connections quiet for pingMs. */
  #sweep(): void {
    const now = Date.now();
    const pingMs = this.#opts.pingMs;
    for (const r of this.#relays) {
      if (r.takeUse()) r.onActivity();
      if (r.traffic) {
        r.traffic = false;
        r.lastTraffic = now;
      } else if (
        pingMs > 0 &&
        now - r.lastTraffic >= pingMs &&
        r.toClient.atBoundary &&
        !r.toClient.closeSeen
      ) {
        r.client.write(PING_FRAME);
        r.lastTraffic = now;
      }
    }
  }
}
