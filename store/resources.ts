// ResourceStore: berth's kube-apiserver storage (kine-style) on PostgreSQL.
// Every write is one transaction: lock and read the current row, compute and
// validate the next object, then, as late as possible, take the global counter
// (which serialises writers until commit, so resourceVersion order == commit
// order), write the row and one log row, NOTIFY, run the caller's hook, commit.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import {
  API_VERSION,
  ApiError,
  type BerthObject,
  isApiError,
  KINDS,
  type KindInfo,
} from '../crds/index.ts';
import {
  applyPatch,
  cleanManifest,
  LAST_APPLIED_ANNOTATION,
  lastApplied,
  lastAppliedValue,
} from './apply.ts';
import { decodeContinue, encodeContinue } from './continue-token.ts';
import { type Pool, type PoolClient, withTransaction } from './db.ts';
import {
  DEFAULT_EVENT_TTL_MS,
  expireEvents,
  type RecordEventInput,
  recordEvent,
} from './events.ts';
import { applyMergePatch, deepEqual, isPlainObject } from './merge-patch.ts';
import {
  checkScope,
  conflictError,
  incomingObject,
  invalidField,
  normaliseOwnerUids,
  notFoundError,
  nowTimestamp,
  specOf,
  stripServerFields,
  validate,
} from './object-rules.ts';
import { parseSelector, type Requirement, SqlParams, selectorSql } from './selectors.ts';
import type {
  ApplyOptions,
  ApplyResult,
  DeleteOptions,
  ListOptions,
  ListResult,
  WatchEvent,
  WatchOptions,
  WriteChange,
  WriteOptions,
  WriteResult,
} from './types.ts';
import { goneError, type LogPage, type LogRow, Watch, WatchHub } from './watch.ts';

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

interface Change {
  object: BerthObject;
  changed: boolean;
  /** Set when the write removed the object for good: its dependents are collected next. */
  removedUid?: string;
}

type Mode = 'main' | 'status';

/** A committed object whose resourceVersion is read back by its log row's pending_id. */
interface PendingStamp {
  id: number;
  object: BerthObject;
}

export class ResourceStore {
  readonly pool: Pool;
  readonly historyMs: number;
  readonly #kinds = new Map<string, KindInfo>();
  readonly #hub: WatchHub;
  readonly #bufferSize: number;
  readonly #bookmarkIntervalMs: number;
  readonly #onBackgroundError: (err: unknown, what: string) => void;
  readonly #onWrite: ResourceStoreOptions['onWrite'];
  /** Writes made in each open transaction, waiting for their commit-time resourceVersion. */
  readonly #pending = new WeakMap<PoolClient, PendingStamp[]>();

  constructor(pool: Pool, options: ResourceStoreOptions = {}) {
    this.pool = pool;
    for (const k of options.kinds ?? KINDS) this.#kinds.set(k.kind, k);
    this.historyMs = options.historyMs ?? 3_600_000;
    this.#bufferSize = options.watchBufferSize ?? 10_000;
    this.#bookmarkIntervalMs = options.bookmarkIntervalMs ?? 60_000;
    this.#onBackgroundError = options.onBackgroundError ?? (() => {});
    this.#onWrite = options.onWrite;
    this.#hub = new WatchHub(pool, options.listenerConfig ?? pool.options);
  }

  /** The served kind, or 404 NotFound. */
  kindInfo(kind: string): KindInfo {
    const info = this.#kinds.get(kind);
    if (!info) throw new ApiError('NotFound', `the server doesn't have a resource type "${kind}"`);
    return info;
  }

  async currentResourceVersion(): Promise<string> {
    const { rows } = await this.pool.query<{ rv: number }>('select rv from rv_counter');
    return String(rows[0]!.rv);
  }

  // ---- reads ----

  async get(kind: string, namespace: string | undefined, name: string): Promise<BerthObject> {
    const info = this.kindInfo(kind);
    const { rows } = await this.pool.query<{ object: BerthObject }>(
      'select object from resources where kind = $1 and namespace = $2 and name = $3',
      [kind, this.#nsKey(info, namespace), name],
    );
    if (!rows[0]) throw notFoundError(info, name);
    return rows[0].object;
  }

  async list(kind: string, opts: ListOptions = {}): Promise<ListResult> {
    const info = this.kindInfo(kind);
    const selector = parseSelector(opts.labelSelector ?? '');
    const limit = opts.limit ?? 0;
    if (!Number.isSafeInteger(limit) || limit < 0) {
      throw new ApiError(
        'BadRequest',
        `limit must be a non-negative integer, got ${String(limit)}`,
        {
          causes: [{ field: 'limit', message: 'must be a non-negative integer' }],
        },
      );
    }
    const token = opts.continue ? decodeContinue(opts.continue) : undefined;
    const namespace = info.namespaced ? opts.namespace : undefined;
    const client = await this.pool.connect();
    try {
      // One snapshot for the counter and the rows: the list is exactly the state at its resourceVersion.
      await client.query('begin isolation level repeatable read read only');
      const { rows: counter } = await client.query<{ rv: number }>('select rv from rv_counter');
      const page = await this.#select(client, kind, namespace, selector, token, limit);
      await client.query('commit');
      const rv = token ? token.rv : counter[0]!.rv;
      const metadata: ListResult['metadata'] = { resourceVersion: String(rv) };
      if (limit > 0 && page.total > limit) {
        const last = page.items[page.items.length - 1]!;
        metadata.continue = encodeContinue({
          rv,
          ns: last.metadata.namespace ?? '',
          name: last.metadata.name,
        });
        metadata.remainingItemCount = page.total - limit;
      }
      return { apiVersion: API_VERSION, kind: `${kind}List`, metadata, items: page.items };
    } catch (err) {
      await client.query('rollback').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  async #select(
    client: PoolClient,
    kind: string,
    namespace: string | undefined,
    selector: Requirement[],
    after: { ns: string; name: string } | undefined,
    limit: number,
  ): Promise<{ items: BerthObject[]; total: number }> {
    const p = new SqlParams();
    const where = [`kind = ${p.add(kind)}`];
    if (namespace !== undefined) where.push(`namespace = ${p.add(namespace)}`);
    if (after)
      where.push(`(namespace, name) > (${p.add(after.ns)}::text, ${p.add(after.name)}::text)`);
    where.push(selectorSql(selector, p));
    const windowed = limit > 0;
    const sql =
      `select object${windowed ? ', count(*) over () as total' : ''} from resources where ${where.join(' and ')} ` +
      `order by namespace, name${windowed ? ` limit ${p.add(limit)}` : ''}`;
    const { rows } = await client.query<{ object: BerthObject; total?: number }>(sql, p.values);
    return {
      items: rows.map((r) => r.object),
      total: windowed ? (rows[0]?.total ?? 0) : rows.length,
    };
  }

  // ---- writes ----

  async create(kind: string, body: unknown, opts: WriteOptions = {}): Promise<BerthObject> {
    const info = this.kindInfo(kind);
    const obj = incomingObject(info, body);
    checkScope(info, obj);
    stripServerFields(obj);
    if (info.statusSubresource) delete obj.status;
    normaliseOwnerUids(obj);
    const server = { uid: randomUUID(), creationTimestamp: nowTimestamp(), generation: 1 };
    Object.assign(obj.metadata, server);
    const valid = validate(info, obj);
    Object.assign(valid.metadata, server);
    delete valid.metadata.resourceVersion;
    delete valid.metadata.deletionTimestamp;
    if (opts.dryRun) return valid;
    return this.#tx((c) => this.#commit(c, info, 'ADDED', valid, null, opts));
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
    if (typeof manager !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(manager)) {
      throw new ApiError(
        'BadRequest',
        'fieldManager is required: 1 to 128 printable characters without spaces',
        {
          causes: [
            {
              field: 'fieldManager',
              message: 'must be 1 to 128 printable characters without spaces',
            },
          ],
        },
      );
    }
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
          (cur) => {
            const managers = lastApplied(cur);
            const merged = applyMergePatch(
              cur,
              applyPatch(managers[manager], clean),
            ) as BerthObject;
            merged.metadata.annotations = {
              ...merged.metadata.annotations,
              [LAST_APPLIED_ANNOTATION]: lastAppliedValue({ ...managers, [manager]: clean }),
            };
            merged.metadata.resourceVersion = wantRv ?? cur.metadata.resourceVersion;
            return merged;
          },
          'main',
          opts,
        );
        return { object: change.object, result: change.changed ? 'configured' : 'unchanged' };
      } catch (err) {
        if (!isApiError(err, 'NotFound') || attempt >= 3) throw err;
      }
      try {
        const fresh = structuredClone(clean);
        fresh.metadata.annotations = {
          ...fresh.metadata.annotations,
          [LAST_APPLIED_ANNOTATION]: lastAppliedValue({ [manager]: clean }),
        };
        return { object: await this.create(kind, fresh, opts), result: 'created' };
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
    const res = await this.#tx<Change>(async (c) => {
      const current = await this.#lock(c, info, ns, name);
      const meta = current.metadata;
      const pre = opts.preconditions ?? {};
      if (pre.uid !== undefined && pre.uid !== meta.uid) {
        throw conflictError(
          info,
          name,
          `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${meta.uid}`,
        );
      }
      for (const rv of [pre.resourceVersion, opts.resourceVersion]) {
        if (rv !== undefined && rv !== meta.resourceVersion) {
          throw conflictError(
            info,
            name,
            `Precondition failed: ResourceVersion in precondition: ${rv}, ResourceVersion in object meta: ${meta.resourceVersion}`,
          );
        }
      }
      if (meta.finalizers?.length) {
        if (meta.deletionTimestamp) return { object: current, changed: false };
        const next = structuredClone(current);
        next.metadata.deletionTimestamp = nowTimestamp();
        if (opts.dryRun) return { object: next, changed: true };
        return {
          object: await this.#commit(c, info, 'MODIFIED', next, current, opts),
          changed: true,
        };
      }
      if (opts.dryRun) return { object: current, changed: true };
      const object = await this.#commit(
        c,
        info,
        'DELETED',
        structuredClone(current),
        current,
        opts,
      );
      return { object, changed: true, removedUid: meta.uid };
    });
    if (res.removedUid) await this.#cascade(res.removedUid);
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
      const { rows } = await this.pool.query<{ compacted_rv: number }>(
        'select compacted_rv from rv_compaction',
      );
      const compacted = rows[0]!.compacted_rv;
      if (from < compacted) throw goneError(from, compacted);
      return new Watch(this.#hub, this.#readLog, { ...setup, cursor: from, initial: [] });
    }
    const client = await this.pool.connect();
    try {
      await client.query('begin isolation level repeatable read read only');
      const { rows } = await client.query<{ rv: number }>('select rv from rv_counter');
      const snap = await this.#select(client, kind, namespace, selector, undefined, 0);
      await client.query('commit');
      const initial: WatchEvent[] = snap.items.map((object) => ({ type: 'ADDED', object }));
      return new Watch(this.#hub, this.#readLog, { ...setup, cursor: rows[0]!.rv, initial });
    } catch (err) {
      await client.query('rollback').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  /** One page of the log after `after`, with the snapshot's head and compaction mark. */
  readonly #readLog = async (
    after: number,
    kind: string,
    namespace: string | undefined,
    limit: number,
  ): Promise<LogPage> => {
    const client = await this.pool.connect();
    try {
      await client.query('begin isolation level repeatable read read only');
      const { rows: marks } = await client.query<{ head: number; compacted: number }>(
        'select (select rv from rv_counter) as head, (select compacted_rv from rv_compaction) as compacted',
      );
      const params: unknown[] = [kind, after, limit];
      let sql =
        'select rv, kind, namespace, name, type, object, prev_object from resource_log where kind = $1 and rv > $2';
      if (namespace !== undefined) {
        params.push(namespace);
        sql += ' and namespace = $4';
      }
      const { rows } = await client.query<LogRow>(`${sql} order by rv limit $3`, params);
      await client.query('commit');
      return { head: marks[0]!.head, compacted: marks[0]!.compacted, rows };
    } catch (err) {
      await client.query('rollback').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  };

  // ---- maintenance ----

  /** Drops log rows committed more than `olderThanMs` ago (a prefix of the log) and records the mark. */
  async compact(
    olderThanMs: number = this.historyMs,
  ): Promise<{ compactedRv: number; deleted: number }> {
    return this.#tx(async (c) => {
      const { rows } = await c.query<{ rv: number | null }>(
        'select max(rv) as rv from resource_log where committed_at < now() - make_interval(secs => $1)',
        [olderThanMs / 1000],
      );
      const upto = rows[0]?.rv;
      if (upto === null || upto === undefined) {
        const { rows: m } = await c.query<{ compacted_rv: number }>(
          'select compacted_rv from rv_compaction',
        );
        return { compactedRv: m[0]!.compacted_rv, deleted: 0 };
      }
      const del = await c.query('delete from resource_log where rv <= $1', [upto]);
      const { rows: m } = await c.query<{ compacted_rv: number }>(
        'update rv_compaction set compacted_rv = greatest(compacted_rv, $1) returning compacted_rv',
        [upto],
      );
      return { compactedRv: m[0]!.compacted_rv, deleted: del.rowCount ?? 0 };
    });
  }

  /** Deletes (or unlinks) objects whose owners no longer exist: recovery for cascades a crash interrupted. */
  async collectOrphans(): Promise<number> {
    const { rows } = await this.pool.query<{
      kind: string;
      namespace: string;
      name: string;
      object: BerthObject;
      gone: string[];
    }>(
      `select r.kind, r.namespace, r.name, r.object,
              array(select o ->> 'uid' from jsonb_array_elements(r.object -> 'metadata' -> 'ownerReferences') o
                    where not exists (select 1 from resources p where p.uid::text = o ->> 'uid')) as gone
         from resources r
        where jsonb_typeof(r.object -> 'metadata' -> 'ownerReferences') = 'array'
          and exists (select 1 from jsonb_array_elements(r.object -> 'metadata' -> 'ownerReferences') o
                       where not exists (select 1 from resources p where p.uid::text = o ->> 'uid'))`,
    );
    for (const r of rows)
      await this.#collectDependent(r.kind, r.namespace, r.name, r.object, r.gone);
    return rows.length;
  }

  /**
   * Runs compaction, orphan collection and Event expiry (`eventTtlMs`, 0 keeps
   * them) every `intervalMs`; returns the function that stops it.
   */
  startMaintenance(intervalMs = 60_000, eventTtlMs = DEFAULT_EVENT_TTL_MS): () => void {
    let running = false;
    const timer = setInterval(async () => {
      if (running) return;
      running = true;
      try {
        await this.compact();
        await this.collectOrphans();
        if (eventTtlMs > 0) await this.expireEvents(eventTtlMs);
      } catch (err) {
        this.#onBackgroundError(err, 'maintenance');
      } finally {
        running = false;
      }
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  recordEvent(input: RecordEventInput): Promise<BerthObject> {
    return recordEvent(this, input);
  }

  /** Deletes Events last seen more than `olderThanMs` ago (see events.ts); returns how many. */
  expireEvents(olderThanMs: number = DEFAULT_EVENT_TTL_MS, max?: number): Promise<number> {
    return expireEvents(this, olderThanMs, max);
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

  /**
   * One write transaction. Objects committed in it get their resourceVersion, which
   * PostgreSQL assigns at COMMIT, read back before this returns.
   */
  async #tx<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    const pending: PendingStamp[] = [];
    const result = await withTransaction(this.pool, async (c) => {
      this.#pending.set(c, pending);
      try {
        return await fn(c);
      } finally {
        this.#pending.delete(c);
      }
    });
    if (pending.length > 0) {
      const { rows } = await this.pool.query<{ pending_id: number; rv: number }>(
        'select pending_id, rv from resource_log where pending_id = any($1::bigint[])',
        [pending.map((p) => p.id)],
      );
      const rvs = new Map(rows.map((r) => [r.pending_id, r.rv]));
      for (const p of pending) {
        const rv = rvs.get(p.id);
        if (rv === undefined)
          throw new Error(`resourceVersion of write ${p.id} not found after commit`);
        p.object.metadata.resourceVersion = String(rv);
      }
    }
    return result;
  }

  #pendingFor(c: PoolClient): PendingStamp[] {
    const list = this.#pending.get(c);
    if (!list) throw new Error('a store write ran outside the store transaction');
    return list;
  }

  async #lock(c: PoolClient, info: KindInfo, ns: string, name: string): Promise<BerthObject> {
    const { rows } = await c.query<{ object: BerthObject }>(
      'select object from resources where kind = $1 and namespace = $2 and name = $3 for update',
      [info.kind, ns, name],
    );
    if (!rows[0]) throw notFoundError(info, name);
    return rows[0].object;
  }

  async #modify(
    info: KindInfo,
    ns: string,
    name: string,
    compute: (current: BerthObject) => unknown,
    mode: Mode,
    opts: WriteOptions,
  ): Promise<Change> {
    const res = await this.#tx<Change>(async (c) => {
      const current = await this.#lock(c, info, ns, name);
      const desired = compute(structuredClone(current));
      const next =
        mode === 'main'
          ? this.#nextMain(info, current, desired, opts)
          : this.#nextStatus(info, current, desired, opts);
      if (deepEqual(next, current)) return { object: current, changed: false };
      if (opts.dryRun) return { object: next, changed: true };
      if (next.metadata.deletionTimestamp && !next.metadata.finalizers?.length) {
        // The last finalizer went: the object goes now (Kubernetes semantics).
        const object = await this.#commit(c, info, 'DELETED', next, current, opts);
        return { object, changed: true, removedUid: current.metadata.uid };
      }
      return {
        object: await this.#commit(c, info, 'MODIFIED', next, current, opts),
        changed: true,
      };
    });
    if (res.removedUid) await this.#cascade(res.removedUid);
    return res;
  }

  #preconditions(info: KindInfo, current: BerthObject, desired: unknown, opts: WriteOptions): void {
    const meta = isPlainObject(desired) && isPlainObject(desired.metadata) ? desired.metadata : {};
    const name = current.metadata.name;
    for (const rv of [opts.resourceVersion, meta.resourceVersion]) {
      if (rv !== undefined && rv !== '' && String(rv) !== current.metadata.resourceVersion)
        throw conflictError(info, name);
    }
    if (meta.uid !== undefined && meta.uid !== '' && meta.uid !== current.metadata.uid) {
      throw conflictError(
        info,
        name,
        `Precondition failed: UID in precondition: ${String(meta.uid)}, UID in object meta: ${current.metadata.uid}`,
      );
    }
  }

  /** Server-owned metadata always comes from the stored object. */
  #keepServerFields(target: BerthObject, current: BerthObject): void {
    const m = target.metadata;
    const c = current.metadata;
    m.uid = c.uid;
    m.creationTimestamp = c.creationTimestamp;
    m.generation = c.generation;
    m.resourceVersion = c.resourceVersion;
    if (c.deletionTimestamp) m.deletionTimestamp = c.deletionTimestamp;
    else delete m.deletionTimestamp;
  }

  #nextMain(
    info: KindInfo,
    current: BerthObject,
    desired: unknown,
    opts: WriteOptions,
  ): BerthObject {
    this.#preconditions(info, current, desired, opts);
    const obj = incomingObject(info, desired);
    const name = current.metadata.name;
    if (obj.metadata.name !== name)
      throw invalidField(info, name, 'metadata.name', 'field is immutable');
    checkScope(info, obj);
    if ((obj.metadata.namespace ?? '') !== (current.metadata.namespace ?? '')) {
      throw invalidField(info, name, 'metadata.namespace', 'field is immutable');
    }
    this.#keepServerFields(obj, current);
    if (info.statusSubresource) {
      if (current.status === undefined) delete obj.status;
      else obj.status = structuredClone(current.status);
    }
    if (current.metadata.deletionTimestamp) {
      const had = current.metadata.finalizers ?? [];
      const added = (obj.metadata.finalizers ?? []).filter((f) => !had.includes(f));
      if (added.length > 0) {
        throw invalidField(
          info,
          name,
          'metadata.finalizers',
          `no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`,
          'FieldValueForbidden',
        );
      }
    }
    normaliseOwnerUids(obj);
    const valid = validate(info, obj);
    this.#keepServerFields(valid, current);
    const gen = current.metadata.generation ?? 1;
    valid.metadata.generation = deepEqual(specOf(valid), specOf(current)) ? gen : gen + 1;
    return valid;
  }

  #nextStatus(
    info: KindInfo,
    current: BerthObject,
    desired: unknown,
    opts: WriteOptions,
  ): BerthObject {
    if (!isPlainObject(desired))
      throw new ApiError('BadRequest', `the body must be a JSON object (a ${info.kind})`);
    this.#preconditions(info, current, desired, opts);
    const next = structuredClone(current);
    if (desired.status === undefined) delete next.status;
    else next.status = desired.status;
    const valid = validate(info, next);
    this.#keepServerFields(valid, current);
    return valid;
  }

  async #commit(
    c: PoolClient,
    info: KindInfo,
    type: WriteResult['type'],
    object: BerthObject,
    prev: BerthObject | null,
    opts: WriteOptions,
  ): Promise<BerthObject> {
    const ns = object.metadata.namespace ?? '';
    const name = object.metadata.name;
    // The row first, without the counter: the hooks below see it, and an existing
    // name fails here (AlreadyExists) before any lock on the counter is taken.
    delete object.metadata.resourceVersion;
    const rowParams = [info.kind, ns, name];
    try {
      if (type === 'ADDED') {
        await c.query(
          `insert into resources (kind, namespace, name, uid, resource_version, object)
           values ($1, $2, $3, $4::uuid, 0, $5::jsonb)`,
          [...rowParams, object.metadata.uid, JSON.stringify(object)],
        );
      } else if (type === 'MODIFIED') {
        await c.query(
          'update resources set object = $4::jsonb where kind = $1 and namespace = $2 and name = $3',
          [...rowParams, JSON.stringify(object)],
        );
      } else {
        await c.query(
          'delete from resources where kind = $1 and namespace = $2 and name = $3',
          rowParams,
        );
      }
    } catch (err) {
      if ((err as { code?: string }).code === '23505') {
        throw new ApiError('AlreadyExists', `${info.plural} "${name}" already exists`, {
          kind: info.plural,
          name,
        });
      }
      throw err;
    }
    if (opts.inTransaction) await opts.inTransaction(c, { type, object: structuredClone(object) });
    if (this.#onWrite) {
      await this.#onWrite(c, {
        type,
        object: structuredClone(object),
        previous: prev ? structuredClone(prev) : null,
      });
    }
    // The log row with a placeholder resourceVersion; the deferred trigger of
    // migration 007 stamps the real one at COMMIT (see there for why), and #tx
    // reads it back afterwards.
    const { rows } = await c.query<{ pending_id: number }>(
      `with p as (select nextval('resource_log_pending') as id)
       insert into resource_log (rv, pending_id, kind, namespace, name, type, object, prev_object)
       select -p.id, p.id, $1, $2, $3, $4, $5::jsonb, $6::jsonb from p
       returning pending_id`,
      [info.kind, ns, name, type, JSON.stringify(object), prev ? JSON.stringify(prev) : null],
    );
    this.#pendingFor(c).push({ id: rows[0]!.pending_id, object });
    return object;
  }

  /** Background cascading delete: runs after the owner's removal committed. */
  async #cascade(ownerUid: string): Promise<void> {
    try {
      const { rows } = await this.pool.query<{
        kind: string;
        namespace: string;
        name: string;
        object: BerthObject;
      }>(
        `select kind, namespace, name, object from resources where object -> 'metadata' -> 'ownerReferences' @> $1::jsonb`,
        [JSON.stringify([{ uid: ownerUid }])],
      );
      for (const r of rows)
        await this.#collectDependent(r.kind, r.namespace, r.name, r.object, [ownerUid]);
    } catch (err) {
      // collectOrphans() finishes the job later.
      this.#onBackgroundError(err, 'cascading delete');
    }
  }

  /** A dependent whose owners `gone` were removed: delete it when no owner is left, else drop those references. */
  async #collectDependent(
    kind: string,
    ns: string,
    name: string,
    dep: BerthObject,
    gone: string[],
  ): Promise<void> {
    const info = this.#kinds.get(kind);
    if (!info) return;
    const others = (dep.metadata.ownerReferences ?? [])
      .map((r) => r.uid)
      .filter((u) => !gone.includes(u));
    try {
      let alive = 0;
      if (others.length > 0) {
        const { rows } = await this.pool.query<{ n: number }>(
          'select count(*) as n from resources where uid::text = any($1::text[])',
          [others],
        );
        alive = rows[0]!.n;
      }
      if (alive === 0) {
        await this.delete(kind, ns || undefined, name, {
          preconditions: { uid: dep.metadata.uid! },
        });
      } else {
        await this.#modify(
          info,
          ns,
          name,
          (cur) => {
            cur.metadata.ownerReferences = (cur.metadata.ownerReferences ?? []).filter(
              (r) => !gone.includes(r.uid),
            );
            return cur;
          },
          'main',
          {},
        );
      }
    } catch (err) {
      if (isApiError(err, 'NotFound') || isApiError(err, 'Conflict')) return; // already gone or replaced
      this.#onBackgroundError(err, 'cascading delete');
    }
  }
}
