// Controllers without BERTH_CREDENTIALS_KEY while a Database exists: a tool still
// launches, with no database login and no DSN or PG* variable in its environment;
// its instance says Credentials=False KeyMissing and a Warning Event says why.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
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
  c = await startCredEnv({ addressOctet: 69, extraEnv: { BERTH_CREDENTIALS_KEY: '' } });
  await createDatabase(c.store, 'warehouse', c.data);
  await waitForCondition(c.store, 'Database', 'warehouse', 'Connected', 'True');
  await createDataset(c.store, 'sales', {
    tables: [{ database: 'warehouse', schema: 'sales', table: 'orders' }],
    access: { type: 'named', users: ['alice'] },
  });
  await waitForCondition(c.store, 'Dataset', 'sales', 'Ready', 'True');
});

after(async () => {
  await c?.close();
});

test('without the credentials key a tool launches with no database login: Credentials=False KeyMissing and a Warning Event', async () => {
  const { ti, tool } = await launchSqlTool(c, 'alice', 'sql');
  const credentials = ti.status?.conditions?.find((x) => x.type === 'Credentials');
  assert.equal(credentials?.status, 'False', JSON.stringify(ti.status?.conditions));
  assert.equal(credentials?.reason, 'KeyMissing');
  assert.match(credentials?.message ?? '', /BERTH_CREDENTIALS_KEY/);

  const env = await tool.env();
  const database = Object.keys(env).filter((k) => k.startsWith('DATABASE_DSN') || /^PG/.test(k));
  assert.deepEqual(database, [], 'no DATABASE_DSN__* or PG* variable');

  const warning = await waitFor(
    async () =>
      (await eventsFor(c.store, 'alice', 'sql')).find((e) => e.reason === 'CredentialsKeyMissing'),
    10_000,
    'the Warning Event CredentialsKeyMissing',
  );
  assert.equal(warning.type, 'Warning');
  assert.match(warning.message, /BERTH_CREDENTIALS_KEY/);
  // No login was made for the launch (the subject and dataset roles may exist).
  assert.deepEqual(
    (await c.roles()).filter((r) => r.includes('_l_')),
    [],
    'no login role of this installation',
  );
});
