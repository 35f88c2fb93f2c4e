// ResourceStore: berth's kube-apiserver storage (kine-style) on PostgreSQL, the
// public face of store/. It composes the parts: next-object.ts decides what a write
// stores (pure), write-transaction.ts stores it and assigns its resourceVersion at
// commit, reads.ts reads snapshots, watch.ts streams the log, cascade.ts and
// maintenance.ts do the work that follows removals and time. Some 400 lines: each
// verb is a short method over those parts; splitting the class would split the API.
import { randomUUID } from 'node:crypto';
import { ApiError, type BerthObject, isApiError, KINDS, type KindInfo } from '../crds/index.ts';
import { appliedObject, checkFieldManager, cleanManifest, firstApplied } from './apply.ts';
import { DEFAULT_AUDIT_RETENTION_MS, sweepAudit } from './audit.ts';
import { type Cascade, cascade, collectOrphans } from './cascade.ts';
import type { Pool, PoolClient } from './db.ts';
import { DEFAULT_EVENT_TTL_MS, type RecordEventInput, recordEvent } from './events.ts';
import { compact, expireEvents, startMaintenance } from './maintenance.ts';
import { applyMergePatch, deepEqual, isPlainObject } from './merge-patch.ts';
import {
  checkDeletePreconditions,
  isRemoval,
  newObject,
  nextMain,
  nextStatus,
  onDelete,
} from './next-object.ts';
import { checkScope, incomingObject, notFoundError, nowTimestamp } from './object-rules.ts';
import { compactedRv, logReader, readList, readPage } from './reads.ts';
import { parseSelector } from './selectors.ts';
import * as sql from './sql.ts';
import type {
  ApplyOptions,
  ApplyResult,
  DeleteOptions,
  ListOptions,
  ListResult,
  ObjectStore,
  ResourceStoreOptions,
  WatchEvent,
  WatchOptions,
  WriteOptions,
} from './types.ts';
import { goneError, type LogReader, Watch, WatchHub } from './watch.ts';
import { inWriteTransaction, type WriteTransaction } from './write-transaction.ts';

/** What a write did; `removedUid` is set when it removed the object for good (its dependents come next). */
interface Change {
  object: BerthObject;
  changed: boolean;
  removedUid?: string;
}

type Mode = 'main' | 'status';

export class ResourceStore implements ObjectStore {
  readonly pool: Pool;
  readonly historyMs: number;
  readonly #kinds = new Map<string, KindInfo>();
  readonly #hub: WatchHub;
  readonly #readLog: LogReader;
  readonly #bufferSize: number;
  readonly #bookmarkIntervalMs: number;
  readonly #onBackgroundError: (err: unknown, what: string) => void;
  readonly #onWrite: ResourceStoreOptions['onWrite'];
  readonly #cascade: Cascade;

  constructor(pool: Pool, options: ResourceStoreOptions = {}) {
    this.pool = pool;
    for (const k of options.kinds ?? KINDS) this.#kinds.set(k.kind, k);
    this.historyMs = options.historyMs ?? 3_600_000;
    this.#bufferSize = options.watchBufferSize ?? 10_000;
    this.#bookmarkIntervalMs = options.bookmarkIntervalMs ?? 60_000;
    this.#onBackgroundError = options.onBackgroundError ?? (() => {});
    this.#onWrite = options.onWrite;
    this.#hub = new WatchHub(pool, options.listenerConfig ?? pool.options);
    this.#readLog = logReader(pool);
    this.#cascade = { pool, store: this, onBackgroundError: this.#onBackgroundError };
  }

  /** The served kind, or 404 NotFound. */
  kindInfo(kind: string): KindInfo {
    const info = this.#kinds.get(kind);
    if (!info) throw new ApiError('NotFound', `the server doesn't have a resource type "${kind}"`);
    return info;
  }

  async currentResourceVersion(): Promise<string> {
    const { rows } = await this.pool.query<{ rv: number }>(sql.currentRv);
    return String(rows[0]!.rv);
  }

  // ---- reads ----

  async get(kind: string, namespace: string | undefined, name: string): Promise<BerthObject> {
    const info = this.kindInfo(kind);
    const { rows } = await this.pool.query<{ object: BerthObject }>(sql.getObject, [
      kind,
      this.#nsKey(info, namespace),
      name,
    ]);
    if (!rows[0]) throw notFoundError(info, name);
    return rows[0].object;
  }

  async list(kind: string, opts: ListOptions = {}): Promise<ListResult> {
    return readList(this.pool, this.kindInfo(kind), opts);
  }

  // ---- writes ----

  async create(kind: string, body: unknown, opts: WriteOptions = {}): Promise<BerthObject> {
    const info = this.kindInfo(kind);
    const valid = newObject(info, body, { uid: randomUUID(), creationTimestamp: nowTimestamp() });
    if (opts.dryRun) return valid;
    return this.#tx((tx) => tx.write(info, 'ADDED', valid, null, opts));
  }

  /** PUT: replaces the object; conditional when metadata.resourceVersion (or opts.resourceVersion) is set. */
  async update(kind: string, body: unknown, opts: WriteOptions = {}): Promise<BerthObject> {
    return this.#replace(this.kindInfo(kind), body, 'main', opts);
  }

  /** JSON merge patch (RFC 7386) on the main resource; metadata.resourceVersion in the patch is a precondition. */
  async patch(
    kind: string,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    opts: WriteOptions = {},
  ): Promise<BerthObject> {
    const info = this.kindInfo(kind);
    const ns = this.#nsKey(info, namespace);
    if (!isPlainObject(patch))
      throw new ApiError('BadRequest', 'a merge patch must be a JSON object');
    return (await this.#modify(info, ns, name, (cur) => applyMergePatch(cur, patch), 'main', opts))
      .object;
  }

  /**
   * Read-modify-write on the locked current object (like Kubernetes' GuaranteedUpdate):
   * `fn` gets a copy and returns the desired object; never conflicts unless `fn`'s result
   * or opts carry a stale resourceVersion.
   */
  async updateWith(
    kind: string,
    namespace: string | undefined,
    name: string,
    fn: (current: BerthObject) => BerthObject,
    opts: WriteOptions = {},
  ): Promise<BerthObject> {
    const info = this.kindInfo(kind);
    return (await this.#modify(info, this.#nsKey(info, namespace), name, fn, 'main', opts)).object;
  }

  async updateStatus(kind: string, body: unknown, opts: WriteOptions = {}): Promise<BerthObject> {
    return this.#replace(this.#statusKind(kind), body, 'status', opts);
  }

  async patchStatus(
    kind: string,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    opts: WriteOptions = {},
  ): Promise<BerthObject> {
    const info = this.#statusKind(kind);
    const ns = this.#nsKey(info, namespace);
    if (!isPlainObject(patch))
      throw new ApiError('BadRequest', 'a merge patch must be a JSON object');
    return (
      await this.#modify(info, ns, name, (cur) => applyMergePatch(cur, patch), 'status', opts)
    ).object;
  }

  /** Declarative apply (client-side-apply semantics, last applied manifest kept per field manager). */
  async apply(kind: string, manifest: unknown, opts: ApplyOptions): Promise<ApplyResult> {
    const info = this.kindInfo(kind);
    const manager = opts.fieldManager;
    checkFieldManager(manager);
    const obj = incomingObject(info, manifest);
    checkScope(info, obj);
    const clean = cleanManifest(obj);
    const wantRv = obj.metadata.resourceVersion;
    const ns = obj.metadata.namespace ?? '';
    for (let attempt = 0; ; attempt++) {
      try {
        const change = await this.#modify(
          info,
          ns,
          obj.metadata.name,
          (cur) => appliedObject(cur, manager, clean, wantRv),
          'main',
          opts,
        );
        return { object: change.object, result: change.changed ? 'configured' : 'unchanged' };
      } catch (err) {
        if (!isApiError(err, 'NotFound') || attempt >= 3) throw err;
      }
      try {
        return {
          object: await this.create(kind, firstApplied(manager, clean), opts),
          result: 'created',
        };
      } catch (err) {
        // Someone else created it meanwhile: apply onto theirs.
        if (!isApiError(err, 'AlreadyExists') || attempt >= 3) throw err;
      }
    }
  }

  /**
   * Deletes, or with finalizers marks deletionTimestamp (once) and returns the object.
   * The returned object still exists exactly when it has finalizers.
   */
  async delete(
    kind: string,
    namespace: string | undefined,
    name: string,
    opts: DeleteOptions = {},
  ): Promise<BerthObject> {
    const info = this.kindInfo(kind);
    const ns = this.#nsKey(info, namespace);
    const res = await this.#tx<Change>(async (tx) => {
      const current = await this.#lock(tx.client, info, ns, name);
      checkDeletePreconditions(info, current, opts);
      const next = onDelete(current, nowTimestamp());
      if (next === 'unchanged') return { object: current, changed: false };
      if (opts.dryRun)
        return { object: next.type === 'DELETED' ? current : next.object, changed: true };
      const object = await tx.write(info, next.type, next.object, current, opts);
      return {
        object,
        changed: true,
        ...(next.type === 'DELETED' ? { removedUid: current.metadata.uid } : {}),
      };
    });
    if (res.removedUid) await cascade(this.#cascade, res.removedUid);
    return res.object;
  }

  // ---- watch ----

  /**
   * Changes to `kind` after opts.resourceVersion (or a snapshot of ADDED events then
   * changes, for "0"/omitted). Throws 410 Gone when that version is compacted away.
   */
  async watch(kind: string, opts: WatchOptions = {}): Promise<Watch> {
    const info = this.kindInfo(kind);
    const selector = parseSelector(opts.labelSelector ?? '');
    const namespace = info.namespaced ? opts.namespace : undefined;
    const rvText = opts.resourceVersion;
    let from: number | undefined;
    if (rvText !== undefined && rvText !== '' && rvText !== '0') {
      from = /^\d{1,15}$/.test(rvText) ? Number(rvText) : Number.NaN;
      if (Number.isNaN(from)) {
        throw new ApiError('BadRequest', `resourceVersion must be a number, got "${rvText}"`, {
          causes: [{ field: 'resourceVersion', message: 'must be a non-negative integer' }],
        });
      }
    }
    const bookmarkIntervalMs = Math.max(opts.bookmarkIntervalMs ?? this.#bookmarkIntervalMs, 10);
    const setup = {
      kind,
      ...(namespace !== undefined ? { namespace } : {}),
      selector,
      bufferSize: this.#bufferSize,
      allowBookmarks: opts.allowBookmarks === true,
      bookmarkIntervalMs,
      ...(opts.signal ? { signal: opts.signal } : {}),
    };
    await this.#hub.start();
    if (from !== undefined) {
      const compacted = await compactedRv(this.pool);
      if (from < compacted) throw goneError(from, compacted);
      return new Watch(this.#hub, this.#readLog, { ...setup, cursor: from, initial: [] });
    }
    const snap = await readPage(this.pool, { kind, namespace, selector }, undefined, 0);
    const initial: WatchEvent[] = snap.items.map((object) => ({ type: 'ADDED', object }));
    return new Watch(this.#hub, this.#readLog, { ...setup, cursor: snap.rv, initial });
  }

  // ---- maintenance ----

  /** Drops log rows committed more than `olderThanMs` ago (a prefix of the log) and records the mark. */
  compact(olderThanMs: number = this.historyMs): Promise<{ compactedRv: number; deleted: number }> {
    return compact(this.pool, olderThanMs);
  }

  /** Deletes (or unlinks) objects whose owners no longer exist: recovery for cascades a crash interrupted. */
  collectOrphans(): Promise<number> {
    return collectOrphans(this.#cascade);
  }

  /**
   * Runs compaction, orphan collection, Event expiry (`eventTtlMs`, 0 keeps
   * them) and the audit log's sweep (`auditRetentionMs`, 0 keeps entries) every
   * `intervalMs`; returns the function that stops it.
   */
  startMaintenance(
    intervalMs = 60_000,
    eventTtlMs = DEFAULT_EVENT_TTL_MS,
    auditRetentionMs = DEFAULT_AUDIT_RETENTION_MS,
  ): () => void {
    return startMaintenance(
      this,
      intervalMs,
      eventTtlMs,
      this.#onBackgroundError,
      auditRetentionMs,
    );
  }

  /** Deletes audit entries older than `olderThanMs` (at most 10,000 per call); returns how many. */
  sweepAudit(olderThanMs: number = DEFAULT_AUDIT_RETENTION_MS): Promise<number> {
    return sweepAudit(this.pool, olderThanMs);
  }

  recordEvent(input: RecordEventInput): Promise<BerthObject> {
    return recordEvent(this, input);
  }

  /** Deletes Events last seen more than `olderThanMs` ago (at most `max`, default 1,000); returns how many. */
  expireEvents(olderThanMs: number = DEFAULT_EVENT_TTL_MS, max?: number): Promise<number> {
    return expireEvents(this.pool, this, olderThanMs, max);
  }

  /** Stops the listener and ends every open watch. */
  async close(): Promise<void> {
    await this.#hub.close();
  }

  // ---- internals ----

  #nsKey(info: KindInfo, namespace: string | undefined): string {
    if (!info.namespaced) return '';
    if (!namespace) {
      throw new ApiError('BadRequest', `a namespace is required: ${info.kind} is namespaced`, {
        causes: [{ field: 'metadata.namespace', message: 'required' }],
      });
    }
    return namespace;
  }

  #statusKind(kind: string): KindInfo {
    const info = this.kindInfo(kind);
    if (!info.statusSubresource) {
      throw new ApiError('NotFound', `${info.plural} has no status subresource`, {
        kind: info.plural,
      });
    }
    return info;
  }

  #tx<T>(fn: (tx: WriteTransaction) => Promise<T>): Promise<T> {
    return inWriteTransaction(this.pool, this.#onWrite, fn);
  }

  async #lock(c: PoolClient, info: KindInfo, ns: string, name: string): Promise<BerthObject> {
    const { rows } = await c.query<{ object: BerthObject }>(sql.lockObject, [info.kind, ns, name]);
    if (!rows[0]) throw notFoundError(info, name);
    return rows[0].object;
  }

  /** PUT of the object (`main`) or of its status: the named object becomes `body`. */
  async #replace(
    info: KindInfo,
    body: unknown,
    mode: Mode,
    opts: WriteOptions,
  ): Promise<BerthObject> {
    const obj = incomingObject(info, body);
    checkScope(info, obj);
    const ns = obj.metadata.namespace ?? '';
    return (await this.#modify(info, ns, obj.metadata.name, () => obj, mode, opts)).object;
  }

  /** Every write but create and delete: the next object computed from the locked current one. */
  async #modify(
    info: KindInfo,
    ns: string,
    name: string,
    compute: (current: BerthObject) => unknown,
    mode: Mode,
    opts: WriteOptions,
  ): Promise<Change> {
    const res = await this.#tx<Change>(async (tx) => {
      const current = await this.#lock(tx.client, info, ns, name);
      const desired = compute(structuredClone(current));
      const next =
        mode === 'main'
          ? nextMain(info, current, desired, opts)
          : nextStatus(info, current, desired, opts);
      if (deepEqual(next, current)) return { object: current, changed: false };
      if (opts.dryRun) return { object: next, changed: true };
      if (isRemoval(next)) {
        // The last finalizer went: the object goes now (Kubernetes semantics).
        const object = await tx.write(info, 'DELETED', next, current, opts);
        return { object, changed: true, removedUid: current.metadata.uid };
      }
      return { object: await tx.write(info, 'MODIFIED', next, current, opts), changed: true };
    });
    if (res.removedUid) await cascade(this.#cascade, res.removedUid);
    return res;
  }
}
