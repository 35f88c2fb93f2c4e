// A named PostgreSQL advisory lock held for the length of a piece of work, taken
// with a try-lock: whoever does not get it skips the work instead of queueing
// (e.g. one controller replica at a time runs a culling pass). A session lock on
// a connection of its own, so a process that dies mid-work releases it with its
// connection.
import type { Pool } from './db.ts';

const SQL = {
  tryLock: 'select pg_try_advisory_lock(hashtextextended($1, 0)) as locked',
  unlock: 'select pg_advisory_unlock(hashtextextended($1, 0))',
} as const;

export type TryLockResult<T> = { locked: true; value: T } | { locked: false };

/** Runs `fn` while holding the advisory lock `name`; answers `{ locked: false }` at once if another session holds it. */
export async function withTryAdvisoryLock<T>(
  pool: Pool,
  name: string,
  fn: () => Promise<T>,
): Promise<TryLockResult<T>> {
  const client = await pool.connect();
  // A connection whose lock statements failed is dropped (which releases the lock), not reused.
  let broken: Error | undefined;
  try {
    let locked: boolean | undefined;
    try {
      locked = (await client.query<{ locked: boolean }>(SQL.tryLock, [name])).rows[0]?.locked;
    } catch (err) {
      broken = err as Error;
      throw err;
    }
    if (!locked) return { locked: false };
    try {
      return { locked: true, value: await fn() };
    } finally {
      await client.query(SQL.unlock, [name]).catch((err: Error) => {
        broken = err;
      });
    }
  } finally {
    client.release(broken);
  }
}
