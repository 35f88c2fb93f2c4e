// HTTP forwarding through an Upstream's undici Pool with a dispatch handler:
// response bytes are written to the client as they arrive and the upstream is
// paused whenever the client's socket is full (backpressure); request bodies are
// streamed by undici from the IncomingMessage, which it pauses likewise. Nothing
// is buffered whole. Errors before the response headers become a 502 (refused,
// reset) or 504 (timeout) page; after them, the client's connection is destroyed
// so it sees an incomplete response rather than a truncated "success".
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { clientResponseHeaders } from './headers.ts';
import { sendError } from './pages/errors.ts';
import type { Upstream } from './upstream.ts';

export type UpstreamErrorKind = 'refused' | 'reset' | 'timeout' | 'aborted' | 'other';

export interface ForwardHooks {
  /** Response headers went out with this status. */
  onResponse(status: number): void;
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
  const te = req.headers['transfer-encoding'];
  if (te !== undefined) return true;
  const cl = req.headers['content-length'];
  return cl !== undefined && cl !== '0';
}

export function forward(
  req: IncomingMessage,
  res: ServerResponse,
  upstream: Upstream,
  path: string,
  headers: string[],
  hooks: ForwardHooks,
): void {
  let controller: Dispatcher.DispatchController | undefined;
  let done = false;
  const onDrain = () => controller?.resume();
  res.on('drain', onDrain);
  res.once('close', () => {
    if (!done) {
      done = true;
      controller?.abort(Object.assign(new Error('client went away'), { code: 'UND_ERR_ABORTED' }));
    }
  });
  const handler: Dispatcher.DispatchHandler = {
    onRequestStart(c) {
      controller = c;
      if (done) c.abort(Object.assign(new Error('client went away'), { code: 'UND_ERR_ABORTED' }));
    },
    onResponseStart(_c, statusCode, upstreamHeaders, statusMessage) {
      if (statusCode < 200) return; // 1xx: Node answers Expect itself; others are dropped
      const list = clientResponseHeaders(upstreamHeaders);
      if (statusMessage) res.writeHead(statusCode, statusMessage, list);
      else res.writeHead(statusCode, list);
      hooks.onResponse(statusCode);
    },
    onResponseData(c, chunk) {
      if (!res.write(chunk)) c.pause();
    },
    onResponseEnd() {
      done = true;
      res.end();
    },
    onResponseError(_c, err) {
      const wasDone = done;
      done = true;
      const kind = classifyError(err);
      if (wasDone && kind === 'aborted') return;
      hooks.onUpstreamError(kind);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (kind === 'timeout') {
        hooks.onResponse(504);
        sendError(res, 504, 'The tool did not answer in time. Try again in a moment.');
      } else {
        hooks.onResponse(502);
        sendError(res, 502, 'The tool refused or dropped the connection. It may be restarting.');
      }
    },
  };
  upstream.pool.dispatch(
    {
      path,
      method: req.method as Dispatcher.HttpMethod,
      headers,
      body: hasBody(req) ? req : null,
    },
    handler,
  );
}
