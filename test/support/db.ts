// A fresh database per test file (or suite), migrated, so tests never see each
// other's rows. The run's admin URL comes from test/run.ts.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPool, migrate, type Pool } from '../../store/index.ts';

export interface TestDatabase {
  url: string;
  pool: Pool;
  drop(): Promise<void>;
}

function adminUrl(): string {
  const url = process.env.BERTH_TEST_ADMIN_DATABASE_URL ?? process.env.DATABASE_URL;
  if (!url)
    throw new Error('no test database: run the suite with `make test` (or set DATABASE_URL)');
  return url;
}

export async function freshDatabase(): Promise<TestDatabase> {
  const name = `berth_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const u = new URL(adminUrl());
  u.pathname = `/${name}`;
  const url = u.toString();
  const pool = createPool(url, { max: 20, applicationName: 'berth-test' });
  await migrate(pool);
  return {
    url,
    pool,
    async drop() {
      await pool.end();
      const c = new pg.Client({ connectionString: adminUrl() });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}
