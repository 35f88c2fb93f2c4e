// What keeps the store's tables bounded: log compaction, orphan collection, the
// expiry of Events (which have no owner to be collected with) and the audit log's
// retention sweep, run together on a timer.
import { isApiError } from '../crds/index.ts';
import { type Pool, withTransaction } from './db.ts';
import { EVENT_KIND } from './events.ts';
import * as sql from './sql.ts';
import type { ObjectStore } from './types.ts';

/** Drops log rows committed more than `olderThanMs` ago (a prefix of the log) and records the mark. */
export function compact(
  pool: Pool,
  olderThanMs: number,
): Promise<{ compactedRv: number; deleted: number }> {
  return withTransaction(pool, async (c) => {
    const { rows } = await c.query<{ rv: number | null }>(sql.compactableRv, [olderThanMs / 1000]);
    const upto = rows[0]?.rv;
    if (upto === null || upto === undefined) {
      const { rows: m } = await c.query<{ compacted_rv: number }>(sql.compactionMark);
      return { compactedRv: m[0]!.compacted_rv, deleted: 0 };
    }
    const del = await c.query(sql.deleteLogUpTo, [upto]);
    const { rows: m } = await c.query<{ compacted_rv: number }>(sql.raiseCompactionMark, [upto]);
    return { compactedRv: m[0]!.compacted_rv, deleted: del.rowCount ?? 0 };
  });
}

/**
 * Deletes Events last seen more than `olderThanMs` ago, through the store (so
 * watchers see them go), at most `max` per call; returns how many went.
 */
export async function expireEvents(
  pool: Pool,
  store: Pick<ObjectStore, 'delete'>,
  olderThanMs: number,
  max = 1000,
): Promise<number> {
  const { rows } = await pool.query<{ namespace: string; name: string }>(sql.expiredEvents, [
    EVENT_KIND,
    olderThanMs / 1000,
    max,
  ]);
  let deleted = 0;
  for (const r of rows) {
    try {
      await store.delete(EVENT_KIND, r.namespace, r.name);
      deleted++;
    } catch (err) {
      if (!isApiError(err, 'NotFound')) throw err;
    }
  }
  return deleted;
}

interface Maintained {
  compact(): Promise<unknown>;
  collectOrphans(): Promise<unknown>;
  expireEvents(olderThanMs: number): Promise<unknown>;
  sweepAudit(olderThanMs: number): Promise<unknown>;
}

/**
 * Runs compaction, orphan collection, Event expiry (`eventTtlMs`, 0 keeps them)
 * and the audit sweep (`auditRetentionMs`, 0 keeps entries) every `intervalMs`,
 * one round at a time; returns the function that stops it.
 */
export function startMaintenance(
  store: Maintained,
  intervalMs: number,
  eventTtlMs: number,
  onError: (err: unknown, what: string) => void,
  auditRetentionMs = 0,
): () => void {
  let running = false;
  const timer = setInterval(async () => {
    if (running) return;
    running = true;
    try {
      await store.compact();
      await store.collectOrphans();
      if (eventTtlMs > 0) await store.expireEvents(eventTtlMs);
      if (auditRetentionMs > 0) await store.sweepAudit(auditRetentionMs);
    } catch (err) {
      onError(err, 'maintenance');
    } finally {
      running = false;
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
