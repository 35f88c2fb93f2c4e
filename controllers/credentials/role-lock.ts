// Role changes on one database are serialized: concurrent GRANT/REVOKE/CREATE ROLE
// touching the same role fail with "tuple concurrently updated" (Data Workspace
// hit this). Every change berth makes to roles runs in a transaction that first
// takes this advisory lock, so replicas and concurrent launches queue instead.
// Advisory locks are per database: two Database objects on one cluster do not
// serialize each other (SECURITY.md / controllers/credentials/README.md).
import type pg from 'pg';

/** Arbitrary but fixed: "berth roles" as a 64-bit advisory lock key. */
const ROLE_LOCK_KEY = '7331262710113104';

/**
 * The lock as the first statement of a multi-statement simple query: PostgreSQL
 * runs such a query as one implicit transaction, so the lock is held until its
 * last statement commits (one round trip for lock, changes and commit).
 */
export const TAKE_ROLE_LOCK = `select pg_advisory_xact_lock(${ROLE_LOCK_KEY}::bigint)`;

/** Runs `fn` in a transaction holding the role lock; commits, or rolls back and rethrows. */
export async function withRoleLock<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    // One round trip for both (a constant, so the simple protocol's text is safe).
    await client.query(`begin; ${TAKE_ROLE_LOCK}`);
    const out = await fn(client);
    await client.query('commit');
    return out;
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
