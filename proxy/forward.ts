// HTTP forwarding through an Upstream's undici Pool with a dispatch handler:
// response bytes are written to the client as they arrive and the upstream is
// paused whenever the client's socket is full (backpressure); request bodies are
// streamed by undici from the IncomingMessage, which it pauses likewise. Nothing
// is buffered whole. Errors before the response headers become a 502 (refused,
// reset) or 504 (timeout) page; after them, the client's connection is destroyed
// so it sees an incomplete response rather than a truncated "success".
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { clientResponseHeaders, withToolSecret } from './headers.ts';
import { sendError } from './pages/errors.ts';
import type { Upstream } from './upstream.ts';

export type UpstreamErrorKind = 'refused' | 'reset' | 'timeout' | 'aborted' | 'other';

/**
 * Where a forwarded exchange reports to: one long-lived object per server (no
 * per-request closures). `onResponse` gets the status and the performance.now()
 * at which the request arrived, or -1 when the caller counts the response itself.
 */
export interface ForwardHooks {
  onResponse(status: number, startedAt: number): void;
  onUpstreamError(kind: UpstreamErrorKind): void;
}

export function classifyError(err: unknown): UpstreamErrorKind {
  const code = (err as { code?: string }).code ?? '';
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'ETIMEDOUT':
      return 'timeout';
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return 'refused';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
    case 'UND_ERR_DESTROYED':
      return 'reset';
    case 'UND_ERR_ABORTED':
    case 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH':
      return 'aborted';
    default:
      return 'other';
  }
}

function hasBody(req: IncomingMessage): boolean {
  const h = req.headers;
  if (h['transfer-encoding'] !== undefined) return true;
  const cl = h['content-length'];
  return cl !== undefined && cl !== '0';
}

/** The reason an upstream request is aborted with when its client has gone. */
export const CLIENT_GONE = Object.assign(new Error('client went away'), {
  code: 'UND_ERR_ABORTED',
});

/**
 * One request/response through the upstream: the undici dispatch handler itself,
 * so a forwarded request allocates this object, one close listener and, only when
 * the client's socket fills up, one drain listener.
 */
class Exchange implements Dispatcher.DispatchHandler {
  readonly res: ServerResponse;
  readonly hooks: ForwardHooks;
  readonly startedAt: number;
  readonly setCookieFilter: ((values: string[]) => string[]) | undefined;
  controller: Dispatcher.DispatchController | undefined;
  done = false;
  #onDrain: (() => void) | undefined;

  constructor(
    res: ServerResponse,
    hooks: ForwardHooks,
    startedAt: number,
    setCookieFilter: ((values: string[]) => string[]) | undefined,
  ) {
    this.res = res;
    this.hooks = hooks;
    this.startedAt = startedAt;
    this.setCookieFilter = setCookieFilter;
  }

  /** The client's side closed: if the exchange is still running, abort the upstream side. */
  readonly clientClosed = (): void => {
    if (this.done) return;
    this.done = true;
    this.controller?.abort(CLIENT_GONE);
  };

  onRequestStart(c: Dispatcher.DispatchController): void {
    this.controller = c;
    if (this.done) c.abort(CLIENT_GONE);
  }

  onResponseStart(
    _c: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    statusMessage?: string,
  ): void {
    if (statusCode < 200) return; // 1xx: Node answers Expect itself; others are dropped
    // No cork of our own: Node holds the head until the first body write or end(),
    // sends head and first chunk in one writev, and batches a chunked body's framing
    // within the tick itself, so a small response already leaves in one syscall.
    const res = this.res;
    const list = clientResponseHeaders(headers, this.setCookieFilter);
    if (statusMessage) res.writeHead(statusCode, statusMessage, list);
    else res.writeHead(statusCode, list);
    this.hooks.onResponse(statusCode, this.startedAt);
  }

  onResponseData(c: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.res.write(chunk)) return;
    // Backpressure: pause the upstream until the client's socket drains.
    c.pause();
    this.#onDrain ??= () => this.controller?.resume();
    this.res.once('drain', this.#onDrain);
  }

  onResponseEnd(): void {
    this.done = true;
    this.res.end();
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    const wasDone = this.done;
    this.done = true;
    const kind = classifyError(err);
    if (wasDone && kind === 'aborted') return;
    this.hooks.onUpstreamError(kind);
    const res = this.res;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (kind === 'timeout') {
      this.hooks.onResponse(504, this.startedAt);
      sendError(res, 504, 'The tool did not answer in time. Try again in a moment.');
    } else {
      this.hooks.onResponse(502, this.startedAt);
      sendError(res, 502, 'The tool refused or dropped the connection. It may be restarting.');
    }
  }
}

/**
 * Sends the request to `upstream` and streams the answer back. `startedAt` is
 * passed to hooks.onResponse (-1: the caller counts the response itself).
 */
export function forward(
  req: IncomingMessage,
  res: ServerResponse,
  upstream: Upstream,
  path: string,
  headers: string[],
  hooks: ForwardHooks,
  startedAt = -1,
): void {
  // The client may have gone while the request was authenticated or launched: its
  // 'close' came already and would not come again, so an exchange started now would
  // never be aborted (an endless stream would stay open at the tool for good).
  if (req.socket.destroyed) return;
  const exchange = new Exchange(res, hooks, startedAt, upstream.setCookieFilter);
  // 'close' comes once per response: `on` spares the wrapper and removal `once` makes.
  res.on('close', exchange.clientClosed);
  upstream.pool.dispatch(
    {
      path,
      method: req.method as Dispatcher.HttpMethod,
      headers: withToolSecret(headers, upstream),
      body: hasBody(req) ? req : null,
    },
    exchange,
  );
}
