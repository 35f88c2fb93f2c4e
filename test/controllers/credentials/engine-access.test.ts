// What a launch's login may do, connected as the tool would be with its password:
// read exactly its datasets' tables, keep tables in its own schema across
// launches, nothing more; limits and timeouts as set; gone after disable/drop.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import {
  disableLogin,
  dropLogin,
  loginPassword,
  prepareLaunchLogin,
  syncDataset,
} from '../../../controllers/credentials/engine.ts';
import { waitFor } from '../../support/wait.ts';
import {
  type EngineDatabase,
  engineDatabase,
  launchInput,
  sqlState,
  TABLES,
} from './engine-support.ts';

let db: EngineDatabase;
const key = Buffer.alloc(32, 7);

before(async () => {
  db = await engineDatabase();
  // "sales" holds orders and regions (two schemas); "people" is someone else's.
  await syncDataset(db.pool, {
    installationId: db.installationId,
    dataset: 'sales',
    tables: [TABLES.orders, TABLES.regions],
    members: [],
  });
  await syncDataset(db.pool, {
    installationId: db.installationId,
    dataset: 'people',
    tables: [TABLES.people],
    members: [],
  });
});
after(async () => await db?.cleanup());

async function launch(user: string, datasets: string[], attempt = 1, uid = randomUUID()) {
  const password = loginPassword(key, uid, attempt, db.dbname);
  const { login, schema } = await prepareLaunchLogin(
    db.pool,
    launchInput(db, {
      uid,
      attempt,
      password,
      subject: { kind: 'user', name: user },
      instance: `${user}/jupyterlab`,
      datasets,
      statementTimeoutMs: 123_000,
      idleInTransactionTimeoutMs: 456_000,
    }),
  );
  const client = db.clientAs(login, password);
  await client.connect();
  return { uid, attempt, login, schema, password, client };
}

test('a login reads every table of its datasets and nothing else; its own schema survives relaunch; no roles, no databases', async () => {
  const ann = await launch('ann', ['sales']);
  const bob = await launch('bob', ['people']);
  try {
    const { rows } = await ann.client.query('select count(*)::int as n from sales.orders');
    assert.equal(rows[0].n, 2);
    assert.equal((await ann.client.query('select * from public.regions')).rows[0].code, 'UK');
    assert.equal(await sqlState(() => ann.client.query('select * from sales.customers')), '42501');
    assert.equal(await sqlState(() => ann.client.query('select * from hr.people')), '42501');
    assert.equal(await sqlState(() => bob.client.query('select * from sales.orders')), '42501');
    assert.equal((await bob.client.query('select count(*)::int as n from hr.people')).rows[0].n, 1);

    // Unqualified: lands in the private schema through search_path, owned by the subject role.
    await ann.client.query('create table notes (t text)');
    await ann.client.query(`insert into notes values ('kept')`);
    const owner = await db.superQuery<{ nspname: string; owner: string }>(
      `select n.nspname, pg_get_userbyid(c.relowner) as owner from pg_class c
         join pg_namespace n on n.oid = c.relnamespace where c.relname = 'notes'`,
    );
    assert.equal(owner.rows[0]?.nspname, ann.schema);
    assert.notEqual(owner.rows[0]?.owner, ann.login);

    // Another user cannot see into it.
    assert.equal(
      await sqlState(() => bob.client.query(`select * from "${ann.schema}".notes`)),
      '42501',
    );
    assert.equal(
      await sqlState(() => bob.client.query(`create table "${ann.schema}".intruder (x int)`)),
      '42501',
    );

    assert.equal(await sqlState(() => ann.client.query('create role sneaky')), '42501');
    assert.equal(await sqlState(() => ann.client.query('create database sneaky')), '42501');
    assert.equal(await sqlState(() => ann.client.query('set role none')), 'ok');
    assert.equal(await sqlState(() => ann.client.query('create role sneaky')), '42501');

    assert.equal(
      (await ann.client.query('show statement_timeout')).rows[0].statement_timeout,
      '123s',
    );
    assert.equal(
      (await ann.client.query('show idle_in_transaction_session_timeout')).rows[0]
        .idle_in_transaction_session_timeout,
      '456s',
    );

    // Relaunch: the first login is dropped, the second (a later attempt) finds the table.
    await ann.client.end();
    await dropLogin(db.pool, db.installationId, ann.uid, ann.attempt);
    const again = await launch('ann', ['sales'], 2, ann.uid);
    try {
      const kept = await again.client.query('select t from notes');
      assert.deepEqual(kept.rows, [{ t: 'kept' }]);
    } finally {
      await again.client.end();
      await dropLogin(db.pool, db.installationId, again.uid, again.attempt);
    }
  } finally {
    await ann.client.end().catch(() => {});
    await bob.client.end().catch(() => {});
  }
});

test('the connection limit holds: the (limit+1)th connection is refused with 53300', async () => {
  const first = await launch('carol', ['sales']); // connectionLimit 3 (launchInput)
  const more = [db.clientAs(first.login, first.password), db.clientAs(first.login, first.password)];
  try {
    for (const c of more) await c.connect();
    const extra = db.clientAs(first.login, first.password);
    assert.equal(await sqlState(() => extra.connect()), '53300');
  } finally {
    await first.client.end();
    for (const c of more) await c.end().catch(() => {});
  }
});

test('disableLogin ends open sessions and refuses new ones; dropLogin removes the role', async () => {
  const dan = await launch('dan', ['sales']);
  let ended = false;
  dan.client.on('end', () => {
    ended = true;
  });
  await disableLogin(db.pool, db.installationId, dan.uid, dan.attempt);
  await waitFor(() => ended, 10_000, 'the open session to be terminated');
  const again = db.clientAs(dan.login, dan.password);
  assert.equal(await sqlState(() => again.connect()), '28000'); // "not permitted to log in"
  await dropLogin(db.pool, db.installationId, dan.uid, dan.attempt);
  const { rows } = await db.superQuery('select 1 from pg_roles where rolname = $1', [dan.login]);
  assert.equal(rows.length, 0);
  // Missing is done.
  await dropLogin(db.pool, db.installationId, dan.uid, dan.attempt);
  await disableLogin(db.pool, db.installationId, dan.uid, dan.attempt);
});

test('a retried launch (same uid and attempt) gets the same working login', async () => {
  const uid = randomUUID();
  const first = await launch('erin', ['sales'], 1, uid);
  await first.client.end();
  const second = await launch('erin', ['sales'], 1, uid);
  try {
    assert.equal(second.login, first.login);
    assert.equal(
      (await second.client.query('select count(*)::int as n from sales.orders')).rows[0].n,
      2,
    );
  } finally {
    await second.client.end();
    await dropLogin(db.pool, db.installationId, uid, 1);
  }
});
