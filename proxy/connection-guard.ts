// Revocation reaches open WebSockets. A WebSocket is authorised once, at its
// upgrade; afterwards its credential may be revoked (sign-out, token revoked,
// user disabled) or lose access to the tool (the ToolDefinition's access rules
// changed). The guard re-checks every open tool WebSocket when:
// - the credential cache was emptied (auth.generation: the database's
//   CREDENTIALS_CHANNEL notification, or its listener reconnecting): the
//   credentials behind open relays are looked up again, two queries for all;
// - the route table changed (routes.version: a definition's access, a route):
//   access is decided again against the principals last looked up, no query;
// - every `fullCheckMs` (30 s), since an expiry notifies nobody and a NOTIFY is
//   lost while the listening connection is down.
// It polls those two counters once a second (two integer compares), so a
// revocation closes the WebSocket (1008) within about a second of the notice.
import type { Identity, Principal } from '../store/index.ts';
import type { Authenticator } from './auth.ts';
import { mayOpen } from './authorize.ts';
import type { RouteTable } from './route-table.ts';
import type { WebSocketRelays } from './websocket.ts';

export interface ConnectionGuardOptions {
  identity: Identity;
  auth: Authenticator;
  routes: RouteTable;
  relays: WebSocketRelays;
  sharedNamespace: string;
  pollMs?: number;
  fullCheckMs?: number;
  onClosed?: (n: number) => void;
  onError?: (err: unknown) => void;
}

export class ConnectionGuard {
  readonly #o: ConnectionGuardOptions;
  readonly #timer: NodeJS.Timeout;
  #authGeneration: number;
  #routesVersion: number;
  #lastFull = Date.now();
  /** The principal each credential had at the last lookup (absent: not valid). */
  #principals = new Map<string, Principal>();
  #running = false;

  constructor(o: ConnectionGuardOptions) {
    this.#o = o;
    this.#authGeneration = o.auth.generation;
    this.#routesVersion = o.routes.version;
    this.#timer = setInterval(() => void this.#tick(), o.pollMs ?? 1_000);
    this.#timer.unref();
  }

  close(): void {
    clearInterval(this.#timer);
  }

  async #tick(): Promise<void> {
    if (this.#running || this.#o.relays.byCredential.size === 0) {
      // Nothing open: nothing to re-check, and nothing to remember either.
      if (!this.#running) this.#markChecked(true);
      return;
    }
    const authChanged = this.#o.auth.generation !== this.#authGeneration;
    const full = Date.now() - this.#lastFull >= (this.#o.fullCheckMs ?? 30_000);
    const routesChanged = this.#o.routes.version !== this.#routesVersion;
    if (!authChanged && !full && !routesChanged) return;
    this.#running = true;
    try {
      this.#markChecked(authChanged || full);
      await this.check(authChanged || full);
    } catch (err) {
      this.#o.onError?.(err);
    } finally {
      this.#running = false;
    }
  }

  #markChecked(lookedUp: boolean): void {
    this.#authGeneration = this.#o.auth.generation;
    this.#routesVersion = this.#o.routes.version;
    if (lookedUp) this.#lastFull = Date.now();
  }

  /** Re-checks every open tool WebSocket (looking credentials up again when `lookUp`); closes the ones no longer allowed. */
  async check(lookUp: boolean): Promise<number> {
    const { relays, routes, identity, sharedNamespace } = this.#o;
    const keys = [...relays.byCredential.keys()];
    if (lookUp || keys.some((k) => !this.#principals.has(k))) {
      const tokenIds = keys.filter((k) => k.startsWith('t:')).map((k) => k.slice(2));
      const sessionIds = keys.filter((k) => k.startsWith('s:')).map((k) => k.slice(2));
      this.#principals = await identity.liveCredentials(tokenIds, sessionIds);
    }
    let closed = 0;
    for (const key of keys) {
      const set = relays.byCredential.get(key);
      if (!set) continue;
      const principal = this.#principals.get(key);
      for (const relay of [...set]) {
        const owner = relay.owner!;
        const route = routes.get(owner.hostname);
        const def = routes.definitions.get(route?.instance.spec.toolRef ?? owner.instance);
        if (principal && mayOpen(principal, owner.namespace, def, sharedNamespace)) continue;
        relays.closeForPolicy(relay);
        closed++;
      }
    }
    if (closed > 0) this.#o.onClosed?.(closed);
    return closed;
  }
}
