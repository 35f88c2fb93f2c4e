// A shared app (a ToolDefinition with sharing: shared, its instance in the
// reserved namespace `shared`) carries the credentials granted to the app
// itself — Datasets naming it in access.apps — and never its viewers' or
// anyone's: not a Dataset open to everyone signed in, not one granted to a
// user. Its login is its own role, not any user's.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  type CredEnv,
  createDatabase,
  createDataset,
  readyTool,
  startCredEnv,
  waitForCondition,
} from '../controllers/credentials/ctl-support.ts';
import { createTool } from '../controllers/reconcile-support.ts';
import { sqlToolSpec } from '../support/sql-tool/index.ts';

let c: CredEnv;

before(async () => {
  c = await startCredEnv({ addressOctet: 67 });
  await createTool(c.store, 'dash', sqlToolSpec({ sharing: 'shared' }));
  await createDatabase(c.store, 'warehouse', c.data);
  await waitForCondition(c.store, 'Database', 'warehouse', 'Connected', 'True');
  await createDataset(c.store, 'for-the-app', {
    tables: [{ database: 'warehouse', schema: 'sales', table: 'orders' }],
    access: { type: 'named', apps: ['dash'] },
  });
  await createDataset(c.store, 'for-everyone', {
    tables: [{ database: 'warehouse', schema: 'sales', table: 'customers' }],
    access: { type: 'everyone' },
  });
  await createDataset(c.store, 'for-alice', {
    tables: [{ database: 'warehouse', schema: 'hr', table: 'people' }],
    access: { type: 'named', users: ['alice'] },
  });
  for (const name of ['for-the-app', 'for-everyone', 'for-alice'])
    await waitForCondition(c.store, 'Dataset', name, 'Ready', 'True');
});

after(async () => {
  await c?.close();
});

test("a shared app reads exactly the Datasets granted to it, not everyone's or a user's", async () => {
  await c.store.create('ToolInstance', {
    apiVersion: 'berth/v1alpha1',
    kind: 'ToolInstance',
    metadata: { name: 'dash', namespace: 'shared' },
    spec: { toolRef: 'dash', state: 'Running' },
  });
  const { ti, tool } = await readyTool(c, 'shared', 'dash', 1);
  const cond = ti.status?.conditions.find((x) => x.type === 'Credentials');
  assert.equal(cond?.status, 'True', JSON.stringify(cond));

  const ok = await tool.query('select count(*)::int as n from sales.orders');
  assert.ok((ok.rows?.[0]?.n as number) > 0, JSON.stringify(ok));
  for (const t of ['sales.customers', 'hr.people', 'public.regions']) {
    const r = await tool.query(`select * from ${t}`);
    assert.equal(r.error?.code, '42501', `${t}: ${JSON.stringify(r)}`);
  }
  // Its session runs as the app's own role, which is no user's.
  const who = await tool.query(
    "select current_user::text as role, shobj_description(r.oid, 'pg_authid') as comment from pg_roles r where r.rolname = current_user",
  );
  const comment = JSON.parse(String(who.rows?.[0]?.comment ?? '{}')) as {
    kind?: string;
    name?: string;
  };
  assert.deepEqual({ kind: comment.kind, name: comment.name }, { kind: 'app', name: 'dash' });
});
