// A change of a user's groups (the users table, as sign-in and `berth user` write
// it) reaches a running tool without a relaunch: gaining a Dataset's group grants
// SELECT in an open session within 10 s, losing it revokes within 10 s (the
// Datasets' own resync comes every 5 minutes, so it cannot be what does it).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Identity } from '../../../store/index.ts';
import type { SqlTool } from '../../support/sql-tool/index.ts';
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
let tool: SqlTool;
let identity: Identity;
const figures: string[] = [];

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
  ({ tool } = await launchSqlTool(c, 'dan', 'sql'));
});

after(async () => {
  if (figures.length) console.log(`group changes took effect in: ${figures.join(', ')}`);
  await c?.close();
});

/** The open session's answer to reading hr.people: 'ok' or the SQLSTATE. */
async function peopleInOpenSession(): Promise<string> {
  const r = await tool.query('select count(*)::int as n from hr.people', { hold: true });
  return r.error ? r.error.code : 'ok';
}

async function within10s(what: string, want: string): Promise<void> {
  const t0 = Date.now();
  await waitFor(async () => (await peopleInOpenSession()) === want, 10_000, what, 100);
  figures.push(`${what} ${Date.now() - t0} ms`);
}

test("a user's new group grants, and its removal revokes, in a running session within 10 s", async () => {
  assert.equal(await peopleInOpenSession(), '42501');
  await identity.upsertUser({ name: 'dan', groups: ['staff', 'payroll-team'] });
  await within10s('grant by a new group', 'ok');
  await identity.upsertUser({ name: 'dan', groups: ['staff'] });
  await within10s('revoke by a removed group', '42501');
});
