import pg from 'pg';

// bigint columns (resourceVersion, counts) come back as strings unless told otherwise;
// every bigint berth stores fits comfortably in a double.
pg.types.setTypeParser(20, (v) => Number(v));

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export interface PoolOptions {
  max?: number;
  applicationName?: string;
}

/** A pg pool for a connection string. A lost connection is an error for its user, never a crash. */
export function createPool(url: string, opts: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    application_name: opts.applicationName ?? 'berth',
    idleTimeoutMillis: 30_000,
  });
  pool.on('error', () => {
    // An idle client lost its connection (server restart); the pool replaces it.
  });
  // A checked-out client has no listener of the pool's: one that loses its
  // connection between two queries (a restart, a failover, pg_terminate_backend)
  // would emit an unhandled 'error' and end the process. Its user still learns it:
  // the next query on it fails, and release() then drops it from the pool.
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
  return pool;
}

/**
 * Runs `fn` in a transaction on one client; rolls back on any error. `begin` is
 * the statement that opens it (e.g. a read-only snapshot).
 */
export async function withTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
  begin = 'begin',
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(begin);
    const result = await fn(client);
    await client.query('commit');
    return result;
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

/** Removes the password from a connection string, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<invalid database url>';
  }
}
