// A role change: one transaction under the role lock (role-lock.ts), retried once
// when PostgreSQL still reports a race the lock cannot cover: another database on
// the same cluster (advisory locks are per database, roles per cluster) changing
// the same role ("tuple concurrently updated", a duplicate role) or a deadlock.
// The retry reads the catalog again, so it skips what the other side did.
import type pg from 'pg';
import { withRoleLock } from './role-lock.ts';

export function retryable(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (e.code === '40P01') return true; // deadlock_detected
  if (e.code === '42710' || e.code === '23505') return true; // a role created meanwhile
  return e.code === 'XX000' && /tuple concurrently (updated|deleted)/.test(e.message ?? '');
}

/** Runs `fn` under the role lock; retries once. */
export async function roleChange<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const run = () => withRoleLock(pool, fn);
  try {
    return await run();
  } catch (err) {
    if (!retryable(err)) throw err;
    return await run();
  }
}

/** Sends DDL statements in one round trip (simple protocol); nothing to send, nothing sent. */
export async function sendAll(client: pg.PoolClient, statements: string[]): Promise<void> {
  if (statements.length) await client.query(statements.join(';\n'));
}
