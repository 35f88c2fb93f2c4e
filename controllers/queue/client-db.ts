// pg-boss's `db` option over one of our pool clients (a transaction in progress) or
// over our pool, so pg-boss statements run where we say: enqueue in the store
// write's own transaction, everything else on the shared pool.
import type { Db } from 'pg-boss';
import type { Pool, PoolClient } from '../../store/index.ts';

export function clientDb(client: PoolClient | Pool): Db {
  return {
    async executeSql(text: string, values?: unknown[]) {
      const r = await client.query(text, values as unknown[] | undefined);
      // A multi-statement text (pg-boss migrations) answers an array of results.
      const last = Array.isArray(r) ? r[r.length - 1] : r;
      return { rows: last?.rows ?? [] };
    },
  };
}
