// Shared set-up for the proxy tests: a fresh database, a store, users with tokens,
// a real upstream HTTP server, and a proxy started in this process. The
// controller is simulated by writing status (Ready=True + endpoint) through the store.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { API_VERSION, KINDS } from '../../crds/index.ts';
import type { ProxyConfig } from '../../proxy/index.ts';
import { type RunningProxy, startProxy } from '../../proxy/index.ts';
import { Identity, ResourceStore, Sessions } from '../../store/index.ts';
import { freshDatabase, type TestDatabase } from '../support/db.ts';
import { toolDefinition } from '../support/fixtures.ts';
import { waitFor } from '../support/wait.ts';

export interface Harness {
  db: TestDatabase;
  store: ResourceStore;
  identity: Identity;
  sessions: Sessions;
  proxy: RunningProxy;
  tokens: Record<string, string>;
  close(): Promise<void>;
}

export async function startHarness(config: Partial<ProxyConfig> = {}): Promise<Harness> {
  const db = await freshDatabase();
  const store = new ResourceStore(db.pool, { kinds: [...KINDS] });
  const identity = new Identity(db.pool);
  const sessions = new Sessions(db.pool);
  const tokens: Record<string, string> = {};
  for (const user of ['alice', 'bob']) tokens[user] = (await identity.createToken({ user })).token;
  tokens.root = (await identity.createToken({ user: 'root', admin: true })).token;
  await identity.upsertUser({ name: 'carol', groups: ['analysts'] });
  tokens.carol = (await identity.createToken({ user: 'carol' })).token;
  const proxy = await startProxy({
    pool: db.pool,
    store,
    port: 0,
    config: { baseDomain: 'localhost', authCacheMs: 0, activityFlushMs: 0, ...config },
  });
  return {
    db,
    store,
    identity,
    sessions,
    proxy,
    tokens,
    async close() {
      await proxy.close();
      await store.close();
      await db.drop();
    },
  };
}

/** Creates (or updates) the instance and writes the status a controller would: Ready=True at `endpoint`. */
export async function makeReady(
  store: ResourceStore,
  namespace: string,
  name: string,
  endpoint: string,
): Promise<void> {
  await store.apply(
    'ToolInstance',
    {
      apiVersion: API_VERSION,
      kind: 'ToolInstance',
      metadata: { name, namespace },
      spec: { toolRef: name, state: 'Running' },
    },
    { fieldManager: 'test' },
  );
  await store.patchStatus('ToolInstance', namespace, name, {
    status: {
      phase: 'Ready',
      endpoint,
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'Probed',
          lastTransitionTime: new Date().toISOString(),
        },
      ],
    },
  });
}

export async function waitForRoute(
  proxy: RunningProxy,
  hostname: string,
  endpoint?: string,
): Promise<void> {
  await waitFor(
    () => {
      const u = proxy.routes.get(hostname)?.upstream;
      return u && (!endpoint || u.origin === endpoint) ? true : undefined;
    },
    10_000,
    `route ${hostname}`,
  );
}

export interface Upstream {
  url: string;
  server: Server;
  close(): Promise<void>;
}

export async function startUpstream(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<Upstream> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    server,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** An upstream that answers every request with what it received, as JSON. */
export function echoHandler(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.stringify({
      method: req.method,
      url: req.url,
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      body: Buffer.concat(chunks).toString(),
    });
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
    });
    res.end(body);
  });
}

/** GET through the proxy with a Host header of our choosing. */
export async function get(
  proxy: RunningProxy,
  host: string,
  path = '/',
  headers: Record<string, string> = {},
  method = 'GET',
) {
  const r = await request(`${proxy.url}${path}`, {
    method: method as 'GET',
    headers: { host: `${host}:${proxy.port}`, ...headers },
  });
  const text = await r.body.text();
  return { status: r.statusCode, headers: r.headers, text };
}

export function bearer(token: string | undefined): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** Creates a ToolDefinition and waits until the proxy's table has it. */
export async function addDefinition(
  h: Harness,
  name: string,
  extra: Record<string, unknown> = {},
  proxy = h.proxy,
): Promise<void> {
  await h.store.create('ToolDefinition', toolDefinition(name, extra));
  await waitFor(
    () => (proxy.routes.definitions.has(name) ? true : undefined),
    10_000,
    `definition ${name}`,
  );
}

/** A histogram read from Prometheus text: cumulative buckets (by `le`), sum and count. */
export interface ParsedHistogram {
  buckets: [le: string, count: number][];
  sum: number;
  count: number;
}

/**
 * Reads histogram `name` from a /metrics body and checks it is what Prometheus
 * expects: buckets in increasing `le`, cumulative (never decreasing), ending in
 * +Inf equal to the count.
 */
export function parseHistogram(text: string, name: string): ParsedHistogram {
  const buckets: [string, number][] = [];
  for (const m of text.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\S+)$`, 'gm')))
    buckets.push([m[1]!, Number(m[2])]);
  const sum = Number(new RegExp(`^${name}_sum (\\S+)$`, 'm').exec(text)?.[1]);
  const count = Number(new RegExp(`^${name}_count (\\S+)$`, 'm').exec(text)?.[1]);
  if (buckets.length < 2) throw new Error(`${name}: no buckets in\n${text}`);
  for (let i = 1; i < buckets.length; i++) {
    const [le, n] = buckets[i]!;
    const [prevLe, prevN] = buckets[i - 1]!;
    if (le !== '+Inf' && Number(le) <= Number(prevLe))
      throw new Error(`${name}: le ${le} after ${prevLe}`);
    if (n < prevN) throw new Error(`${name}: bucket le=${le} (${n}) below le=${prevLe} (${prevN})`);
  }
  const last = buckets[buckets.length - 1]!;
  if (last[0] !== '+Inf' || last[1] !== count)
    throw new Error(`${name}: +Inf bucket ${last.join('=')} is not the count ${count}`);
  return { buckets, sum, count };
}
