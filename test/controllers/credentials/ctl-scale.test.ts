// 50 launches at once, each with database logins, while Datasets sync: every
// instance ends Ready with Credentials=True and its own login, and the
// controllers never saw "tuple concurrently updated" or a deadlock (role
// changes are serialized by the role lock). The tiny tool stands in for tool
// and gate (GATE_STUB_IMAGE): 50 Node processes would not fit the machine.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ToolInstance } from '../../../crds/index.ts';
import { createInstance, createTool, tinySpec } from '../reconcile-support.ts';
import {
  type CredEnv,
  createDatabase,
  createDataset,
  startCredEnv,
  waitFor,
  waitForCondition,
} from './ctl-support.ts';

let c: CredEnv;
const problems: string[] = [];
const record = (level: string) => (o: object, msg: string) => {
  const text = `${level} ${msg} ${JSON.stringify(o)}`;
  if (/concurrently updated|deadlock|XX000|40P01|database login/i.test(text)) problems.push(text);
};

before(async () => {
  c = await startCredEnv({
    addressOctet: 66,
    gateStub: true,
    manager: {
      log: { info() {}, debug() {}, warn: record('WARN'), error: record('ERROR') },
    },
  });
  await createTool(c.store, 'tiny', tinySpec({ spawnTimeout: '5m' }));
  await createDatabase(c.store, 'warehouse', c.data, {
    logins: { connectionLimit: 2, statementTimeout: '1m', idleInTransactionTimeout: '1m' },
  });
  await waitForCondition(c.store, 'Database', 'warehouse', 'Connected', 'True');
  await createDataset(c.store, 'sales', {
    tables: [{ database: 'warehouse', schema: 'sales', table: 'orders' }],
    access: { type: 'everyone' },
  });
  await waitForCondition(c.store, 'Dataset', 'sales', 'Ready', 'True');
});

after(async () => {
  await c?.close();
});

test('50 launches at once with credentials: all Ready, each with its login, no role-change conflicts', async () => {
  const users = Array.from({ length: 40 }, (_, i) => `user${i}`);
  const t0 = Date.now();
  const creates: Promise<unknown>[] = [];
  for (let i = 0; i < 50; i++) {
    // 40 users, 10 of them with a second instance (the same subject role twice at once).
    const ns = users[i % 40]!;
    creates.push(createInstance(c.store, ns, i < 40 ? 'a' : 'b', 'tiny'));
  }
  // Dataset syncs running meanwhile (membership changes while subjects are being made).
  creates.push(
    createDataset(c.store, 'hr', {
      tables: [{ database: 'warehouse', schema: 'hr', table: 'people' }],
      access: { type: 'named', users: users.slice(0, 20) },
    }),
  );
  await Promise.all(creates);
  const ready = await waitFor(
    async () => {
      const items = (await c.store.list('ToolInstance')).items as ToolInstance[];
      return items.length === 50 && items.every((t) => t.status?.phase === 'Ready')
        ? items
        : undefined;
    },
    300_000,
    '50 instances Ready',
    250,
  );
  console.log(`50 launches with credentials Ready in ${Date.now() - t0} ms`);
  if (problems.length) console.log(problems.join('\n'));
  for (const ti of ready) {
    const cond = ti.status?.conditions.find((x) => x.type === 'Credentials');
    assert.equal(
      cond?.status,
      'True',
      `${ti.metadata.namespace}/${ti.metadata.name}: ${JSON.stringify(cond)}`,
    );
  }
  const logins = (await c.roles()).filter((r) => /_l_/.test(r));
  assert.equal(logins.length, 50);
  await waitForCondition(c.store, 'Dataset', 'hr', 'Ready', 'True');
  assert.deepEqual(problems, []);
});
