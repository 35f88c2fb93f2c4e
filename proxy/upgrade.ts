// The WebSocket upgrade request to the tool, through an undici dispatch with
// `upgrade` set. A 101 hands over the tool's socket; any other answer (a tool
// refusing the WebSocket: 400 for a bad key, 403, 404 for an unknown kernel) is
// passed to the browser as the tool gave it (status, headers but hop-by-hop ones,
// body), delimited by closing the connection, instead of becoming a 502.
import type { IncomingHttpHeaders } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import { CLIENT_GONE } from './forward.ts';
import { clientResponseHeaders, withToolSecret } from './headers.ts';
import type { Upstream } from './upstream.ts';

export type UpgradeOutcome =
  | { kind: 'upgraded'; socket: Duplex; headers: IncomingHttpHeaders }
  /** The tool answered without upgrading; that answer went to the client. */
  | { kind: 'answered'; status: number }
  /** Nothing reached the client (refused, reset, timed out, or the client left). */
  | { kind: 'failed'; error: Error; clientGone: boolean };

class UpgradeExchange implements Dispatcher.DispatchHandler {
  readonly #client: Duplex;
  readonly #resolve: (o: UpgradeOutcome) => void;
  readonly #setCookieFilter: ((values: string[]) => string[]) | undefined;
  #controller: Dispatcher.DispatchController | undefined;
  #status = 0;
  #settled = false;

  constructor(
    client: Duplex,
    resolve: (o: UpgradeOutcome) => void,
    setCookieFilter: ((values: string[]) => string[]) | undefined,
  ) {
    this.#client = client;
    this.#resolve = resolve;
    this.#setCookieFilter = setCookieFilter;
    client.once('close', this.#clientClosed);
  }

  readonly #clientClosed = (): void => {
    this.#controller?.abort(CLIENT_GONE);
  };

  #settle(o: UpgradeOutcome): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#client.off('close', this.#clientClosed);
    this.#resolve(o);
  }

  onRequestStart(c: Dispatcher.DispatchController): void {
    this.#controller = c;
    if (this.#client.destroyed) c.abort(CLIENT_GONE);
  }

  onRequestUpgrade(
    _c: Dispatcher.DispatchController,
    _statusCode: number,
    headers: IncomingHttpHeaders,
    socket: Duplex,
  ): void {
    this.#settle({ kind: 'upgraded', socket, headers });
  }

  onResponseStart(
    _c: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    statusMessage?: string,
  ): void {
    if (statusCode < 200) return;
    this.#status = statusCode;
    const reason = (statusMessage || STATUS_CODES[statusCode] || '').replace(/[^\t\x20-\x7e]/g, '');
    let head = `HTTP/1.1 ${statusCode} ${reason}\r\n`;
    // Header values come from undici's parser, which refuses CR and LF in them.
    const list = clientResponseHeaders(headers, this.#setCookieFilter);
    for (let i = 0; i < list.length; i += 2) head += `${list[i]}: ${list[i + 1]}\r\n`;
    // Transfer-Encoding is hop-by-hop and undici hands over the decoded body: the
    // end of this response is the end of the connection.
    this.#client.write(`${head}Connection: close\r\n\r\n`);
  }

  onResponseData(c: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#client.write(chunk)) return;
    c.pause();
    this.#client.once('drain', () => c.resume());
  }

  onResponseEnd(): void {
    this.#client.end();
    this.#settle({ kind: 'answered', status: this.#status });
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    if (this.#status !== 0) {
      // Part of the tool's answer went out: the client must not take it as whole.
      this.#client.destroy();
      this.#settle({ kind: 'answered', status: this.#status });
      return;
    }
    this.#settle({
      kind: 'failed',
      error: err,
      clientGone: err === CLIENT_GONE || this.#client.destroyed,
    });
  }
}

/** Sends the upgrade request for `client` to `upstream`; see UpgradeOutcome. */
export function upgradeThrough(
  upstream: Upstream,
  opts: { path: string; method: string; headers: string[] },
  client: Duplex,
): Promise<UpgradeOutcome> {
  return new Promise((resolve) => {
    upstream.pool.dispatch(
      {
        path: opts.path,
        method: opts.method as Dispatcher.HttpMethod,
        headers: withToolSecret(opts.headers, upstream),
        upgrade: 'websocket',
      },
      new UpgradeExchange(client, resolve, upstream.setCookieFilter),
    );
  });
}
