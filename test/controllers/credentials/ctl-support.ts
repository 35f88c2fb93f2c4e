// The controllers' credentials tests: a dataset database owned by a
// non-superuser admin (CREATEROLE, member of pg_signal_backend, as on RDS) with
// tables in two schemas, the reconcilers running against it with ecs-local and
// the SQL test tool, a unique installation id per call (roles are cluster-wide
// and test files run in parallel), and helpers to create Databases and Datasets.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { rolePrefix } from '../../../controllers/credentials/names.ts';
import type { DatasetInput, ToolInstance } from '../../../crds/index.ts';
import type { ResourceStore } from '../../../store/index.ts';
import { SqlTool, sqlToolImage, sqlToolSpec } from '../../support/sql-tool/index.ts';
import {
  createTool,
  type Env,
  type ManagerOptions,
  startEnv,
  waitFor,
  waitForPhase,
} from '../reconcile-support.ts';

export interface DataDatabase {
  host: string;
  port: number;
  dbname: string;
  admin: string;
  /** {"username","password"} as a Database's admin secret holds it. */
  adminJson: string;
  superQuery<R extends pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>>;
  /** Drops the database, then `extraRoles` (they depend on the admin), then the admin. */
  cleanup(extraRoles?: string[]): Promise<void>;
}

function superUrl(): string {
  const url = process.env.BERTH_TEST_ADMIN_DATABASE_URL ?? process.env.DATABASE_URL;
  if (!url) throw new Error('no test database: run with test/run.ts');
  return url;
}

/** A fresh database with sales.orders, sales.customers, hr.people, public.regions. */
export async function dataDatabase(): Promise<DataDatabase> {
  const tag = randomBytes(5).toString('hex');
  const dbname = `berth_ctl_${tag}`;
  const admin = `berth_ctl_admin_${tag}`;
  const password = randomBytes(18).toString('base64url');
  const base = new URL(superUrl());
  const sup = new pg.Client({ connectionString: base.toString() });
  await sup.connect();
  try {
    await sup.query(`create role ${admin} login createrole password ${pg.escapeLiteral(password)}`);
    await sup.query(`grant pg_signal_backend to ${admin}`);
    await sup.query(`create database ${dbname} owner ${admin}`);
  } finally {
    await sup.end();
  }
  const host = base.hostname;
  const port = Number(base.port);
  const c = new pg.Client({ host, port, database: dbname, user: admin, password });
  await c.connect();
  await c.query(`
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
  await c.end();
  const onDb = new URL(base);
  onDb.pathname = `/${dbname}`;
  const superPool = new pg.Pool({ connectionString: onDb.toString(), max: 2 });
  superPool.on('error', () => {});
  return {
    host,
    port,
    dbname,
    admin,
    adminJson: JSON.stringify({ username: admin, password }),
    superQuery: (text, values) => superPool.query(text, values),
    async cleanup(extraRoles: string[] = []) {
      await superPool.end();
      const s = new pg.Client({ connectionString: base.toString() });
      await s.connect();
      try {
        await s.query(`drop database if exists ${dbname} with (force)`);
        for (const r of extraRoles) await s.query(`drop role if exists ${pg.escapeIdentifier(r)}`);
        await s.query(`drop role if exists ${admin}`);
      } finally {
        await s.end();
      }
    },
  };
}

export interface CredEnv {
  env: Env;
  store: ResourceStore;
  data: DataDatabase;
  installationId: string;
  /** The controllers' environment (admin credentials as WAREHOUSE_ADMIN). */
  controllerEnv: Record<string, string | undefined>;
  /** The roles of this installation in the cluster. */
  roles(): Promise<string[]>;
  close(): Promise<void>;
}

export async function startCredEnv(opts: {
  addressOctet: number;
  manager?: ManagerOptions;
  gateStub?: boolean;
  extraEnv?: Record<string, string>;
}): Promise<CredEnv> {
  const data = await dataDatabase();
  const installationId = `ctl-${randomBytes(4).toString('hex')}`;
  const controllerEnv = {
    ...process.env,
    WAREHOUSE_ADMIN: data.adminJson,
    BERTH_CREDENTIALS_GC_GRACE_MS: '0',
    ...opts.extraEnv,
  };
  const env = await startEnv({
    addressOctet: opts.addressOctet,
    images: sqlToolImage(),
    driverEnv: { BERTH_INSTALLATION_ID: installationId },
    ...(opts.gateStub ? { gateStub: true } : {}),
    manager: { env: controllerEnv, ...opts.manager },
  });
  await createTool(env.store, 'sql', sqlToolSpec());
  const prefix = rolePrefix(installationId);
  return {
    env,
    store: env.store,
    data,
    installationId,
    controllerEnv,
    async roles() {
      const { rows } = await data.superQuery<{ rolname: string }>(
        'select rolname from pg_roles where starts_with(rolname, $1) order by 1',
        [prefix],
      );
      return rows.map((r) => r.rolname);
    },
    async close() {
      await env.close();
      const { rows } = await data.superQuery<{ rolname: string }>(
        'select rolname from pg_roles where starts_with(rolname, $1)',
        [prefix],
      );
      await data.cleanup(rows.map((r) => r.rolname));
    },
  };
}

export async function createDatabase(
  store: ResourceStore,
  name: string,
  data: Pick<DataDatabase, 'host' | 'port' | 'dbname'>,
  extra: Record<string, unknown> = {},
): Promise<void> {
  await store.create('Database', {
    apiVersion: 'berth/v1alpha1',
    kind: 'Database',
    metadata: { name },
    spec: {
      host: data.host,
      port: data.port,
      dbname: data.dbname,
      sslmode: 'disable',
      adminCredentials: { fromEnv: 'WAREHOUSE_ADMIN' },
      logins: { connectionLimit: 3, statementTimeout: '90s', idleInTransactionTimeout: '45s' },
      ...extra,
    },
  });
}

export async function createDataset(
  store: ResourceStore,
  name: string,
  spec: Omit<DatasetInput['spec'], 'title'> & { title?: string },
): Promise<void> {
  await store.create('Dataset', {
    apiVersion: 'berth/v1alpha1',
    kind: 'Dataset',
    metadata: { name },
    spec: { title: name, ...spec },
  });
}

/** Waits for a cluster-scoped object's condition to have `status` (and `reason`). */
export async function waitForCondition(
  store: ResourceStore,
  kind: string,
  name: string,
  type: string,
  status: string,
  reason?: string,
  timeoutMs = 30_000,
): Promise<{
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}> {
  let last: unknown;
  try {
    return await waitFor(
      async () => {
        const o = (await store.get(kind, undefined, name)) as {
          status?: { conditions?: { type: string; status: string; reason?: string }[] };
        };
        last = o.status;
        const c = o.status?.conditions?.find((x) => x.type === type);
        return c?.status === status && (!reason || c.reason === reason) ? o : undefined;
      },
      timeoutMs,
      `${kind} ${name} ${type}=${status}`,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; status: ${JSON.stringify(last)}`);
  }
}

/** Launches `namespace/name` of the SQL tool and waits for Ready; answers a client of it. */
export async function launchSqlTool(
  c: CredEnv,
  namespace: string,
  name: string,
  timeoutMs = 60_000,
): Promise<{ ti: ToolInstance; tool: SqlTool }> {
  await c.store.create('ToolInstance', {
    apiVersion: 'berth/v1alpha1',
    kind: 'ToolInstance',
    metadata: { name, namespace },
    spec: { toolRef: 'sql', state: 'Running' },
  });
  return readyTool(c, namespace, name, 1, timeoutMs);
}

export async function readyTool(
  c: CredEnv,
  namespace: string,
  name: string,
  attempt: number,
  timeoutMs = 60_000,
): Promise<{ ti: ToolInstance; tool: SqlTool }> {
  const ti = await waitFor(
    async () => {
      const t = (await c.store.get('ToolInstance', namespace, name)) as ToolInstance;
      return t.status?.phase === 'Ready' && t.status.attempt === attempt ? t : undefined;
    },
    timeoutMs,
    `${namespace}/${name} Ready on attempt ${attempt}`,
  ).catch(async (err) => {
    const t = await c.store.get('ToolInstance', namespace, name).catch(() => undefined);
    throw new Error(`${(err as Error).message}; status ${JSON.stringify(t?.status)}`);
  });
  return {
    ti,
    tool: new SqlTool(
      ti.status!.endpoint!,
      c.env.tools.config.toolSecretKey,
      ti.metadata.uid!,
      attempt,
    ),
  };
}

export async function setState(
  store: ResourceStore,
  namespace: string,
  name: string,
  state: 'Running' | 'Stopped',
): Promise<void> {
  await store.patch('ToolInstance', namespace, name, { spec: { state } });
}

/**
 * One statement's answer in a session the tool keeps open ('ok' or the SQLSTATE),
 * and how long a change takes to reach it (kept in `figures` for the test's log).
 */
export class SessionProbe {
  readonly figures: string[] = [];
  readonly #tool: SqlTool;
  readonly #sql: string;

  constructor(tool: SqlTool, sql: string) {
    this.#tool = tool;
    this.#sql = sql;
  }

  async answer(): Promise<string> {
    const r = await this.#tool.query(this.#sql, { hold: true });
    return r.error ? r.error.code : 'ok';
  }

  /** Waits (at most 10 s) until the answer is `want`; records how long it took. */
  async within10s(what: string, want: string): Promise<void> {
    const t0 = Date.now();
    await waitFor(async () => (await this.answer()) === want, 10_000, what, 100);
    this.figures.push(`${what} ${Date.now() - t0} ms`);
  }
}

export { waitFor, waitForPhase };
