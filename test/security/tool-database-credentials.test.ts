// The wall around a tool's database login: from inside a running tool (the SQL
// test tool under ecs-local, its login from its own environment) a user reads
// their datasets and nothing else — not another dataset's table, not another
// user's private schema, not berth's own store database — and cannot borrow
// another role or widen its own login.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import {
  type CredEnv,
  createDatabase,
  createDataset,
  launchSqlTool,
  startCredEnv,
  waitForCondition,
} from '../controllers/credentials/ctl-support.ts';
import type { SqlTool } from '../support/sql-tool/index.ts';

let c: CredEnv;
let alice: SqlTool;
let bob: SqlTool;

before(async () => {
  c = await startCredEnv({ addressOctet: 64 });
  await createDatabase(c.store, 'warehouse', c.data);
  await waitForCondition(c.store, 'Database', 'warehouse', 'Connected', 'True');
  await createDataset(c.store, 'sales', {
    tables: [{ database: 'warehouse', schema: 'sales', table: 'orders' }],
    access: { type: 'named', users: ['alice'] },
  });
  await createDataset(c.store, 'hr', {
    tables: [{ database: 'warehouse', schema: 'hr', table: 'people' }],
    access: { type: 'named', users: ['bob'] },
  });
  await waitForCondition(c.store, 'Dataset', 'sales', 'Ready', 'True');
  await waitForCondition(c.store, 'Dataset', 'hr', 'Ready', 'True');
  [{ tool: alice }, { tool: bob }] = await Promise.all([
    launchSqlTool(c, 'alice', 'sql'),
    launchSqlTool(c, 'bob', 'sql'),
  ]);
});

after(async () => {
  await c?.close();
});

test("a tool reads its own dataset's table and no other", async () => {
  assert.equal((await alice.query('select count(*)::int as n from sales.orders')).rows?.[0]?.n, 2);
  for (const t of ['hr.people', 'sales.customers', 'public.regions']) {
    const r = await alice.query(`select * from ${t}`);
    assert.equal(r.error?.code, '42501', `${t}: ${JSON.stringify(r)}`);
  }
});

test("a tool cannot read or write another user's private schema", async () => {
  const made = await bob.query(
    "create table secrets (s text); insert into secrets values ('bob''s')",
  );
  assert.equal(made.error, undefined, JSON.stringify(made));
  const schema = (await bob.query('select current_schema() as s')).rows?.[0]?.s as string;
  for (const sql of [
    `select * from "${schema}".secrets`,
    `insert into "${schema}".secrets values ('x')`,
    `create table "${schema}".planted (x int)`,
  ]) {
    const r = await alice.query(sql);
    assert.equal(r.error?.code, '42501', `${sql}: ${JSON.stringify(r)}`);
  }
});

test("a tool cannot take another role's privileges or widen its login", async () => {
  // A login acts as its subject role (ALTER ROLE … SET role): bob's tool names bob's role.
  const bobRole = (await bob.query('select current_user as u')).rows?.[0]?.u as string;
  assert.match(bobRole, /_u_/);
  for (const sql of [
    `set role "${bobRole}"`,
    `grant "${bobRole}" to current_user`,
    'alter role current_user connection limit -1',
    'alter role current_user createrole',
    'create role sneaky',
    'create database sneaky',
  ]) {
    const r = await alice.query(sql);
    assert.equal(r.error?.code, '42501', `${sql}: ${JSON.stringify(r)}`);
  }
});

test("a tool's login cannot read berth's store database", async () => {
  const env = await alice.env();
  const store = c.env.db.url;
  const dbname = new URL(store).pathname.slice(1);
  const client = new pg.Client({
    host: env.PGHOST,
    port: Number(env.PGPORT),
    database: dbname,
    user: env.PGUSER,
    password: env.PGPASSWORD,
  });
  client.on('error', () => {});
  let code: string | undefined;
  try {
    await client.connect();
    for (const t of ['resources', 'users', 'api_tokens', 'sessions']) {
      const r = await client.query(`select * from ${t} limit 1`).catch((e) => e);
      assert.equal((r as { code?: string }).code, '42501', `${t} readable`);
    }
    code = 'connected-but-denied';
  } catch (err) {
    code = (err as { code?: string }).code;
  } finally {
    await client.end().catch(() => {});
  }
  assert.ok(
    code === 'connected-but-denied' || code === '42501' || code === '28000',
    `unexpected: ${code}`,
  );
});
