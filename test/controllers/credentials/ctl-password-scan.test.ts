// The password never leaves the task's environment: a whole launch, a grant, a
// stop and a relaunch run through the real controllers (in this process, every
// log line captured at every level), then the login password and DSN read from
// inside the tool are searched for in every log line, every stored object and
// every version of it (resources and resource_log: Events, ToolInstance status,
// Databases, Datasets — what the API serves), the controllers' and the ECS
// driver's /metrics text, and the dataset database's own activity view.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eventsFor } from '../reconcile-support.ts';
import {
  type CredEnv,
  createDatabase,
  createDataset,
  launchSqlTool,
  readyTool,
  setState,
  startCredEnv,
  waitForCondition,
  waitForPhase,
} from './ctl-support.ts';

let c: CredEnv;
const lines: string[] = [];
const capture = (level: string) => (o: object, msg: string) => {
  lines.push(
    `${level} ${msg} ${JSON.stringify(o, (_k, v) => (v instanceof Error ? `${v.message} ${v.stack}` : v))}`,
  );
};

before(async () => {
  c = await startCredEnv({
    addressOctet: 67,
    manager: {
      log: {
        info: capture('INFO'),
        debug: capture('DEBUG'),
        warn: capture('WARN'),
        error: capture('ERROR'),
      },
    },
  });
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

test('the login password and DSN appear in no log line, object, Event, status or metric', async () => {
  const { tool } = await launchSqlTool(c, 'alice', 'sql');
  const env = await tool.env();
  const secrets = [env.PGPASSWORD!, env.DATABASE_DSN__warehouse!];
  assert.equal(secrets[0]!.length, 43, 'a derived password is 43 base64url characters');
  assert.match(secrets[1]!, /password=/);
  assert.equal((await tool.query('select count(*)::int as n from sales.orders')).rows?.[0]?.n, 2);

  // More of the life of a launch: a grant change, a stop, a relaunch.
  await c.store.patch('Dataset', undefined, 'sales', {
    spec: { access: { type: 'named', users: ['alice', 'bob'] } },
  });
  await setState(c.store, 'alice', 'sql', 'Stopped');
  await waitForPhase(c.store, 'alice', 'sql', 'Stopped', 60_000);
  await setState(c.store, 'alice', 'sql', 'Running');
  const second = await readyTool(c, 'alice', 'sql', 2);
  const env2 = await second.tool.env();
  secrets.push(env2.PGPASSWORD!, env2.DATABASE_DSN__warehouse!);

  const haystacks: [string, string][] = [];
  for (const [i, l] of lines.entries()) haystacks.push([`log line ${i}`, l]);
  for (const table of ['resources', 'resource_log']) {
    const { rows } = await c.env.db.pool.query<{ kind: string; name: string; text: string }>(
      `select kind, name, object::text as text from ${table}`,
    );
    for (const r of rows) haystacks.push([`${table} ${r.kind}/${r.name}`, r.text]);
  }
  haystacks.push(['controller metrics', await c.env.managers[0]!.registry.metrics()]);
  haystacks.push(['ECS driver metrics', await c.env.driverRegistry.metrics()]);
  const { rows: activity } = await c.data.superQuery<{ text: string }>(
    "select coalesce(string_agg(query, E'\\n'), '') as text from pg_stat_activity",
  );
  haystacks.push(['pg_stat_activity', activity[0]!.text]);
  assert.ok((await eventsFor(c.store, 'alice', 'sql')).length > 0);

  for (const s of secrets)
    for (const [where, text] of haystacks)
      assert.ok(
        !text.includes(s),
        `a secret (${s === secrets[0] || s === secrets[2] ? 'password' : 'DSN'}) found in ${where}`,
      );
  console.log(
    `scanned ${haystacks.length} places (${lines.length} log lines) for 4 secrets: none found`,
  );
});
