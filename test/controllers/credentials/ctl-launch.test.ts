// A launch through the real controllers, ecs-local and PostgreSQL: the SQL test
// tool, using only its environment, reads exactly its datasets' tables, keeps
// what it creates across a relaunch (new attempt, new login), cannot make roles
// or databases, is held to its connection limit and timeouts, and its
// credentials stop working once the instance is stopped.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ToolInstance } from '../../../crds/index.ts';
import {
  type CredEnv,
  createDatabase,
  createDataset,
  launchSqlTool,
  readyTool,
  setState,
  startCredEnv,
  waitForCondition,
  waitForPhase,
} from './ctl-support.ts';

let c: CredEnv;

before(async () => {
  c = await startCredEnv({ addressOctet: 61 });
  await createDatabase(c.store, 'warehouse', c.data);
  await waitForCondition(c.store, 'Database', 'warehouse', 'Connected', 'True');
  await createDataset(c.store, 'sales', {
    tables: [
      { database: 'warehouse', schema: 'sales', table: 'orders' },
      { database: 'warehouse', schema: 'sales', table: 'customers' },
    ],
    access: { type: 'named', users: ['alice'] },
  });
  await createDataset(c.store, 'hr', {
    tables: [{ database: 'warehouse', schema: 'hr', table: 'people' }],
    access: { type: 'named', users: ['bob'] },
  });
  await waitForCondition(c.store, 'Dataset', 'sales', 'Ready', 'True');
  await waitForCondition(c.store, 'Dataset', 'hr', 'Ready', 'True');
});

after(async () => {
  await c?.close();
});

test('Database status says Connected with the server version', async () => {
  const db = (await c.store.get('Database', undefined, 'warehouse')) as {
    status?: { serverVersion?: string; observedGeneration?: number };
  };
  assert.match(db.status?.serverVersion ?? '', /^\d+/);
  assert.equal(db.status?.observedGeneration, 1);
});

test('a tool reads its datasets, nothing else, keeps its tables across launches, and its login dies with the task', async () => {
  const { ti, tool } = await launchSqlTool(c, 'alice', 'sql');
  const cond = ti.status?.conditions.find((x) => x.type === 'Credentials');
  assert.equal(cond?.status, 'True', JSON.stringify(cond));
  assert.match(cond?.message ?? '', /warehouse/);

  assert.deepEqual(await tool.envNames(), [
    'DATABASE_DSN__warehouse',
    'PGDATABASE',
    'PGHOST',
    'PGPASSWORD',
    'PGPORT',
    'PGSSLMODE',
    'PGUSER',
  ]);

  // Every table of her dataset, by DSN name and by the PG* variables.
  for (const t of ['sales.orders', 'sales.customers']) {
    const r = await tool.query(`select count(*)::int as n from ${t}`, { dsn: 'warehouse' });
    assert.ok(r.rows && (r.rows[0]!.n as number) > 0, `${t}: ${JSON.stringify(r)}`);
  }
  assert.equal((await tool.query('select count(*)::int as n from sales.orders')).rows?.[0]?.n, 2);
  // Not the other dataset's table, nor a table in no dataset.
  for (const t of ['hr.people', 'public.regions']) {
    const r = await tool.query(`select * from ${t}`);
    assert.equal(r.error?.code, '42501', `${t}: ${JSON.stringify(r)}`);
  }
  // No roles, no databases.
  assert.equal((await tool.query('create role sneaky')).error?.code, '42501');
  assert.equal((await tool.query('create database sneaky')).error?.code, '42501');
  // Timeouts from the Database's logins settings.
  assert.equal((await tool.query('show statement_timeout')).rows?.[0]?.statement_timeout, '90s');
  assert.equal(
    (await tool.query('show idle_in_transaction_session_timeout')).rows?.[0]
      ?.idle_in_transaction_session_timeout,
    '45s',
  );
  // Her own schema: a table made unqualified (search_path) survives the launch.
  const made = await tool.query("create table notes (t text); insert into notes values ('kept')");
  assert.equal(made.error, undefined, JSON.stringify(made));

  // The connection limit (3): three held sessions, the fourth is refused.
  const env = await tool.env();
  const pg = (await import('pg')).default;
  const clients: InstanceType<typeof pg.Client>[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const cl = new pg.Client({
        host: env.PGHOST,
        port: Number(env.PGPORT),
        database: env.PGDATABASE,
        user: env.PGUSER,
        password: env.PGPASSWORD,
      });
      cl.on('error', () => {});
      await cl.connect();
      clients.push(cl);
    }
    const fourth = new pg.Client({
      host: env.PGHOST,
      port: Number(env.PGPORT),
      database: env.PGDATABASE,
      user: env.PGUSER,
      password: env.PGPASSWORD,
    });
    fourth.on('error', () => {});
    await assert.rejects(fourth.connect(), (e: { code?: string }) => e.code === '53300');
  } finally {
    for (const cl of clients) await cl.end().catch(() => {});
  }

  // Stop: the credentials read from inside the tool no longer connect.
  await setState(c.store, 'alice', 'sql', 'Stopped');
  await waitForPhase(c.store, 'alice', 'sql', 'Stopped', 60_000);
  const after = new pg.Client({
    host: env.PGHOST,
    port: Number(env.PGPORT),
    database: env.PGDATABASE,
    user: env.PGUSER,
    password: env.PGPASSWORD,
  });
  after.on('error', () => {});
  await assert.rejects(
    after.connect(),
    (e: { code?: string }) => e.code === '28P01' || e.code === '28000',
  );
  assert.deepEqual(
    (await c.roles()).filter((r) => r.includes('_l_')),
    [],
    'the login role is dropped once Stopped',
  );

  // Relaunch: a new attempt, a new login, the same schema and table.
  await setState(c.store, 'alice', 'sql', 'Running');
  const second = await readyTool(c, 'alice', 'sql', 2);
  const env2 = await second.tool.env();
  assert.notEqual(env2.PGUSER, env.PGUSER);
  assert.notEqual(env2.PGPASSWORD, env.PGPASSWORD);
  assert.deepEqual((await second.tool.query('select t from notes')).rows, [{ t: 'kept' }]);
});

test("one user's tool cannot read another user's schema", async () => {
  const a = await readyTool(c, 'alice', 'sql', 2);
  const { tool: bob } = await launchSqlTool(c, 'bob', 'sql');
  const schema = (await a.tool.query('select current_schema() as s')).rows?.[0]?.s as string;
  assert.match(schema, /^_user_/);
  const r = await bob.query(`select * from "${schema}".notes`);
  assert.equal(r.error?.code, '42501', JSON.stringify(r));
  assert.equal((await bob.query('select count(*)::int as n from hr.people')).rows?.[0]?.n, 1);
  assert.equal((await bob.query('select * from sales.orders')).error?.code, '42501');
  const ti = (await c.store.get('ToolInstance', 'bob', 'sql')) as ToolInstance;
  assert.equal(ti.status?.conditions.find((x) => x.type === 'Credentials')?.status, 'True');
});
