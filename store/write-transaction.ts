// One write transaction of the store: the row, the caller's hooks and the log row of
// each write in it, then a commit that assigns their resourceVersions (see
// sql.ts `commitStamped`). What a committed write answers comes from the commit's
// own reply: after COMMIT there is nothing left that could fail.
import type pg from 'pg';
import { ApiError, type BerthObject, type KindInfo } from '../crds/index.ts';
import type { Pool, PoolClient } from './db.ts';
import * as sql from './sql.ts';
import type { WriteChange, WriteOptions, WriteResult } from './types.ts';

export type OnWrite = (client: PoolClient, change: WriteChange) => Promise<void>;

export class WriteTransaction {
  readonly client: PoolClient;
  readonly #onWrite: OnWrite | undefined;
  /** Objects written here, in log order, waiting for their commit-time resourceVersion. */
  readonly #unstamped: BerthObject[] = [];

  constructor(client: PoolClient, onWrite: OnWrite | undefined) {
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
    if (opts.inTransaction) await opts.inTransaction(c, { type, object: structuredClone(object) });
    if (this.#onWrite) {
      await this.#onWrite(c, {
        type,
        object: structuredClone(object),
        previous: prev ? structuredClone(prev) : null,
      });
    }
    await c.query(sql.appendLog, [
      info.kind,
      ns,
      name,
      type,
      JSON.stringify(object),
      prev ? JSON.stringify(prev) : null,
    ]);
    this.#unstamped.push(object);
    return object;
  }

  /** Commits; every object written gets the resourceVersion its log row got. */
  async commit(): Promise<void> {
    if (this.#unstamped.length === 0) {
      await this.client.query('commit');
      return;
    }
    const results = (await this.client.query(sql.commitStamped)) as unknown as pg.QueryResult[];
    const last = Number((results[1]?.rows[0] as { rv: number } | undefined)?.rv);
    // The trigger fires once per log row in the order they were written, and this
    // transaction holds the counter from the first to the last: its rows got
    // consecutive resourceVersions ending at `last`.
    const first = last - this.#unstamped.length + 1;
    this.#unstamped.forEach((object, i) => {
      object.metadata.resourceVersion = String(first + i);
    });
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
    const tx = new WriteTransaction(client, onWrite);
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
