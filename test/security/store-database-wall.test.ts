// The wall between tools and berth's own data: in `make run`'s embedded
// PostgreSQL, a tool's database login (made by the datasets admin, as the
// credentials controller makes them) reaches the `datasets` database only. It
// cannot connect to berth's store database (postgres, which holds every
// ToolInstance, token hash and session) nor to template1, and the datasets admin
// can neither connect there nor give a login that right.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { type BerthUp, startBerthUp } from '../support/berth-up.ts';

let berth: BerthUp;
const login = { user: 'tool_wall_test', password: randomBytes(32).toString('base64url') };

before(async () => {
  berth = await startBerthUp();
  await withClient(admin(), 'datasets', async (c) => {
    const { rows } = await c.query<{ sql: string }>(
      "select format('create role %I login password %L', $1::text, $2::text) as sql",
      [login.user, login.password],
    );
    await c.query(rows[0]!.sql);
  });
});

after(async () => {
  await berth?.dispose();
});

function admin(): { user: string; password: string } {
  const a = JSON.parse(readFileSync(join(berth.dataDir, 'datasets-admin.json'), 'utf8'));
  return { user: a.username, password: a.password };
}

async function withClient<T>(
  who: { user: string; password: string },
  database: string,
  fn: (c: pg.Client) => Promise<T>,
): Promise<T> {
  const c = new pg.Client({ host: '127.0.0.1', port: berth.ports.pg, database, ...who });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function connectError(who: { user: string; password: string }, database: string) {
  try {
    await withClient(who, database, async () => {});
    return undefined;
  } catch (err) {
    return err as { code?: string; message: string };
  }
}

test("a tool's login connects to the datasets database and may not create in its public schema", async () => {
  await withClient(login, 'datasets', async (c) => {
    assert.equal((await c.query('select current_database() as d')).rows[0].d, 'datasets');
    await assert.rejects(c.query('create table public.mine (x int)'), { code: '42501' });
  });
});

test("a tool's login cannot connect to berth's store database, postgres or template1", async () => {
  for (const database of ['postgres', 'template1']) {
    const err = await connectError(login, database);
    assert.equal(err?.code, '42501', `${database}: ${err?.message ?? 'connected'}`);
    assert.match(err.message, /permission denied for database/);
  }
});

test('the datasets admin cannot connect there either, nor grant a login the right to', async () => {
  const err = await connectError(admin(), 'postgres');
  assert.equal(err?.code, '42501', err?.message ?? 'connected');
  await withClient(admin(), 'datasets', async (c) => {
    // Not the owner and no grant option: PostgreSQL grants nothing (a warning, not an error).
    await c.query(`grant connect on database postgres to ${login.user}`);
  });
  assert.equal((await connectError(login, 'postgres'))?.code, '42501');
});
