// The public API, as the CLI uses it: fetch for reads and writes (the session
// cookie rides along; writes carry the CSRF token), and server-sent events for
// watches (`?watch=true` with Accept: text/event-stream, which EventSource sends).
export const BASE = '/apis/berth/v1alpha1';

export class ApiClient {
  /** @param {{csrfToken: string, csrfHeader: string}} session */
  constructor(session) {
    this.session = session;
  }

  async request(method, path, body, contentType = 'application/json') {
    const headers = { accept: 'application/json' };
    if (method !== 'GET') headers[this.session.csrfHeader] = this.session.csrfToken;
    if (body !== undefined) headers['content-type'] = contentType;
    const res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status === 401) {
      location.assign(`/auth/sign-in?next=${encodeURIComponent(location.pathname)}`);
      throw new Error('signed out');
    }
    const json = await res.json().catch(() => ({}));
    if (!res.ok) {
      const err = new Error(json.message || `${method} failed (${res.status})`);
      err.status = res.status;
      err.reason = json.reason;
      throw err;
    }
    return json;
  }

  get(path) {
    return this.request('GET', path);
  }

  /** Server-side apply of a whole object (create or update in one call). */
  apply(path, object) {
    return this.request(
      'PATCH',
      `${path}?fieldManager=berth-ui`,
      object,
      'application/apply-patch+json',
    );
  }

  mergePatch(path, patch) {
    return this.request('PATCH', path, patch, 'application/merge-patch+json');
  }
}

/** Every live collection, so that only the shown page's watches hold connections. */
const collections = new Set();
let shownPage = 'tools';

/**
 * Shows `page`'s watches and closes every other page's: a browser opens at most
 * six HTTP/1.1 connections to one host, and every watch holds one, so the pages'
 * watches together would leave none for the page's own reads and writes.
 * A page's collections list again when it is shown.
 */
export function showWatches(page) {
  shownPage = page;
  for (const c of collections) {
    if (c.page === page || c.page === '*') c.resume();
    else c.pause();
  }
}

/**
 * A live collection: list, then watch from the list's resourceVersion over SSE.
 * On a closed stream (410 Gone, server restart) it lists again after a pause.
 * `onChange(map)` is called with every change; returns a stop function. It
 * watches only while its `page` is shown (showWatches); page '*' watches on
 * every page (the stop-warning banner).
 */
export function liveCollection(client, path, onChange, page = 'tools') {
  const items = new Map();
  let source;
  let stopped = false;
  let paused = page !== shownPage && page !== '*';
  let retry;
  const key = (o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

  async function start() {
    if (stopped || paused) return;
    try {
      const list = await client.get(path);
      if (stopped || paused) return;
      items.clear();
      for (const o of list.items ?? []) items.set(key(o), o);
      onChange(items);
      const rv = list.metadata?.resourceVersion ?? '';
      const sep = path.includes('?') ? '&' : '?';
      source = new EventSource(`${path}${sep}watch=true&resourceVersion=${encodeURIComponent(rv)}`);
      source.onmessage = (e) => {
        const ev = JSON.parse(e.data);
        if (ev.type === 'ADDED' || ev.type === 'MODIFIED') items.set(key(ev.object), ev.object);
        else if (ev.type === 'DELETED') items.delete(key(ev.object));
        else if (ev.type === 'ERROR') return restart();
        else return;
        onChange(items);
      };
      source.onerror = () => {
        // EventSource reconnects by itself (resuming with Last-Event-ID) unless the
        // server refused; then list again.
        if (source.readyState === EventSource.CLOSED) restart();
      };
    } catch {
      restart();
    }
  }

  function restart() {
    source?.close();
    clearTimeout(retry);
    if (!paused) retry = setTimeout(start, 2000);
  }

  const collection = {
    page,
    pause() {
      paused = true;
      clearTimeout(retry);
      source?.close();
      source = undefined;
    },
    resume() {
      if (!paused) return;
      paused = false;
      start();
    },
  };
  collections.add(collection);
  start();
  return () => {
    stopped = true;
    collections.delete(collection);
    clearTimeout(retry);
    source?.close();
  };
}
