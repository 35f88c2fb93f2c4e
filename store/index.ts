// store/: PostgreSQL. Other folders import only from here.
export { createPool, redactUrl, withTransaction, type Pool, type PoolClient } from './db.ts';
export { freePort, startEmbeddedPostgres, type EmbeddedDatabase } from './embedded.ts';
export { migrate } from './migrate.ts';
export type * from './types.ts';
