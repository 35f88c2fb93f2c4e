// The store's public contract, used by the API server and the controllers.
import type { BerthObject } from '../crds/index.ts';
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
   * before commit (the controllers enqueue reconciles this way). Not called when
   * the write changed nothing.
   */
  inTransaction?: (client: PoolClient, result: WriteResult) => Promise<void>;
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
