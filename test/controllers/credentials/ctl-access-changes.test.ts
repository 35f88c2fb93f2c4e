// Access changes reach a running tool without a relaunch: an edit of a Dataset's
// access.users, and an AccessRequest approved then denied by status writes (the
// approval subresource writes only status), each take effect in an open session
// of the tool within 10 s (PostgreSQL checks membership per statement).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  type CredEnv,
  createDatabase,
  createDataset,
  launchSqlTool,
  SessionProbe,
  startCredEnv,
  waitFor,
  waitForCondition,
} from './ctl-support.ts';

let c: CredEnv;
let session: SessionProbe;

before(async () => {
  c = await startCredEnv({ addressOctet: 62 });
  await createDatabase(c.store, 'warehouse', c.data);
  await waitForCondition(c.store, 'Database', 'warehouse', 'Connected', 'True');
  await createDataset(c.store, 'hr', {
    tables: [{ database: 'warehouse', schema: 'hr', table: 'people' }],
    access: { type: 'named', users: ['bob'] },
  });
  await waitForCondition(c.store, 'Dataset', 'hr', 'Ready', 'True');
  const { tool } = await launchSqlTool(c, 'alice', 'sql');
  session = new SessionProbe(tool, 'select count(*)::int as n from hr.people');
});

after(async () => {
  if (session?.figures.length)
    console.log(`access changes took effect in: ${session.figures.join(', ')}`);
  await c?.close();
});

test('editing access.users grants and revokes in a running session within 10 s', async () => {
  assert.equal(await session.answer(), '42501');
  await c.store.patch('Dataset', undefined, 'hr', {
    spec: { access: { type: 'named', users: ['bob', 'alice'] } },
  });
  await session.within10s('grant by access.users', 'ok');
  await c.store.patch('Dataset', undefined, 'hr', {
    spec: { access: { type: 'named', users: ['bob'] } },
  });
  await session.within10s('revoke by access.users', '42501');
});

test('an AccessRequest approved then denied (status writes) grants then revokes within 10 s', async () => {
  assert.equal(await session.answer(), '42501');
  await c.store.create('AccessRequest', {
    apiVersion: 'berth/v1alpha1',
    kind: 'AccessRequest',
    metadata: { name: 'hr-please', namespace: 'alice', labels: { 'berth.io/dataset': 'hr' } },
    spec: { dataset: 'hr', reason: 'quarterly report' },
  });
  // The store keeps status out of creates; the Dataset reconcile marks it Pending.
  await waitFor(
    async () =>
      (
        (await c.store.get('AccessRequest', 'alice', 'hr-please')) as {
          status?: { phase?: string };
        }
      ).status?.phase === 'Pending',
    10_000,
    'the new request marked Pending',
  );
  await c.store.patchStatus('AccessRequest', 'alice', 'hr-please', {
    status: { phase: 'Approved', decidedBy: 'bob', decidedAt: new Date().toISOString() },
  });
  await session.within10s('grant by approval', 'ok');
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
  await c.store.patchStatus('AccessRequest', 'alice', 'hr-please', {
    status: { phase: 'Denied', decidedBy: 'bob', decidedAt: new Date().toISOString() },
  });
  await session.within10s('revoke by denial', '42501');
});
