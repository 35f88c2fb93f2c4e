// What every standalone daemon (`berth api`, `berth proxy`, `berth controller`) does
// first: insist on DATABASE_URL, open a pool, apply the migrations, and say so
// without the password.
import type { Logger } from 'pino';
import { createPool, migrate, type Pool, type PoolOptions, redactUrl } from '../store/index.ts';

/** DATABASE_URL, or undefined after telling the person what to set (exit code 2). */
export function requireDatabaseUrl(daemon: string): string | undefined {
  const url = process.env.DATABASE_URL;
  if (url) return url;
  console.error(
    `berth ${daemon}: DATABASE_URL is required (e.g. postgres://user:password@host:5432/berth); \`berth up\` runs everything locally instead`,
  );
  process.exitCode = 2;
  return undefined;
}

/** A pool on `url` with every migration applied; the pool is closed again if migrating fails. */
export async function openMigratedPool(
  url: string,
  log: Logger,
  options: PoolOptions,
): Promise<Pool> {
  const pool = createPool(url, options);
  try {
    const applied = await migrate(pool);
    log.info(
      {
        database: redactUrl(url),
        applied: applied.filter((m) => m.appliedNow).map((m) => m.version),
      },
      'database migrated',
    );
    return pool;
  } catch (err) {
    await pool.end().catch(() => {});
    throw err;
  }
}
