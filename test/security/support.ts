// Shared pieces of the request-check tests (Origin, cookies, headers, launch,
// tool domain, rate limits): a tool-host session as the handoff would leave it,
// requests that look like a browser's, and a small browser that follows
// redirects across hosts with a host-only cookie jar.
import { request } from 'undici';
import type { RunningProxy } from '../../proxy/index.ts';
import type { Sessions } from '../../store/index.ts';
import { addDefinition, type Harness, makeReady, waitForRoute } from '../proxy/support.ts';

/** A tool-host (or berth-host) session cookie for `user` on `hostname`, as `berth_session=...`. */
export async function sessionCookie(
  sessions: Sessions,
  user: string,
  hostname: string,
): Promise<string> {
  const s = await sessions.createSession({
    user,
    host: hostname,
    idleMs: 3_600_000,
    absoluteMs: 3_600_000,
  });
  if (!s) throw new Error('no session');
  return `berth_session=${s.cookieValue}`;
}

/**
 * alice's two tools routed through `proxy`: `demo` (demo--alice) at `demoUrl` and
 * `lab` (lab--alice, the WebSocket one) at `labUrl`.
 */
export async function routeDemoAndLab(
  h: Harness,
  proxy: RunningProxy,
  demoUrl: string,
  labUrl: string,
): Promise<void> {
  await addDefinition(h, 'demo', {}, proxy);
  await addDefinition(h, 'lab', {}, proxy);
  await makeReady(h.store, 'alice', 'demo', demoUrl);
  await makeReady(h.store, 'alice', 'lab', labUrl);
  await waitForRoute(proxy, 'demo--alice.localhost');
  await waitForRoute(proxy, 'lab--alice.localhost');
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  setCookies: string[];
}

/** One request to the proxy with the Host header of `host` (port added). */
export async function send(
  proxy: RunningProxy,
  host: string,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  const r = await request(`${proxy.url}${path}`, {
    method: (opts.method ?? 'GET') as 'GET',
    headers: { host: `${host}:${proxy.port}`, ...opts.headers },
    ...(opts.body !== undefined ? { body: opts.body } : {}),
  });
  const text = await r.body.text();
  const raw = r.headers['set-cookie'];
  return {
    status: r.statusCode,
    headers: r.headers,
    text,
    setCookies: raw === undefined ? [] : Array.isArray(raw) ? raw : [raw],
  };
}

/** Fetch metadata of a top-level navigation, as Chromium sends it. */
export function navigation(site: 'none' | 'same-origin' | 'same-site' | 'cross-site') {
  return {
    accept: 'text/html,application/xhtml+xml',
    'sec-fetch-site': site,
    'sec-fetch-mode': 'navigate',
    'sec-fetch-dest': 'document',
    'sec-fetch-user': '?1',
  };
}

/**
 * A browser: host-only cookies per host name, redirects followed (GET), every
 * request sent to the proxy with the Host header of the URL's host.
 */
export class MiniBrowser {
  readonly jar = new Map<string, Map<string, string>>();
  readonly visited: string[] = [];
  readonly #proxy: RunningProxy;

  constructor(proxy: RunningProxy) {
    this.#proxy = proxy;
  }

  cookiesFor(hostname: string): Map<string, string> {
    let c = this.jar.get(hostname);
    if (!c) {
      c = new Map();
      this.jar.set(hostname, c);
    }
    return c;
  }

  /** GETs `url` and follows redirects; returns the last answer. */
  async open(url: string, headers: Record<string, string> = {}): Promise<Answer> {
    let target = new URL(url);
    for (let hops = 0; hops < 10; hops++) {
      this.visited.push(target.href);
      const jar = this.cookiesFor(target.hostname);
      const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
      const a = await send(this.#proxy, target.hostname, `${target.pathname}${target.search}`, {
        headers: { ...headers, ...(cookie ? { cookie } : {}) },
      });
      for (const c of a.setCookies) {
        if (/;\s*domain=/i.test(c)) throw new Error(`a cookie with a Domain attribute: ${c}`);
        const pair = c.split(';')[0]!;
        const eq = pair.indexOf('=');
        const name = pair.slice(0, eq).trim();
        const value = pair.slice(eq + 1).trim();
        if (/max-age=0/i.test(c) || value === '') jar.delete(name);
        else jar.set(name, value);
      }
      const location = a.headers.location;
      if (a.status < 300 || a.status >= 400 || typeof location !== 'string') return a;
      target = new URL(location, target);
    }
    throw new Error('too many redirects');
  }
}
