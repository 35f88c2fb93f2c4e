// A dataset database for the credentials engine's tests: a fresh database owned by
// a fresh non-superuser admin (CREATEROLE, member of pg_signal_backend), as on
// RDS, with a few tables in two schemas; a unique installation id per call
// (roles are cluster-wide and test files run in parallel). Cleanup drops the
// database and every role the installation made.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { rolePrefix } from '../../../controllers/credentials/names.ts';

export const TABLES = {
  orders: { schema: 'sales', table: 'orders' },
  customers: { schema: 'sales', table: 'customers' },
  people: { schema: 'hr', table: 'people' },
  regions: { schema: 'public', table: 'regions' },
} as const;

export interface EngineDatabase {
  installationId: string;
  dbname: string;
  /** The admin pool the engine works with (as a Database's admin login). */
  pool: pg.Pool;
  /** Another admin pool (a second controller replica); the caller ends it. */
  adminPool(max?: number): pg.Pool;
  /** A client logged in as `user` with `password` (not connected yet). */
  clientAs(user: string, password: string): pg.Client;
  /** Connected superuser client on this database (for checks only the cluster admin can make). */
  superQuery<R extends pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>>;
  /** How many roles of this installation exist. */
  roleCount(): Promise<number>;
  cleanup(): Promise<void>;
}

function superUrl(): string {
  const url = process.env.BERTH_TEST_ADMIN_DATABASE_URL ?? process.env.DATABASE_URL;
  if (!url) throw new Error('no test database: run with test/run.ts');
  return url;
}

export async function engineDatabase(poolMax = 10): Promise<EngineDatabase> {
  const tag = randomBytes(5).toString('hex');
  const dbname = `berth_eng_${tag}`;
  const admin = `berth_eng_admin_${tag}`;
  const adminPassword = randomBytes(18).toString('base64url');
  const installationId = `engine-test-${tag}`;
  const base = new URL(superUrl());
  const sup = new pg.Client({ connectionString: base.toString() });
  await sup.connect();
  try {
    await sup.query(
      `create role ${admin} login createrole password ${pg.escapeLiteral(adminPassword)}`,
    );
    await sup.query(`grant pg_signal_backend to ${admin}`);
    await sup.query(`create database ${dbname} owner ${admin}`);
  } finally {
    await sup.end();
  }
  const at = (user: string, password: string) => ({
    host: base.hostname,
    port: Number(base.port),
    database: dbname,
    user,
    password,
  });
  const pool = new pg.Pool({ ...at(admin, adminPassword), max: poolMax });
  pool.on('error', () => {});
  await pool.query(`
    create schema sales; create schema hr;
    create table sales.orders (id int primary key, amount numeric);
    create table sales.customers (id int primary key, name text);
    create table hr.people (id int primary key, salary numeric);
    create table public.regions (code text primary key);
    insert into sales.orders values (1, 10), (2, 20);
    insert into sales.customers values (1, 'Acme');
    insert into hr.people values (1, 50000);
    insert into public.regions values ('UK');
    revoke all on schema public from public;`);
  const superOnDb = new URL(base);
  superOnDb.pathname = `/${dbname}`;
  const superPool = new pg.Pool({ connectionString: superOnDb.toString(), max: 2 });
  superPool.on('error', () => {});
  const prefix = rolePrefix(installationId);
  return {
    installationId,
    dbname,
    pool,
    adminPool: (max = 10) => {
      const p = new pg.Pool({ ...at(admin, adminPassword), max });
      p.on('error', () => {});
      return p;
    },
    clientAs: (user, password) => {
      const c = new pg.Client(at(user, password));
      c.on('error', () => {});
      return c;
    },
    superQuery: (text, values) => superPool.query(text, values),
    async roleCount() {
      const { rows } = await superPool.query<{ n: number }>(
        'select count(*)::int as n from pg_roles where starts_with(rolname, $1)',
        [prefix],
      );
      return rows[0]!.n;
    },
    async cleanup() {
      await pool.end();
      await superPool.end();
      const c = new pg.Client({ connectionString: base.toString() });
      await c.connect();
      try {
        await c.query(`drop database if exists ${dbname} with (force)`);
        const { rows } = await c.query<{ rolname: string }>(
          'select rolname from pg_roles where starts_with(rolname, $1)',
          [prefix],
        );
        for (const r of rows)
          await c.query(`drop role if exists ${pg.escapeIdentifier(r.rolname)}`);
        await c.query(`drop role if exists ${admin}`);
      } finally {
        await c.end();
      }
    },
  };
}

/** A launch input with the defaults; override what a test needs. */
export function launchInput(
  db: EngineDatabase,
  over: Partial<import('../../../controllers/credentials/engine.ts').LaunchLoginInput> & {
    uid: string;
    password: string;
  },
) {
  return {
    installationId: db.installationId,
    attempt: 1,
    instance: 'analyst1/jupyterlab',
    subject: { kind: 'user' as const, name: 'analyst1' },
    datasets: [],
    validUntil: new Date(Date.now() + 31 * 24 * 3600 * 1000),
    connectionLimit: 3,
    statementTimeoutMs: 3_600_000,
    idleInTransactionTimeoutMs: 3_600_000,
    ...over,
  };
}

/** The SQLSTATE a query fails with, or 'ok'. */
export async function sqlState(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return 'ok';
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}
