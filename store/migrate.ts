import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
// Any fixed 64-bit number; every berth process that migrates takes this lock, so
// several processes starting at once apply each migration exactly once.
const MIGRATION_LOCK = 7_301_204_551n;

export interface AppliedMigration {
  version: string;
  appliedNow: boolean;
}

/** Applies every `NNN_name.sql` in store/migrations/ not yet recorded, in order, each in its own transaction. */
export async function migrate(pool: pg.Pool): Promise<AppliedMigration[]> {
  const files = (await readdir(MIGRATIONS_DIR))
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort();
  const client = await pool.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK.toString()]);
    await client.query(
      'create table if not exists schema_migrations (version text primary key, applied_at timestamptz not null default now())',
    );
    const done = new Set(
      (await client.query<{ version: string }>('select version from schema_migrations')).rows.map(
        (r) => r.version,
      ),
    );
    const result: AppliedMigration[] = [];
    for (const file of files) {
      const version = file.replace(/\.sql$/, '');
      if (done.has(version)) {
        result.push({ version, appliedNow: false });
        continue;
      }
      const sql = await readFile(MIGRATIONS_DIR + file, 'utf8');
      await client.query('begin');
      try {
        await client.query(sql);
        await client.query('insert into schema_migrations (version) values ($1)', [version]);
        await client.query('commit');
      } catch (err) {
        await client.query('rollback');
        throw new Error(`migration ${file} failed: ${(err as Error).message}`);
      }
      result.push({ version, appliedNow: true });
    }
    return result;
  } finally {
    await client
      .query('select pg_advisory_unlock($1)', [MIGRATION_LOCK.toString()])
      .catch(() => {});
    client.release();
  }
}
