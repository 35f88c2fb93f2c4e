// Dataset reconciles reach running sessions: a membership granted or revoked, or a
// table dropped from a Dataset, changes what an already open session of the
// user's login may read at its next statement; tables that do not exist are
// reported by name instead of failing.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import {
  dropDataset,
  listSubjects,
  loginPassword,
  prepareLaunchLogin,
  syncDataset,
} from '../../../controllers/credentials/engine.ts';
import { datasetRole } from '../../../controllers/credentials/names.ts';
import {
  type EngineDatabase,
  engineDatabase,
  launchInput,
  sqlState,
  TABLES,
} from './engine-support.ts';

let db: EngineDatabase;
const key = Buffer.alloc(32, 9);
const fay = { kind: 'user' as const, name: 'fay' };

before(async () => {
  db = await engineDatabase();
});
after(async () => await db?.cleanup());

async function openSession(datasets: string[]) {
  const uid = randomUUID();
  const password = loginPassword(key, uid, 1, db.dbname);
  const { login } = await prepareLaunchLogin(
    db.pool,
    launchInput(db, { uid, password, subject: fay, datasets }),
  );
  const client = db.clientAs(login, password);
  await client.connect();
  return client;
}

test('granting and revoking a member reaches an open session at its next statement', async () => {
  const input = {
    installationId: db.installationId,
    dataset: 'orders',
    tables: [TABLES.orders],
  };
  await syncDataset(db.pool, { ...input, members: [] });
  const session = await openSession([]);
  try {
    assert.equal(await sqlState(() => session.query('select * from sales.orders')), '42501');
    assert.deepEqual(await listSubjects(db.pool, db.installationId), [fay]);

    const granted = await syncDataset(db.pool, { ...input, members: [fay] });
    assert.equal(granted.granted, 1);
    assert.equal(await sqlState(() => session.query('select * from sales.orders')), 'ok');

    const revoked = await syncDataset(db.pool, { ...input, members: [] });
    assert.equal(revoked.revoked, 1);
    assert.equal(await sqlState(() => session.query('select * from sales.orders')), '42501');

    // In sync: nothing to do.
    assert.deepEqual(await syncDataset(db.pool, { ...input, members: [] }), {
      missingTables: [],
      granted: 0,
      revoked: 0,
    });
  } finally {
    await session.end();
  }
});

test('a table dropped from a Dataset is revoked (and its schema when no table needs it); missing tables are named', async () => {
  const input = { installationId: db.installationId, dataset: 'crm', members: [fay] };
  const first = await syncDataset(db.pool, {
    ...input,
    tables: [
      TABLES.customers,
      TABLES.people,
      { schema: 'sales', table: 'nope' },
      { schema: 'ghost', table: 'x' },
    ],
  });
  assert.deepEqual(first.missingTables, [
    { schema: 'sales', table: 'nope' },
    { schema: 'ghost', table: 'x' },
  ]);
  const session = await openSession(['crm']);
  try {
    assert.equal(await sqlState(() => session.query('select * from sales.customers')), 'ok');
    assert.equal(await sqlState(() => session.query('select * from hr.people')), 'ok');

    const edited = await syncDataset(db.pool, { ...input, tables: [TABLES.customers] });
    assert.deepEqual(edited.missingTables, []);
    assert.equal(edited.revoked, 2); // SELECT on hr.people and USAGE on hr
    assert.equal(await sqlState(() => session.query('select * from hr.people')), '42501');
    assert.equal(await sqlState(() => session.query('select * from sales.customers')), 'ok');

    // A grant made by hand to the dataset role is taken back by the next sync.
    await db.pool.query(`grant select on sales.orders to ${datasetRoleOf('crm')}`);
    assert.equal(await sqlState(() => session.query('select * from sales.orders')), 'ok');
    const resynced = await syncDataset(db.pool, { ...input, tables: [TABLES.customers] });
    assert.equal(resynced.revoked, 1);
    assert.equal(await sqlState(() => session.query('select * from sales.orders')), '42501');

    await dropDataset(db.pool, db.installationId, 'crm');
    assert.equal(await sqlState(() => session.query('select * from sales.customers')), '42501');
    await dropDataset(db.pool, db.installationId, 'crm'); // missing is done
  } finally {
    await session.end();
  }
});

test('a launch makes its subject a member of exactly the dataset roles it is given (those that exist)', async () => {
  for (const dataset of ['a', 'b'])
    await syncDataset(db.pool, {
      installationId: db.installationId,
      dataset,
      tables: [dataset === 'a' ? TABLES.orders : TABLES.regions],
      members: [],
    });
  const withA = await openSession(['a', 'not-in-this-database']);
  try {
    assert.equal(await sqlState(() => withA.query('select * from sales.orders')), 'ok');
    assert.equal(await sqlState(() => withA.query('select * from public.regions')), '42501');
    const withB = await openSession(['b']);
    try {
      // Memberships belong to the subject: the older session sees the change too.
      assert.equal(await sqlState(() => withA.query('select * from sales.orders')), '42501');
      assert.equal(await sqlState(() => withB.query('select * from public.regions')), 'ok');
    } finally {
      await withB.end();
    }
  } finally {
    await withA.end();
  }
});

function datasetRoleOf(dataset: string): string {
  return datasetRole(db.installationId, dataset);
}
