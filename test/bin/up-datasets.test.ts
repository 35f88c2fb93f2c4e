// `make run` gives a `datasets` database in its embedded PostgreSQL: a
// non-superuser admin login kept in the data folder (0600), sample tables with a
// few thousand rows, the Database object pointing at the embedded port (again at
// every start), the example Datasets when there is none, and a credentials key
// kept in the data folder; a restart changes none of it.
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { type BerthUp, startBerthUp } from '../support/berth-up.ts';
import { waitFor } from '../support/wait.ts';

const BASE = '/apis/berth/v1alpha1';

let berth: BerthUp;

before(async () => {
  // BERTH_CREDENTIALS_KEY empty: berth up keeps its own, as `make run` does.
  berth = await startBerthUp({ env: { BERTH_CREDENTIALS_KEY: '' } });
});

after(async () => {
  await berth?.dispose();
});

const mode = (path: string) => statSync(path).mode & 0o777;

function admin(): { username: string; password: string } {
  return JSON.parse(readFileSync(join(berth.dataDir, 'datasets-admin.json'), 'utf8'));
}

async function asAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const a = admin();
  const c = new pg.Client({
    host: '127.0.0.1',
    port: berth.ports.pg,
    database: 'datasets',
    user: a.username,
    password: a.password,
  });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function getJson(
  path: string,
): Promise<{ spec?: Record<string, unknown>; items?: unknown[] }> {
  const res = await berth.api('GET', path);
  assert.equal(res.status, 200, `${path}: ${res.status}`);
  return (await res.json()) as { spec?: Record<string, unknown>; items?: unknown[] };
}

test('the datasets database: a non-superuser admin, the sample tables, the Database and example Datasets', async () => {
  assert.equal(mode(join(berth.dataDir, 'datasets-admin.json')), 0o600);
  assert.equal(mode(join(berth.dataDir, 'credentials.key')), 0o600);
  const role = await asAdmin(async (c) => {
    const r = await c.query(
      `select rolsuper, rolcreaterole, rolcreatedb,
              pg_has_role(current_user, 'pg_signal_backend', 'member') as signal
         from pg_roles where rolname = current_user`,
    );
    const counts: Record<string, number> = {};
    for (const t of ['trade.exports', 'trade.imports', 'companies.register', 'hr.salaries'])
      counts[t] = Number((await c.query(`select count(*) as n from ${t}`)).rows[0].n);
    return { ...r.rows[0], counts };
  });
  assert.equal(role.rolsuper, false);
  assert.equal(role.rolcreaterole, true);
  assert.equal(role.rolcreatedb, false);
  assert.equal(role.signal, true);
  for (const [table, n] of Object.entries(role.counts as Record<string, number>))
    assert.ok(n >= 1000 && n <= 10_000, `${table} has ${n} rows`);

  const database = await getJson(`${BASE}/databases/datasets`);
  assert.equal(database.spec?.host, '127.0.0.1');
  assert.equal(database.spec?.port, berth.ports.pg);
  assert.equal(database.spec?.dbname, 'datasets');
  assert.deepEqual(database.spec?.adminCredentials, { fromEnv: 'BERTH_DATASETS_ADMIN' });
  const datasets = await getJson(`${BASE}/datasets`);
  const names = (datasets.items as { metadata: { name: string } }[]).map((d) => d.metadata.name);
  assert.deepEqual(names.sort(), ['company-register', 'hr-salaries', 'uk-trade']);

  // The controllers got the admin login (BERTH_DATASETS_ADMIN): the Database connects
  // and every example Dataset's grants are in place.
  await waitFor(
    async () => conditionStatus(`${BASE}/databases/datasets`, 'Connected'),
    60_000,
    'Database datasets Connected=True',
  );
  for (const name of names)
    await waitFor(
      async () => conditionStatus(`${BASE}/datasets/${name}`, 'Ready'),
      60_000,
      `Dataset ${name} Ready=True`,
    );
});

async function conditionStatus(path: string, type: string): Promise<true | undefined> {
  const res = await berth.api('GET', path);
  if (!res.ok) return undefined;
  const o = (await res.json()) as { status?: { conditions?: { type: string; status: string }[] } };
  return o.status?.conditions?.find((c) => c.type === type)?.status === 'True' ? true : undefined;
}

test('a restart keeps the admin password, the key and the data; the Database follows the port; Datasets deleted stay deleted', async () => {
  const before = {
    admin: admin(),
    key: readFileSync(join(berth.dataDir, 'credentials.key'), 'utf8'),
    first: await asAdmin(
      async (c) => (await c.query('select * from trade.exports order by 1, 2, 3 limit 1')).rows[0],
    ),
  };
  const deleted = await berth.api('DELETE', `${BASE}/datasets/hr-salaries`);
  assert.ok(deleted.ok, `delete: ${deleted.status}`);
  // Gone once the credentials controller has revoked its grants (its finalizer).
  await waitFor(
    async () =>
      (await berth.api('GET', `${BASE}/datasets/hr-salaries`)).status === 404 ? true : undefined,
    60_000,
    'hr-salaries deleted',
  );
  // As if the embedded port had changed since: berth up must point the Database at the real one.
  const patched = await berth.api(
    'PATCH',
    `${BASE}/databases/datasets`,
    { spec: { port: 1 } },
    'application/merge-patch+json',
  );
  assert.equal(patched.status, 200, await patched.text());
  const stopped = await berth.stop('SIGTERM');
  assert.equal(stopped.code, 0, berth.output());
  await berth.restart();
  assert.deepEqual(admin(), before.admin);
  assert.equal(readFileSync(join(berth.dataDir, 'credentials.key'), 'utf8'), before.key);
  const first = await asAdmin(
    async (c) => (await c.query('select * from trade.exports order by 1, 2, 3 limit 1')).rows[0],
  );
  assert.deepEqual(first, before.first);
  const database = await getJson(`${BASE}/databases/datasets`);
  assert.equal(database.spec?.port, berth.ports.pg);
  await waitFor(
    async () => conditionStatus(`${BASE}/databases/datasets`, 'Connected'),
    60_000,
    'Database datasets Connected=True again',
  );
  const names = await waitFor(
    async () => {
      const d = await getJson(`${BASE}/datasets`);
      return (d.items as { metadata: { name: string } }[]).map((x) => x.metadata.name);
    },
    10_000,
    'the Datasets',
  );
  assert.deepEqual(names.sort(), ['company-register', 'uk-trade']);
});
