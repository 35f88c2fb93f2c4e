// `make run`'s `datasets` database: in the embedded PostgreSQL, a non-superuser
// admin login for the credentials controller, a database it owns with generated
// sample tables, and the walls that keep tool logins out of everything else
// (berth's own store database, postgres, template1). Run at every start: each
// step is idempotent and cheap when already done. Then the Database object that
// points berth at it, and the example Datasets when there is none.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { parse } from 'yaml';
import { z } from 'zod';
import { scramVerifier } from '../controllers/index.ts';
import type { ResourceStore } from '../store/index.ts';

/** The Database object, the PostgreSQL database and the controllers' variable. */
export const LOCAL_DATASETS_DB = 'datasets';
export const DATASETS_ADMIN_ENV = 'BERTH_DATASETS_ADMIN';
const ADMIN_ROLE = 'berth_datasets_admin';

export const EXAMPLE_DATASETS = join(import.meta.dirname, '..', 'examples', 'datasets.yaml');

export interface DatasetsAdmin {
  username: string;
  password: string;
}

const adminFile = z.strictObject({
  username: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/),
  password: z.string().min(32),
});

/** Where the admin login's password is kept, inside BERTH_DATA_DIR (mode 0600). */
export function datasetsAdminPath(dataDir: string): string {
  return join(dataDir, 'datasets-admin.json');
}

/** The admin login: the one kept in the data folder, made the first time. */
export function localDatasetsAdmin(dataDir: string): DatasetsAdmin {
  const path = datasetsAdminPath(dataDir);
  mkdirSync(dataDir, { recursive: true });
  const fresh: DatasetsAdmin = {
    username: ADMIN_ROLE,
    password: randomBytes(32).toString('base64url'),
  };
  try {
    // 'wx': two starts at once cannot both write; the second reads the first's.
    writeFileSync(path, `${JSON.stringify(fresh)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as { code?: string }).code !== 'EEXIST') throw err;
  }
  return adminFile.parse(JSON.parse(readFileSync(path, 'utf8')));
}

/** DDL takes no parameters: PostgreSQL's format() quotes them (%I, %L), then it runs. */
async function ddl(c: pg.ClientBase, template: string, ...args: string[]): Promise<void> {
  const placeholders = args.map((_, i) => `$${i + 1}::text`).join(', ');
  const { rows } = await c.query<{ sql: string }>(
    `select format($${args.length + 1}::text${placeholders ? `, ${placeholders}` : ''}) as sql`,
    [...args, template],
  );
  await c.query(rows[0]!.sql);
}

/**
 * As the superuser (`superuserUrl`, the embedded cluster's): the admin role (re-set
 * to the kept password each start), the `datasets` database it owns, CONNECT on
 * berth's store database, postgres and template1 revoked from PUBLIC. Then, as the
 * admin, the sample tables.
 * Returns the sample tables created now (none when they existed).
 */
export async function ensureLocalDatasets(
  superuserUrl: string,
  admin: DatasetsAdmin,
): Promise<string[]> {
  const su = new pg.Client({ connectionString: superuserUrl, application_name: 'berth-up' });
  await su.connect();
  let host: string;
  let port: number;
  try {
    host = su.host;
    port = su.port;
    const exists = await su.query('select 1 from pg_roles where rolname = $1', [admin.username]);
    await ddl(
      su,
      exists.rowCount
        ? 'alter role %I login createrole password %L'
        : 'create role %I login createrole password %L',
      admin.username,
      // A verifier, not the password: nothing the server logs or shows holds it.
      await scramVerifier(admin.password),
    );
    // To end a stopped tool's sessions (pg_terminate_backend) without being superuser.
    await ddl(su, 'grant pg_signal_backend to %I', admin.username);
    const db = await su.query('select 1 from pg_database where datname = $1', [LOCAL_DATASETS_DB]);
    if (!db.rowCount)
      await ddl(su, 'create database %I owner %I', LOCAL_DATASETS_DB, admin.username);
    // The wall: tool logins reach `datasets` only, never berth's own store database.
    const store = decodeURIComponent(new URL(superuserUrl).pathname.slice(1)) || 'postgres';
    for (const name of new Set([store, 'postgres', 'template1']))
      await ddl(su, 'revoke connect on database %I from public', name);
  } finally {
    await su.end();
  }
  const c = new pg.Client({
    host,
    port,
    database: LOCAL_DATASETS_DB,
    user: admin.username,
    password: admin.password,
    application_name: 'berth-up',
  });
  await c.connect();
  try {
    await c.query('begin');
    await c.query('revoke create on schema public from public');
    const created: string[] = [];
    for (const [table, sql] of Object.entries(SAMPLE_TABLES)) {
      const found = await c.query<{ t: string | null }>('select to_regclass($1)::text as t', [
        table,
      ]);
      if (found.rows[0]?.t) continue;
      await ddl(c, 'create schema if not exists %I', table.split('.')[0]!);
      await c.query(sql);
      created.push(table);
    }
    await c.query('commit');
    return created;
  } catch (err) {
    await c.query('rollback').catch(() => {});
    throw err;
  } finally {
    await c.end();
  }
}

// Deterministic pseudo-random figures: hashtext of each row's key, so every
// install gets the same sample data.
const COUNTRIES = `values ('France'),('Germany'),('Ireland'),('Netherlands'),('United States'),('China'),('Japan'),('India'),('Canada'),('Australia'),('Spain'),('Italy'),('Belgium'),('Poland'),('Norway'),('Switzerland'),('Sweden'),('South Korea'),('Brazil'),('Singapore')`;
const COMMODITIES = `values ('27','Mineral fuels'),('30','Pharmaceuticals'),('71','Precious metals'),('84','Machinery'),('85','Electrical equipment'),('87','Vehicles'),('88','Aircraft'),('90','Optical instruments'),('22','Beverages'),('39','Plastics')`;
const trade = (flow: string) => `
  create table trade.${flow} as
  select m::date as month, c.country, k.code as commodity_code, k.description as commodity,
         round((abs(hashtext('${flow}/' || m::date || c.country || k.code)) % 500000000) / 100.0, 2) as value_gbp,
         abs(hashtext('${flow}-kg/' || m::date || c.country || k.code)) % 10000000 as quantity_kg
  from generate_series('2023-01-01'::date, '2024-12-01'::date, interval '1 month') m,
       (${COUNTRIES}) as c(country),
       (${COMMODITIES}) as k(code, description)`;

/** Each sample table and the SQL that makes it (a few thousand rows each). */
const SAMPLE_TABLES: Record<string, string> = {
  'trade.exports': trade('exports'),
  'trade.imports': trade('imports'),
  'companies.register': `
    create table companies.register as
    select lpad(n::text, 8, '0') as company_number,
           'Example ' || (array['Trading','Holdings','Analytics','Foods','Engineering','Logistics'])[1 + abs(hashtext('k' || n)) % 6] || ' ' || n || ' Ltd' as name,
           date '1990-01-01' + abs(hashtext('d' || n)) % 12000 as incorporated_on,
           (array['62020','46900','70229','56101','41100','49410','64209','86900'])[1 + abs(hashtext('s' || n)) % 8] as sic_code,
           (array['London','North West','Scotland','Wales','South East','West Midlands','Yorkshire','Northern Ireland'])[1 + abs(hashtext('r' || n)) % 8] as region,
           (array['active','active','active','dissolved','liquidation'])[1 + abs(hashtext('a' || n)) % 5] as status
    from generate_series(1, 3000) n`,
  'hr.salaries': `
    create table hr.salaries as
    select n as employee_id,
           (array['AA','AO','EO','HEO','SEO','G7','G6','SCS1'])[1 + abs(hashtext('g' || n)) % 8] as grade,
           (array['Trade Policy','Investment','Exports','Analysis','Digital','Finance'])[1 + abs(hashtext('p' || n)) % 6] as department,
           22000 + abs(hashtext('pay' || n)) % 78000 as salary_gbp,
           date '2005-01-01' + abs(hashtext('start' || n)) % 7000 as start_date
    from generate_series(1, 2000) n`,
};

/**
 * Applies the Database object `datasets` (its port follows the embedded
 * PostgreSQL's, which may change between starts) and, when there is no Dataset at
 * all, the example Datasets. Returns the Datasets created.
 */
export async function applyLocalDatasets(store: ResourceStore, port: number): Promise<string[]> {
  await store.apply(
    'Database',
    {
      apiVersion: 'berth/v1alpha1',
      kind: 'Database',
      metadata: { name: LOCAL_DATASETS_DB },
      spec: {
        host: '127.0.0.1',
        port,
        dbname: LOCAL_DATASETS_DB,
        sslmode: 'disable',
        adminCredentials: { fromEnv: DATASETS_ADMIN_ENV },
      },
    },
    { fieldManager: 'berth-up' },
  );
  if ((await store.list('Dataset', { limit: 1 })).items.length > 0) return [];
  const list = parse(await readFile(EXAMPLE_DATASETS, 'utf8')) as {
    items: { metadata: { name: string } }[];
  };
  for (const item of list.items) await store.apply('Dataset', item, { fieldManager: 'berth-up' });
  return list.items.map((i) => i.metadata.name);
}
