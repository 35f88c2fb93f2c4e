// Access changes reach a running tool without a relaunch: an edit of a Dataset's
// access.users, and an AccessRequest approved then denied by status writes (the
// approval subresource writes only status), each take effect in an open session
// of the tool within 10 s (PostgreSQL checks membership per statement).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
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
const figures: string[] = [];

before(async () => {
  c = await startCredEnv({ addressOctet: 62 });
  await createDatabase(c.store, 'warehouse', c.data);
  await waitForCondition(c.store, 'Database', 'warehouse', 'Connected', 'True');
  await createDataset(c.store, 'hr', {
    tables: [{ database: 'warehouse', schema: 'hr', table: 'people' }],
    access: { type: 'named', users: ['bob'] },
  });
  await waitForCondition(c.store, 'Dataset', 'hr', 'Ready', 'True');
  ({ tool } = await launchSqlTool(c, 'alice', 'sql'));
});

after(async () => {
  if (figures.length) console.log(`access changes took effect in: ${figures.join(', ')}`);
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

test('editing access.users grants and revokes in a running session within 10 s', async () => {
  assert.equal(await peopleInOpenSession(), '42501');
  await c.store.patch('Dataset', undefined, 'hr', {
    spec: { access: { type: 'named', users: ['bob', 'alice'] } },
  });
  await within10s('grant by access.users', 'ok');
  await c.store.patch('Dataset', undefined, 'hr', {
    spec: { access: { type: 'named', users: ['bob'] } },
  });
  await within10s('revoke by access.users', '42501');
});

test('an AccessRequest approved then denied (status writes) grants then revokes within 10 s', async () => {
  assert.equal(await peopleInOpenSession(), '42501');
  await c.store.create('AccessRequest', {
    apiVersion: 'berth/v1alpha1',
    kind: 'AccessRequest',
    metadata: { name: 'hr-please', namespace: 'alice', labels: { 'berth.io/dataset': 'hr' } },
    spec: { dataset: 'hr', reason: 'quarterly report' },
  });
  await c.store.patchStatus('AccessRequest', 'alice', 'hr-please', {
    status: { phase: 'Approved', decidedBy: 'bob', decidedAt: new Date().toISOString() },
  });
  await within10s('grant by approval', 'ok');
  const ds = (await c.store.get('Dataset', undefined, 'hr')) as {
    status?: { access?: { users: string[] } };
  };
  await waitFor(
    async () =>
      (
        (await c.store.get('Dataset', undefined, 'hr')) as {
          status?: { access?: { users: string[] } };
        }
      ).status?.access?.users.includes('alice'),
    10_000,
    'alice in the Dataset status access',
  );
  void ds;
  await c.store.patchStatus('AccessRequest', 'alice', 'hr-please', {
    status: { phase: 'Denied', decidedBy: 'bob', decidedAt: new Date().toISOString() },
  });
  await within10s('revoke by denial', '42501');
});
