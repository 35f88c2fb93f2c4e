// A change of a user's groups (the users table, as sign-in and `berth user` write
// it) reaches a running tool without a relaunch: gaining a Dataset's group grants
// SELECT in an open session within 10 s, losing it revokes within 10 s (the
// Datasets' own resync comes every 5 minutes, so it cannot be what does it).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Identity } from '../../../store/index.ts';
import {
  type CredEnv,
  createDatabase,
  createDataset,
  launchSqlTool,
  SessionProbe,
  startCredEnv,
  waitForCondition,
} from './ctl-support.ts';

let c: CredEnv;
let session: SessionProbe;
let identity: Identity;

before(async () => {
  c = await startCredEnv({ addressOctet: 72 });
  identity = new Identity(c.store.pool);
  await identity.upsertUser({ name: 'dan', groups: ['staff'] });
  await createDatabase(c.store, 'warehouse', c.data);
  await waitForCondition(c.store, 'Database', 'warehouse', 'Connected', 'True');
  await createDataset(c.store, 'payroll', {
    tables: [{ database: 'warehouse', schema: 'hr', table: 'people' }],
    access: { type: 'named', users: [], groups: ['payroll-team'] },
  });
  await waitForCondition(c.store, 'Dataset', 'payroll', 'Ready', 'True');
  const { tool } = await launchSqlTool(c, 'dan', 'sql');
  session = new SessionProbe(tool, 'select count(*)::int as n from hr.people');
});

after(async () => {
  if (session?.figures.length)
    console.log(`group changes took effect in: ${session.figures.join(', ')}`);
  await c?.close();
});

test("a user's new group grants, and its removal revokes, in a running session within 10 s", async () => {
  assert.equal(await session.answer(), '42501');
  await identity.upsertUser({ name: 'dan', groups: ['staff', 'payroll-team'] });
  await session.within10s('grant by a new group', 'ok');
  await identity.upsertUser({ name: 'dan', groups: ['staff'] });
  await session.within10s('revoke by a removed group', '42501');
});
