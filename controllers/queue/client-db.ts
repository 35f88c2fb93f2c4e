// pg-boss's `db` option over one of our pool clients (a transaction in progress) or
// over our pool, so pg-boss statements run where we say: enqueue in the store
// write's own transaction, everything else on the shared pool.
import type { Db } from 'pg-boss';
import type { Pool, PoolClient } from '../../store/index.ts';

export function clientDb(client: PoolClient | Pool): Db {
  return {
    async executeSql(text: string, values?: unknown[]) {
      const r: unknown = await client.query(text, values as unknown[] | undefined);
      // A multi-statement text (migrations, maintenance batches) answers one result per
      // statement; pg-boss wants the rows of every statement.
      if (Array.isArray(r)) return { rows: r.flatMap((x: { rows?: unknown[] }) => x.rows ?? []) };
      return { rows: (r as { rows: unknown[] }).rows };
    },
  };
}
