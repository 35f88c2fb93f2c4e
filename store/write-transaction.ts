// One write transaction of the store: the row, the caller's hooks and the log row of
// each write in it, then a commit that assigns their resourceVersions (see
// sql.ts `commitStamped`). What a committed write answers comes from the commit's
// own reply: after COMMIT there is nothing left that could fail. When that reply is
// lost (the connection dropped while committing), the log is asked whether the
// write made it, so a committed write is still answered as one.
import type pg from 'pg';
import { ApiError, type BerthObject, type KindInfo } from '../crds/index.ts';
import type { Pool, PoolClient } from './db.ts';
import * as sql from './sql.ts';
import type { WriteChange, WriteOptions, WriteResult } from './types.ts';

type OnWrite = (client: PoolClient, change: WriteChange) => Promise<void>;

export class WriteTransaction {
  readonly client: PoolClient;
  readonly #pool: Pool;
  readonly #onWrite: OnWrite | undefined;
  /** Objects written here, in log order, waiting for their commit-time resourceVersion. */
  readonly #unstamped: { pendingId: number; object: BerthObject }[] = [];

  constructor(pool: Pool, client: PoolClient, onWrite: OnWrite | undefined) {
    this.#pool = pool;
    this.client = client;
    this.#onWrite = onWrite;
  }

  /**
   * Writes `object` (the row, then the hooks, then one log row) and returns it; its
   * `metadata.resourceVersion` is set when the transaction commits.
   */
  async write(
    info: KindInfo,
    type: WriteResult['type'],
    object: BerthObject,
    prev: BerthObject | null,
    opts: WriteOptions,
  ): Promise<BerthObject> {
    const c = this.client;
    const ns = object.metadata.namespace ?? '';
    const name = object.metadata.name;
    delete object.metadata.resourceVersion;
    const key = [info.kind, ns, name];
    try {
      if (type === 'ADDED') {
        await c.query(sql.insertObject, [...key, object.metadata.uid, JSON.stringify(object)]);
      } else if (type === 'MODIFIED') {
        await c.query(sql.updateObject, [...key, JSON.stringify(object)]);
      } else {
        await c.query(sql.deleteObject, key);
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
    if (opts.inTransaction) {
      await opts.inTransaction(c, {
        type,
        object: structuredClone(object),
        previous: prev ? structuredClone(prev) : null,
      });
    }
    if (this.#onWrite) {
      await this.#onWrite(c, {
        type,
        object: structuredClone(object),
        previous: prev ? structuredClone(prev) : null,
      });
    }
    const { rows } = await c.query<{ pending_id: number }>(sql.appendLog, [
      info.kind,
      ns,
      name,
      type,
      JSON.stringify(object),
      prev ? JSON.stringify(prev) : null,
    ]);
    this.#unstamped.push({ pendingId: rows[0]!.pending_id, object });
    return object;
  }

  /** Commits; every object written gets the resourceVersion its log row got. */
  async commit(): Promise<void> {
    const written = this.#unstamped;
    if (written.length === 0) {
      await this.client.query('commit');
      return;
    }
    let rvs: number[];
    try {
      const results = (await this.client.query(sql.commitStamped)) as unknown as pg.QueryResult[];
      const last = Number((results[1]?.rows[0] as { rv: number } | undefined)?.rv);
      if (!Number.isSafeInteger(last))
        throw new Error('the commit did not answer a resourceVersion');
      // The trigger fires once per log row in the order they were written, and this
      // transaction holds the counter from the first to the last: its rows got
      // consecutive resourceVersions ending at `last`.
      rvs = written.map((_, i) => last - written.length + 1 + i);
    } catch (err) {
      await this.client.query('rollback').catch(() => {});
      rvs = await this.#committedDespite(err);
    }
    written.forEach((w, i) => {
      w.object.metadata.resourceVersion = String(rvs[i]);
    });
  }

  /**
   * The resourceVersions of this transaction's log rows when they are there (it did
   * commit; only the answer was lost), else `err`. Asked on another connection, and
   * only after a failed commit: a write that did not commit is reported as before.
   */
  async #committedDespite(err: unknown): Promise<number[]> {
    const ids = this.#unstamped.map((w) => w.pendingId);
    const found = await this.#pool
      .query<{ pending_id: number; rv: number }>(sql.committedRvs, [ids])
      .catch(() => undefined);
    const rvs = new Map(found?.rows.map((r) => [r.pending_id, r.rv]));
    if (ids.some((id) => !(Number(rvs.get(id)) > 0))) throw err;
    return ids.map((id) => rvs.get(id)!);
  }
}

/** Runs `fn` in a write transaction; rolls back on any error, including the hooks'. */
export async function inWriteTransaction<T>(
  pool: Pool,
  onWrite: OnWrite | undefined,
  fn: (tx: WriteTransaction) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const tx = new WriteTransaction(pool, client, onWrite);
    const result = await fn(tx);
    await tx.commit();
    return result;
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
