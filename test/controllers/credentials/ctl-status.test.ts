// What the Database and Dataset reconcilers say, and a launch when one Database
// cannot be used: wrong admin credentials give Connected=False
// AuthenticationFailed (and a Warning Event); a launch goes ahead with the other
// Database's login and says Credentials=False naming the broken one; a Dataset
// naming a missing table says TablesExist=False naming it; a deleted Dataset's
// role is dropped before the object goes (finalizer).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { datasetRole } from '../../../controllers/credentials/names.ts';
import type { ToolInstance } from '../../../crds/index.ts';
import { eventsFor } from '../reconcile-support.ts';
import {
  type CredEnv,
  createDatabase,
  createDataset,
  launchSqlTool,
  startCredEnv,
  waitFor,
  waitForCondition,
} from './ctl-support.ts';

let c: CredEnv;

before(async () => {
  c = await startCredEnv({
    addressOctet: 63,
    extraEnv: { BROKEN_ADMIN: JSON.stringify({ username: 'nobody_here', password: 'Xq7-not-it' }) },
  });
  await createDatabase(c.store, 'warehouse', c.data);
  await createDatabase(c.store, 'broken', c.data, {
    adminCredentials: { fromEnv: 'BROKEN_ADMIN' },
  });
});

after(async () => {
  await c?.close();
});

test('wrong admin credentials: Connected=False AuthenticationFailed and a Warning Event, no secret', async () => {
  const db = await waitForCondition(
    c.store,
    'Database',
    'broken',
    'Connected',
    'False',
    'AuthenticationFailed',
  );
  const cond = db.status?.conditions?.find((x) => x.type === 'Connected');
  assert.doesNotMatch(cond?.message ?? '', /Xq7-not-it/);
  await waitFor(
    async () => {
      const events = (await c.store.list('Event')).items as unknown as {
        involvedObject: { kind: string; name: string };
        type: string;
        reason: string;
      }[];
      return events.some(
        (e) =>
          e.involvedObject.kind === 'Database' &&
          e.involvedObject.name === 'broken' &&
          e.type === 'Warning' &&
          e.reason === 'AuthenticationFailed',
      );
    },
    10_000,
    'a Warning Event on the broken Database',
  );
});

test('a launch goes ahead with the working database and says which one failed', async () => {
  await waitForCondition(c.store, 'Database', 'warehouse', 'Connected', 'True');
  await createDataset(c.store, 'sales', {
    tables: [{ database: 'warehouse', schema: 'sales', table: 'orders' }],
    access: { type: 'everyone' },
  });
  await waitForCondition(c.store, 'Dataset', 'sales', 'Ready', 'True');
  const { tool } = await launchSqlTool(c, 'carol', 'sql');
  assert.deepEqual(
    (await tool.envNames()).filter((n) => n.startsWith('DATABASE_DSN__')),
    ['DATABASE_DSN__warehouse'],
  );
  assert.equal(
    (await tool.query('select count(*)::int as n from sales.orders', { dsn: 'warehouse' }))
      .rows?.[0]?.n,
    2,
  );
  const ti = (await c.store.get('ToolInstance', 'carol', 'sql')) as ToolInstance;
  const cond = ti.status?.conditions.find((x) => x.type === 'Credentials');
  assert.equal(cond?.status, 'False');
  assert.equal(cond?.reason, 'DatabaseUnavailable');
  assert.match(cond?.message ?? '', /broken \(AuthenticationFailed\)/);
  const events = await eventsFor(c.store, 'carol', 'sql');
  assert.ok(
    events.some((e) => e.type === 'Warning' && e.reason === 'CredentialsUnavailable'),
    JSON.stringify(events),
  );
  // An everyone-type Dataset lists the users that have a role.
  await c.store.patch('Dataset', undefined, 'sales', { spec: { description: 'touched' } });
  await waitFor(
    async () =>
      (
        (await c.store.get('Dataset', undefined, 'sales')) as {
          status?: { access?: { everyone: boolean; users: string[] } };
        }
      ).status?.access?.users.includes('carol'),
    10_000,
    'carol in the everyone Dataset status access',
  );
});

test('a Dataset naming a missing table says TablesExist=False naming it', async () => {
  await createDataset(c.store, 'ghost', {
    tables: [
      { database: 'warehouse', schema: 'sales', table: 'orders' },
      { database: 'warehouse', schema: 'sales', table: 'nowhere' },
    ],
  });
  const ds = await waitForCondition(
    c.store,
    'Dataset',
    'ghost',
    'TablesExist',
    'False',
    'TablesMissing',
  );
  const cond = ds.status?.conditions?.find((x) => x.type === 'TablesExist');
  assert.match(cond?.message ?? '', /warehouse: sales\.nowhere/);
  assert.equal(ds.status?.conditions?.find((x) => x.type === 'Ready')?.status, 'False');
});

test("a deleted Dataset's role is dropped before it goes", async () => {
  await createDataset(c.store, 'doomed', {
    tables: [{ database: 'warehouse', schema: 'hr', table: 'people' }],
  });
  await waitForCondition(c.store, 'Dataset', 'doomed', 'TablesExist', 'True');
  const role = datasetRole(c.installationId, 'doomed');
  assert.ok((await c.roles()).includes(role));
  await c.store.delete('Dataset', undefined, 'doomed');
  await waitFor(
    async () => !(await c.store.get('Dataset', undefined, 'doomed').catch(() => undefined)),
    20_000,
    'the Dataset to be gone',
  );
  assert.ok(!(await c.roles()).includes(role));
});
