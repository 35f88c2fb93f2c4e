// Watch streams: `?watch=true` answers newline-delimited JSON watch events
// (`application/json;stream=watch`, as Kubernetes does), or server-sent events
// when the client accepts `text/event-stream`. Each event is flushed as it
// comes; a slow client gets backpressure, not an unbounded buffer.
//
// A too-old resourceVersion answers a plain 410 Status: the store checks it while
// setting the watch up, before any header is sent. A watch that falls behind
// later ends with an in-stream ERROR event carrying the Status, as in Kubernetes.
import type { BerthObject } from '../../crds/index.ts';
import type { WatchEvent } from '../../store/index.ts';
import { type ReadView, readView } from '../data-access.ts';
import { toApiError } from '../errors.ts';
import { type ListQuery, parseFieldSelector } from '../query.ts';
import type { Call } from './call.ts';

type Step = IteratorResult<WatchEvent>;

function wantsEventStream(accept: string | undefined): boolean {
  return !!accept && /(^|,)\s*text\/event-stream\s*(;|,|$)/i.test(accept);
}

function lastEventId(header: string | string[] | undefined): string | undefined {
  return typeof header === 'string' && /^(0|[1-9][0-9]{0,15})$/.test(header) ? header : undefined;
}

export async function serveWatch(c: Call, q: ListQuery): Promise<void> {
  const { deps, req, p } = c;
  const sse = wantsEventStream(req.headers.accept);
  const matchesFields = parseFieldSelector(q.fieldSelector);
  const release = deps.watches.acquire(p.tokenId ?? `user:${p.name}`);
  const abort = new AbortController();
  // By its credential: a revocation (api/credential-recheck.ts) ends this watch.
  deps.watches.track(abort, p);
  // The client may go away at any moment, also while the watch is being set up
  // (before stream() runs): then 'close' has been emitted already and would never
  // come again, and the watch would hold its slot until maxWatchMs.
  if (req.raw.socket.destroyed) abort.abort();
  else c.reply.raw.once('close', () => abort.abort());
  let iterator: AsyncIterator<WatchEvent> | undefined;
  try {
    const resourceVersion =
      q.resourceVersion ?? (sse ? lastEventId(req.headers['last-event-id']) : undefined);
    const iterable = await deps.store.watch(c.kind.kind, {
      ...(c.scope.namespace !== undefined ? { namespace: c.scope.namespace } : {}),
      ...(q.labelSelector ? { labelSelector: q.labelSelector } : {}),
      ...(resourceVersion !== undefined ? { resourceVersion } : {}),
      ...(q.allowWatchBookmarks
        ? { allowBookmarks: true, bookmarkIntervalMs: deps.config.heartbeatMs }
        : {}),
      signal: abort.signal,
    });
    iterator = iterable[Symbol.asyncIterator]();
    const view = await readView(deps.store, p, c.kind, c.scope.namespace);
    await stream(c, q, sse, iterator, abort, release, matchesFields, view);
  } catch (err) {
    abort.abort();
    release();
    void iterator?.return?.().catch(() => {});
    throw err;
  }
}

async function stream(
  c: Call,
  q: ListQuery,
  sse: boolean,
  iterator: AsyncIterator<WatchEvent>,
  abort: AbortController,
  release: () => void,
  matchesFields: ReturnType<typeof parseFieldSelector>,
  view: ReadView,
): Promise<void> {
  const { deps, reply, req } = c;
  const started = process.hrtime.bigint();
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': sse ? 'text/event-stream; charset=utf-8' : 'application/json;stream=watch',
    'cache-control': 'no-cache, no-store',
    'x-content-type-options': 'nosniff',
    ...(sse ? { 'x-accel-buffering': 'no' } : {}),
  });
  res.flushHeaders();
  deps.metrics.openWatches.inc();

  const maxSeconds = deps.config.maxWatchMs / 1000;
  const seconds = q.timeoutSeconds ? Math.min(q.timeoutSeconds, maxSeconds) : maxSeconds;
  const timer = setTimeout(() => abort.abort(), seconds * 1000);
  const heartbeat = sse
    ? setInterval(() => {
        if (!res.writableEnded) res.write(': heartbeat\n\n');
      }, deps.config.heartbeatMs)
    : undefined;
  const aborted = new Promise<Step>((resolve) => {
    if (abort.signal.aborted) resolve({ done: true, value: undefined });
    abort.signal.addEventListener('abort', () => resolve({ done: true, value: undefined }), {
      once: true,
    });
  });

  // Objects this client was shown; one that stops being visible is reported deleted.
  const shown = new Set<string>();

  const write = async (event: WatchEvent): Promise<void> => {
    const json = JSON.stringify(event);
    const rv = event.object?.metadata?.resourceVersion;
    const chunk = sse ? `${rv ? `id: ${rv}\n` : ''}data: ${json}\n\n` : `${json}\n`;
    if (!res.write(chunk)) {
      // A gone client never drains: the abort (its 'close', shutdown, timeout) ends the wait.
      await Promise.race([new Promise((r) => res.once('drain', r)), aborted]);
    }
  };

  try {
    for (;;) {
      const next = iterator.next();
      // When the abort wins the race, a later rejection of `next` must not go unhandled.
      next.catch(() => {});
      const step = await Promise.race([next, aborted]);
      if (step.done || abort.signal.aborted) break;
      const event = step.value;
      if (view.filtering) await view.refresh();
      const out = filterEvent(event, view, matchesFields, shown);
      if (out) await write(out);
    }
  } catch (err) {
    if (!abort.signal.aborted) {
      const status = toApiError(err, deps.config).toStatus();
      if (status.code >= 500) req.log.error({ err }, 'watch failed');
      if (!res.writableEnded)
        await write({ type: 'ERROR', object: status as unknown as BerthObject }).catch(() => {});
    }
  } finally {
    clearTimeout(timer);
    if (heartbeat) clearInterval(heartbeat);
    abort.abort();
    void iterator.return?.().catch(() => {});
    release();
    deps.metrics.openWatches.dec();
    deps.metrics.requests.inc({ method: 'GET', route: routeOf(req), code: '200' });
    req.log.debug(
      { watchSeconds: Number(process.hrtime.bigint() - started) / 1e9 },
      'watch closed',
    );
    if (!res.writableEnded) res.end();
  }
}

function routeOf(req: Call['req']): string {
  return req.routeOptions.url ?? 'unmatched';
}

function keyOf(obj: BerthObject): string {
  return `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
}

/** The event as this client may see it, or undefined to skip it. */
function filterEvent(
  event: WatchEvent,
  view: ReadView,
  matchesFields: ReturnType<typeof parseFieldSelector>,
  shown: Set<string>,
): WatchEvent | undefined {
  if (event.type === 'BOOKMARK' || event.type === 'ERROR') return event;
  if (matchesFields && !matchesFields(event.object)) return undefined;
  const object = view.shape(event.object);
  if (!view.filtering) return object === event.object ? event : { type: event.type, object };
  const key = keyOf(object);
  const wasShown = shown.has(key);
  if (event.type === 'DELETED') {
    shown.delete(key);
    return wasShown ? { type: 'DELETED', object } : undefined;
  }
  if (view.visible(object)) {
    shown.add(key);
    return { type: wasShown ? event.type : 'ADDED', object };
  }
  if (wasShown) {
    shown.delete(key);
    return { type: 'DELETED', object };
  }
  return undefined;
}
