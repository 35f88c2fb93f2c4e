// The route table: every ToolInstance keyed by the host it is reached at, and
// every ToolDefinition by name, loaded from the store at start, kept current by
// a watch (LISTEN/NOTIFY underneath) and relisted in full every `resyncMs`.
// The request path only does Map lookups. An instance is routable when it wants
// to run, is Ready=True and has an endpoint; its Upstream (undici Pool) lives as
// long as that stays so, and is closed (connections and WebSockets dropped) when
// the endpoint changes or the route goes. Each upstream carries its launch's tool
// secret, derived once when the upstream is made (uid and attempt from the
// instance's status), so a new attempt at the same address gets a new upstream.
import {
  type BerthObject,
  getCondition,
  type ToolDefinition,
  type ToolInstance,
} from '../crds/index.ts';
import { deriveToolSecret, type ResourceStore } from '../store/index.ts';
import { toolHostname } from './host.ts';
import type { ProxyLogger } from './log.ts';
import { Upstream, type UpstreamOptions } from './upstream.ts';

export interface Route {
  hostname: string;
  namespace: string;
  name: string;
  instance: ToolInstance;
  /** Set when the instance is routable. */
  upstream?: Upstream;
  /** `<uid>:<attempt>` of the launch the upstream's secret belongs to. */
  launch?: string;
}

export interface RouteTableOptions {
  store: ResourceStore;
  /** Tool hosts are named under it (BERTH_TOOL_DOMAIN, else the base domain). */
  toolDomain: string;
  sharedNamespace: string;
  resyncMs: number;
  upstream: UpstreamOptions;
  /** BERTH_TOOL_SECRET_KEY: each route's tool secret is derived from it. */
  toolSecretKey: Buffer;
  log: ProxyLogger;
  /** Called after every change (metrics). */
  onChange?: (routable: number) => void;
}

const NONE: readonly string[] = [];

/** True when the request target (path and query) is under one of the prefixes. */
export function isIgnoredPath(target: string, prefixes: readonly string[]): boolean {
  for (const p of prefixes) if (target.startsWith(p)) return true;
  return false;
}

const RETRY_MS = [100, 250, 500, 1_000, 2_000, 5_000];

export class RouteTable {
  readonly #opts: RouteTableOptions;
  readonly #routes = new Map<string, Route>();
  readonly definitions = new Map<string, ToolDefinition>();
  /** Each definition's spec.idle.ignoredPaths: requests under them are not activity. */
  readonly #ignoredPaths = new Map<string, readonly string[]>();
  readonly #abort = new AbortController();
  #instancesLoaded = false;
  #definitionsLoaded = false;
  readonly #loops: Promise<void>[] = [];
  readonly #waiters = new Set<() => void>();
  #resyncTimer: NodeJS.Timeout | undefined;
  #resync: Array<() => void> = [];
  #version = 0;

  constructor(opts: RouteTableOptions) {
    this.#opts = opts;
  }

  /** True once both kinds have been listed once. */
  get loaded(): boolean {
    return this.#instancesLoaded && this.#definitionsLoaded;
  }

  start(): void {
    this.#loops.push(
      this.#sync(
        'ToolInstance',
        (items) => this.#replaceInstances(items),
        (t, o) => this.#instanceEvent(t, o),
        () => {
          this.#instancesLoaded = true;
          this.#wake();
        },
      ),
      this.#sync(
        'ToolDefinition',
        (items) => this.#replaceDefinitions(items),
        (t, o) => this.#definitionEvent(t, o),
        () => {
          this.#definitionsLoaded = true;
          this.#wake();
        },
      ),
    );
    if (this.#opts.resyncMs > 0) {
      this.#resyncTimer = setInterval(() => {
        for (const r of this.#resync) r();
      }, this.#opts.resyncMs);
      this.#resyncTimer.unref();
    }
  }

  /** Resolves once the table is loaded (or rejects when the signal aborts first). */
  async whenLoaded(signal?: AbortSignal): Promise<void> {
    while (!this.loaded) {
      signal?.throwIfAborted();
      await new Promise<void>((resolve) => {
        this.#waiters.add(resolve);
        signal?.addEventListener('abort', () => resolve(), { once: true });
      });
    }
  }

  /**
   * Changes whenever something a forwarding decision rests on changes: a route's
   * upstream (it came, went or moved) or tool, or any definition. Cached routing
   * decisions compare it. Status writes that change neither (lastActivityAt every
   * 30 s per busy instance, events, other conditions) leave it, or with many busy
   * instances every decision of every user would be void within seconds.
   */
  get version(): number {
    return this.#version;
  }

  get(hostname: string): Route | undefined {
    return this.#routes.get(hostname);
  }

  /** The path prefixes of tool `toolRef` whose requests are its own polling, not use. */
  ignoredPaths(toolRef: string): readonly string[] {
    return this.#ignoredPaths.get(toolRef) ?? NONE;
  }

  get size(): number {
    return this.#routes.size;
  }

  routableCount(): number {
    let n = 0;
    for (const r of this.#routes.values()) if (r.upstream) n++;
    return n;
  }

  /** Relist now (tests; also what the periodic resync does). */
  resyncNow(): void {
    for (const r of this.#resync) r();
  }

  async close(): Promise<void> {
    this.#abort.abort();
    if (this.#resyncTimer) clearInterval(this.#resyncTimer);
    this.#wake();
    await Promise.allSettled(this.#loops);
    for (const r of this.#routes.values()) r.upstream?.close();
    this.#routes.clear();
  }

  #wake(): void {
    for (const w of this.#waiters) w();
    this.#waiters.clear();
  }

  /** List, then watch from the list's resourceVersion; relist on any error, on the watch ending, and on resync. */
  async #sync(
    kind: string,
    replace: (items: BerthObject[]) => void,
    apply: (type: 'ADDED' | 'MODIFIED' | 'DELETED', object: BerthObject) => void,
    onLoaded: () => void,
  ): Promise<void> {
    const { store, log } = this.#opts;
    let failures = 0;
    while (!this.#abort.signal.aborted) {
      const round = new AbortController();
      const stop = () => round.abort();
      this.#abort.signal.addEventListener('abort', stop, { once: true });
      this.#resync.push(stop);
      try {
        const list = await store.list(kind);
        replace(list.items);
        onLoaded();
        const watch = await store.watch(kind, {
          resourceVersion: list.metadata.resourceVersion,
          signal: round.signal,
        });
        failures = 0;
        for await (const ev of watch) {
          if (ev.type === 'ERROR') break;
          if (ev.type === 'BOOKMARK') continue;
          apply(ev.type, ev.object);
        }
      } catch (err) {
        if (this.#abort.signal.aborted) break;
        log.warn({ err: String(err), kind }, 'route table sync failed; relisting');
        const delay = RETRY_MS[Math.min(failures++, RETRY_MS.length - 1)]!;
        await new Promise((r) => setTimeout(r, delay).unref());
      } finally {
        this.#abort.signal.removeEventListener('abort', stop);
        this.#resync = this.#resync.filter((f) => f !== stop);
      }
    }
  }

  #hostnameOf(o: BerthObject): string | undefined {
    return toolHostname(
      o.metadata.namespace ?? '',
      o.metadata.name,
      this.#opts.toolDomain,
      this.#opts.sharedNamespace,
    );
  }

  #replaceInstances(items: BerthObject[]): void {
    const seen = new Set<string>();
    let changed = false;
    for (const o of items) {
      const h = this.#hostnameOf(o);
      if (!h) continue;
      seen.add(h);
      if (this.#upsert(h, o as unknown as ToolInstance)) changed = true;
    }
    for (const [h, r] of this.#routes) {
      if (!seen.has(h)) {
        r.upstream?.close();
        this.#routes.delete(h);
        changed = true;
      }
    }
    if (changed) this.#version++;
    this.#opts.onChange?.(this.routableCount());
  }

  #instanceEvent(type: 'ADDED' | 'MODIFIED' | 'DELETED', o: BerthObject): void {
    const h = this.#hostnameOf(o);
    if (!h) return;
    let changed: boolean;
    if (type === 'DELETED') {
      this.#routes.get(h)?.upstream?.close();
      changed = this.#routes.delete(h);
    } else {
      changed = this.#upsert(h, o as unknown as ToolInstance);
    }
    if (changed) this.#version++;
    this.#opts.onChange?.(this.routableCount());
  }

  /** Adds or updates the route; true when its upstream or tool changed (decisions on it are void). */
  #upsert(hostname: string, instance: ToolInstance): boolean {
    const prev = this.#routes.get(hostname);
    const endpoint = routableEndpoint(instance);
    const uid = instance.metadata.uid ?? '';
    const attempt = instance.status?.attempt ?? 0;
    const launch = `${uid}:${attempt}`;
    let upstream = prev?.upstream;
    if (upstream && (upstream.origin !== endpoint || prev?.launch !== launch)) {
      upstream.close();
      upstream = undefined;
    }
    if (!upstream && endpoint) {
      const secret = deriveToolSecret(this.#opts.toolSecretKey, uid, attempt);
      upstream = new Upstream(endpoint, this.#opts.upstream, secret);
    }
    this.#routes.set(hostname, {
      hostname,
      namespace: instance.metadata.namespace ?? '',
      name: instance.metadata.name,
      instance,
      ...(upstream ? { upstream, launch } : {}),
    });
    return (
      prev === undefined ||
      prev.upstream !== upstream ||
      prev.instance.spec.toolRef !== instance.spec.toolRef
    );
  }

  #replaceDefinitions(items: BerthObject[]): void {
    this.#version++;
    this.definitions.clear();
    this.#ignoredPaths.clear();
    for (const o of items) this.#setDefinition(o as unknown as ToolDefinition);
  }

  #definitionEvent(type: 'ADDED' | 'MODIFIED' | 'DELETED', o: BerthObject): void {
    this.#version++;
    if (type === 'DELETED') {
      this.definitions.delete(o.metadata.name);
      this.#ignoredPaths.delete(o.metadata.name);
    } else this.#setDefinition(o as unknown as ToolDefinition);
  }

  #setDefinition(def: ToolDefinition): void {
    this.definitions.set(def.metadata.name, def);
    const ignored = def.spec.idle?.ignoredPaths ?? [];
    if (ignored.length > 0) this.#ignoredPaths.set(def.metadata.name, ignored);
    else this.#ignoredPaths.delete(def.metadata.name);
  }
}

/** The origin to send traffic to, when the instance should get any. */
function routableEndpoint(ti: ToolInstance): string | undefined {
  if (ti.metadata.deletionTimestamp || ti.spec.state !== 'Running') return undefined;
  const endpoint = ti.status?.endpoint;
  if (!endpoint || getCondition(ti.status?.conditions, 'Ready')?.status !== 'True')
    return undefined;
  try {
    return new URL(endpoint).origin;
  } catch {
    return undefined;
  }
}
