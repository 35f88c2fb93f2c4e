// The HTTP client for berth's Kubernetes-shaped API: bearer token, timeouts,
// Status bodies turned into ApiError carrying the server's message, and watch
// streams read as newline-delimited JSON. It uses Node's built-in fetch (which
// is undici) rather than importing the undici package: that halves the CLI's
// start-up cost, which every command pays.

import {
  API_VERSION,
  ApiError,
  type BerthObject,
  type KindInfo,
  type Status,
} from '../crds/index.ts';
import { CliError } from './errors.ts';

export const API_PREFIX = `/apis/${API_VERSION}`;

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: BerthObject & Partial<Status>;
}

export interface ListResult {
  items: BerthObject[];
  metadata: { resourceVersion?: string; continue?: string };
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
}

/** The path of a kind's collection (ns undefined: every namespace) or of one object. */
export function resourcePath(
  info: KindInfo,
  ns: string | undefined,
  name?: string,
  sub?: string,
): string {
  let p = API_PREFIX;
  if (info.namespaced && ns) p += `/namespaces/${encodeURIComponent(ns)}`;
  p += `/${info.plural}`;
  if (name !== undefined) p += `/${encodeURIComponent(name)}`;
  if (sub) p += `/${sub}`;
  return p;
}

function connectionCode(err: unknown): string | undefined {
  const seen = new Set<unknown>();
  const stack = [err];
  while (stack.length) {
    const e = stack.pop() as { code?: unknown; cause?: unknown; errors?: unknown[] } | undefined;
    if (!e || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    if (typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)) return e.code;
    if (e.cause) stack.push(e.cause);
    if (Array.isArray(e.errors)) stack.push(...e.errors);
  }
  return undefined;
}

function isStatus(v: unknown): v is Status {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'Status';
}

export class ApiClient {
  readonly server: string;
  readonly token: string | undefined;
  readonly timeoutMs: number;

  constructor(opts: { server: string; token: string | undefined; timeoutMs?: number }) {
    this.server = opts.server.replace(/\/+$/, '');
    this.token = opts.token;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  private url(path: string, query?: RequestOptions['query']): string {
    const u = new URL(this.server + path);
    for (const [k, v] of Object.entries(query ?? {}))
      if (v !== undefined && v !== '') u.searchParams.set(k, String(v));
    return u.toString();
  }

  private headers(contentType?: string): Record<string, string> {
    const h: Record<string, string> = { accept: 'application/json', 'user-agent': 'berth-cli' };
    if (this.token) h.authorization = `Bearer ${this.token}`;
    if (contentType) h['content-type'] = contentType;
    return h;
  }

  private connectionError(err: unknown): Error {
    if (err instanceof Error && err.name === 'TimeoutError') {
      return new CliError(
        `the berth API at ${this.server} did not answer within ${this.timeoutMs / 1000}s`,
      );
    }
    if (err instanceof Error && err.name === 'AbortError') return err;
    // fetch refuses the ports browsers block (6000, 6665-6669, 10080, ...).
    if (err instanceof Error && err.cause instanceof Error && err.cause.message === 'bad port') {
      return new CliError(
        `cannot connect to the berth API at ${this.server}: fetch refuses that port (one browsers block as unsafe); run the API on another port, e.g. 8080`,
      );
    }
    const code = connectionCode(err);
    const hint =
      'Start one with `make run`, or point the CLI at another with `berth config set server URL` or BERTH_SERVER.';
    if (code === 'ECONNREFUSED')
      return new CliError(
        `cannot connect to the berth API at ${this.server} (connection refused). ${hint}`,
      );
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
      return new CliError(`cannot resolve the berth API host in ${this.server}. ${hint}`);
    if (
      code === 'UND_ERR_HEADERS_TIMEOUT' ||
      code === 'UND_ERR_BODY_TIMEOUT' ||
      code === 'UND_ERR_CONNECT_TIMEOUT'
    ) {
      return new CliError(
        `the berth API at ${this.server} did not answer within ${this.timeoutMs / 1000}s`,
      );
    }
    return new CliError(
      `request to the berth API at ${this.server} failed: ${(err as Error).message}${code ? ` (${code})` : ''}`,
    );
  }

  /** Turns a non-2xx answer into an ApiError with the server's message (and a hint for 401). */
  private toApiError(statusCode: number, text: string): ApiError {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (statusCode === 401) {
      const how =
        'Set one with `berth config set token TOKEN` or BERTH_TOKEN (an admin creates tokens with `berth token create --user NAME`).';
      const what = this.token
        ? 'the token was rejected (invalid, expired or revoked)'
        : 'no token is configured';
      return new ApiError('Unauthorized', `unauthorized: ${what}. ${how}`);
    }
    if (isStatus(body)) return ApiError.fromStatus(body);
    const reason =
      statusCode === 403
        ? 'Forbidden'
        : statusCode === 404
          ? 'NotFound'
          : statusCode >= 500
            ? 'InternalError'
            : 'BadRequest';
    return new ApiError(
      reason,
      `the server answered ${statusCode}: ${text.slice(0, 500) || '(empty body)'}`,
    );
  }

  /** The caller's signal (if any) combined with the request timeout. */
  private signal(signal: AbortSignal | undefined): AbortSignal {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    return signal ? AbortSignal.any([signal, timeout]) : timeout;
  }

  async send<T = unknown>(
    method: string,
    path: string,
    opts: RequestOptions = {},
  ): Promise<{ status: number; body: T }> {
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    let status: number;
    let text: string;
    try {
      const res = await fetch(this.url(path, opts.query), {
        method,
        headers: this.headers(
          payload === undefined ? undefined : (opts.contentType ?? 'application/json'),
        ),
        body: payload,
        signal: this.signal(opts.signal),
      });
      status = res.status;
      text = await res.text();
    } catch (err) {
      throw this.connectionError(err);
    }
    if (status >= 400) throw this.toApiError(status, text);
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      throw new CliError(
        `the berth API at ${this.server} answered with something that is not JSON (is BERTH_SERVER right?)`,
      );
    }
    return { status, body: body as T };
  }

  async get<T = BerthObject>(path: string, query?: RequestOptions['query']): Promise<T> {
    return (await this.send<T>('GET', path, { query })).body;
  }

  /** Lists a collection page by page (`limit`/`continue`), calling onPage for each. */
  async listAll(
    path: string,
    opts: {
      labelSelector?: string;
      chunkSize?: number;
      onPage?: (items: BerthObject[]) => void;
    } = {},
  ): Promise<ListResult> {
    const items: BerthObject[] = [];
    let cont: string | undefined;
    let resourceVersion: string | undefined;
    do {
      const page = await this.get<ListResult>(path, {
        labelSelector: opts.labelSelector,
        limit: opts.chunkSize && opts.chunkSize > 0 ? opts.chunkSize : undefined,
        continue: cont,
      });
      // The first page's resourceVersion is the snapshot the whole list is consistent with.
      resourceVersion ??= page.metadata?.resourceVersion;
      opts.onPage?.(page.items ?? []);
      if (!opts.onPage) items.push(...(page.items ?? []));
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return { items, metadata: { resourceVersion } };
  }

  /**
   * Streams watch events from `path` starting after resourceVersion until the
   * signal aborts or the server closes the stream. 410 Gone surfaces as ApiError.
   */
  async *watch(
    path: string,
    opts: { resourceVersion?: string; labelSelector?: string; signal?: AbortSignal },
  ): AsyncGenerator<WatchEvent> {
    let res: Response;
    try {
      res = await fetch(
        this.url(path, {
          watch: 'true',
          resourceVersion: opts.resourceVersion,
          labelSelector: opts.labelSelector,
        }),
        { method: 'GET', headers: this.headers(), signal: opts.signal },
      );
    } catch (err) {
      throw this.connectionError(err);
    }
    if (res.status >= 400) throw this.toApiError(res.status, await res.text());
    if (!res.body) return;
    const decoder = new TextDecoder();
    let buffered = '';
    try {
      for await (const chunk of res.body) {
        buffered += decoder.decode(chunk, { stream: true });
        let nl = buffered.indexOf('\n');
        while (nl >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          nl = buffered.indexOf('\n');
          if (!line) continue;
          const event = JSON.parse(line) as WatchEvent;
          if (event.type === 'ERROR' && isStatus(event.object))
            throw ApiError.fromStatus(event.object);
          yield event;
        }
      }
    } catch (err) {
      if (err instanceof ApiError || opts.signal?.aborted) throw err;
      throw this.connectionError(err);
    } finally {
      // Ends the stream (and its connection) when the consumer stops early.
      await res.body.cancel().catch(() => {});
    }
  }
}
