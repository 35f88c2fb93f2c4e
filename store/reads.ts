// The store's multi-row reads, each in one REPEATABLE READ snapshot so that the
// resourceVersion it reports is exactly the state it read: a list page, the
// snapshot a watch from "0" starts with, and a page of the change log.
import { API_VERSION, ApiError, type BerthObject, type KindInfo } from '../crds/index.ts';
import { decodeContinue, encodeContinue } from './continue-token.ts';
import { type Pool, type PoolClient, withTransaction } from './db.ts';
import { parseSelector, type Requirement } from './selectors.ts';
import * as sql from './sql.ts';
import type { ListOptions, ListResult } from './types.ts';
import type { LogPage, LogReader, LogRow } from './watch.ts';

/** Runs `fn` in a read-only snapshot on one client. */
function inSnapshot<T>(pool: Pool, fn: (c: PoolClient) => Promise<T>): Promise<T> {
  return withTransaction(pool, fn, sql.beginSnapshot);
}

interface Filter {
  kind: string;
  /** Undefined: every namespace (or a cluster-scoped kind). */
  namespace: string | undefined;
  selector: Requirement[];
}

async function page(
  c: PoolClient,
  f: Filter,
  after: { ns: string; name: string } | undefined,
  limit: number,
): Promise<{ items: BerthObject[]; total: number }> {
  const q = sql.listPage(f.kind, f.namespace, f.selector, after, limit);
  const { rows } = await c.query<{ object: BerthObject; total?: number }>(q.text, q.values);
  return {
    items: rows.map((r) => r.object),
    total: limit > 0 ? (rows[0]?.total ?? 0) : rows.length,
  };
}

/** The objects matching `f` (after `after`, at most `limit` when > 0), their total, and the counter. */
export function readPage(
  pool: Pool,
  f: Filter,
  after: { ns: string; name: string } | undefined,
  limit: number,
): Promise<{ rv: number; items: BerthObject[]; total: number }> {
  return inSnapshot(pool, async (c) => {
    const { rows } = await c.query<{ rv: number }>(sql.currentRv);
    return { rv: rows[0]!.rv, ...(await page(c, f, after, limit)) };
  });
}

/** A list (one page of it with `limit`): items in namespace, name order, at one resourceVersion. */
export async function readList(pool: Pool, info: KindInfo, opts: ListOptions): Promise<ListResult> {
  const selector = parseSelector(opts.labelSelector ?? '');
  const limit = opts.limit ?? 0;
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new ApiError('BadRequest', `limit must be a non-negative integer, got ${String(limit)}`, {
      causes: [{ field: 'limit', message: 'must be a non-negative integer' }],
    });
  }
  const token = opts.continue ? decodeContinue(opts.continue) : undefined;
  const namespace = info.namespaced ? opts.namespace : undefined;
  const page = await readPage(pool, { kind: info.kind, namespace, selector }, token, limit);
  // Later pages report the first page's resourceVersion: a watch from it can repeat, never miss.
  const rv = token ? token.rv : page.rv;
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
  return { apiVersion: API_VERSION, kind: `${info.kind}List`, metadata, items: page.items };
}

/** The rows up to which the log was compacted away. */
export async function compactedRv(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ compacted_rv: number }>(sql.compactionMark);
  return rows[0]!.compacted_rv;
}

/** Reads one page of the log after `after`, with the snapshot's head and compaction mark. */
export function logReader(pool: Pool): LogReader {
  return (after, kind, namespace, limit) =>
    inSnapshot<LogPage>(pool, async (c) => {
      const { rows: marks } = await c.query<{ head: number; compacted: number }>(sql.logMarks);
      const q = sql.logPage(kind, namespace, after, limit);
      const { rows } = await c.query<LogRow>(q.text, q.values);
      return { head: marks[0]!.head, compacted: marks[0]!.compacted, rows };
    });
}
