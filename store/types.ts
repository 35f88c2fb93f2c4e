// The store's public contract, used by the API server and the controllers.
import type pg from 'pg';
import type { BerthObject, KindInfo } from '../crds/index.ts';
import type { PoolClient } from './db.ts';

export interface ListOptions {
  /** Omit for every namespace (namespaced kinds) or for cluster-scoped kinds. */
  namespace?: string;
  /** Kubernetes label selector: `a=b,c!=d,e in (x,y),f notin (z),g,!h`. */
  labelSelector?: string;
  /** Page size; 0 or omitted means everything. */
  limit?: number;
  /** Opaque token from a previous page's `metadata.continue`. */
  continue?: string;
}

export interface ListResult<T extends BerthObject = BerthObject> {
  apiVersion: string;
  kind: string; // e.g. ToolInstanceList
  metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number };
  items: T[];
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent<T extends BerthObject = BerthObject> {
  type: WatchEventType;
  /** The object; for BOOKMARK only apiVersion, kind and metadata.resourceVersion; for ERROR a Status. */
  object: T;
}

export interface WatchOptions {
  namespace?: string;
  labelSelector?: string;
  /**
   * Start after this resourceVersion. Omitted or "0": first an ADDED event for every
   * existing object (a consistent snapshot), then every change after it. Older
   * than the retained history: the watch throws ApiError Gone (410).
   */
  resourceVersion?: string;
  /** Send BOOKMARK events (the current resourceVersion) while idle. */
  allowBookmarks?: boolean;
  bookmarkIntervalMs?: number;
  signal?: AbortSignal;
}

/**
 * The change a write made, handed to `WriteOptions.inTransaction`. The object has no
 * `metadata.resourceVersion` yet: the store assigns it as the transaction's last
 * statement, after the hooks, so that the counter is locked only for that statement
 * and the commit.
 */
export interface WriteResult {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: BerthObject;
}

/** What the store-wide `ResourceStoreOptions.onWrite` hook sees: the change and the object before it. */
export interface WriteChange extends WriteResult {
  /** The stored object before this write; null for a create. */
  previous: BerthObject | null;
}

export interface WriteOptions {
  /**
   * Extra statements in the write's own transaction, run after the write and
   * before commit (the controllers enqueue reconciles this way; the API records
   * audit entries and admission checks a launch, comparing with `previous`). Not
   * called when the write changed
   * nothing.
   */
  inTransaction?: (client: PoolClient, result: WriteChange) => Promise<void>;
  /** Optimistic concurrency for patch/delete: fail with 409 unless the object is at this version. */
  resourceVersion?: string;
  /** Validate and compute the result, but do not persist it. */
  dryRun?: boolean;
}

export interface ApplyOptions extends WriteOptions {
  fieldManager: string;
}

export interface ApplyResult {
  object: BerthObject;
  result: 'created' | 'configured' | 'unchanged';
}

export interface DeleteOptions extends WriteOptions {
  preconditions?: { uid?: string; resourceVersion?: string };
}

/** What every object-level write hook sees: kind name as in `KindInfo.kind`, namespace undefined for cluster-scoped kinds. */
export interface ObjectKey {
  kind: string;
  namespace?: string;
  name: string;
}

/**
 * Reads and writes of one object: what the store's own helpers (Events, the owner
 * cascade, maintenance) need of `ResourceStore`, which implements it, so that they
 * depend on this contract rather than on the class.
 */
export interface ObjectStore {
  /** The served kind, or 404 NotFound. */
  kindInfo(kind: string): KindInfo;
  create(kind: string, body: unknown, opts?: WriteOptions): Promise<BerthObject>;
  updateWith(
    kind: string,
    namespace: string | undefined,
    name: string,
    fn: (current: BerthObject) => BerthObject,
    opts?: WriteOptions,
  ): Promise<BerthObject>;
  delete(
    kind: string,
    namespace: string | undefined,
    name: string,
    opts?: DeleteOptions,
  ): Promise<BerthObject>;
}

/** `new ResourceStore(pool, options)`. */
export interface ResourceStoreOptions {
  /** The kinds this store serves; default `KINDS` from crds/. */
  kinds?: readonly KindInfo[];
  /** How long the change log is kept for watches to resume from; default one hour. */
  historyMs?: number;
  /** Connection settings for the dedicated LISTEN connection; default: the pool's. */
  listenerConfig?: pg.ClientConfig;
  /** Undelivered events a watch may hold before it is ended with 410 Gone; default 10,000. */
  watchBufferSize?: number;
  /** Bookmark interval when a watch asks for bookmarks without one; default 60 s. */
  bookmarkIntervalMs?: number;
  /** Failures of background work (cascading deletes, maintenance); default: ignored. */
  onBackgroundError?: (err: unknown, what: string) => void;
  /**
   * Runs in every write's own transaction, after the per-write `inTransaction` hook and
   * before commit; a failure rolls the write back. The composition root enqueues the
   * reconcile of the changed object here, so no change is lost even when every
   * controller is down. Not called for no-op writes or dry runs.
   */
  onWrite?: (client: PoolClient, change: WriteChange) => Promise<void>;
}
