// Crash safety of credentials: a controller process is SIGKILLed after a
// launch's database login was made and before RunTask (held there by the
// `afterLaunchCredentials` seam). One instance is then deleted the ordinary way
// (a restarted controller finalizes it), the other disappears without its
// finalizer (only the login GC can find its login). Either way, once the
// instance is gone and the GC has run, no login role of the installation is left.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { rolePrefix } from '../../../controllers/credentials/names.ts';
import { CONTROLLED_KINDS, ReconcileQueue, reconcileOnWrite } from '../../../controllers/index.ts';
import { type EcsLocal, startEcsLocal } from '../../../ecs-local/index.ts';
import { ResourceStore } from '../../../store/index.ts';
import { freshDatabase, type TestDatabase } from '../../support/db.ts';
import { sqlToolImage, sqlToolSpec } from '../../support/sql-tool/index.ts';
import { createInstance, createTool, examples, waitFor } from '../reconcile-support.ts';
import {
  createDatabase,
  createDataset,
  type DataDatabase,
  dataDatabase,
  waitForCondition,
} from './ctl-support.ts';

let db: TestDatabase;
let data: DataDatabase;
let ecsLocal: EcsLocal;
let queue: ReconcileQueue;
let store: ResourceStore;
const installationId = `ctl-crash-${randomBytes(4).toString('hex')}`;
const children: ChildProcess[] = [];

before(async () => {
  db = await freshDatabase();
  data = await dataDatabase();
  ecsLocal = await startEcsLocal({
    port: 0,
    imageMapPath: join(examples, 'demo', 'images.yaml'),
    imageMap: sqlToolImage(),
    addressOctet: 65,
    throttling: false,
  });
  queue = await ReconcileQueue.start({ pool: db.pool, kinds: CONTROLLED_KINDS, role: 'producer' });
  store = new ResourceStore(db.pool, { onWrite: reconcileOnWrite(queue) });
});

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await queue?.stop().catch(() => {});
  await store?.close().catch(() => {});
  await ecsLocal?.close(500);
  await db?.drop();
  const { rows } = await data.superQuery<{ rolname: string }>(
    'select rolname from pg_roles where starts_with(rolname, $1)',
    [rolePrefix(installationId)],
  );
  await data?.cleanup(rows.map((r) => r.rolname));
});

async function logins(): Promise<string[]> {
  const { rows } = await data.superQuery<{ rolname: string }>(
    "select rolname from pg_roles where starts_with(rolname, $1) and rolname like '%\\_l\\_%' order by 1",
    [rolePrefix(installationId)],
  );
  return rows.map((r) => r.rolname);
}

function startController(pause: boolean) {
  const child = spawn(
    process.execPath,
    [
      '--disable-warning=ExperimentalWarning',
      join(import.meta.dirname, '..', 'fixtures', 'controller-child.ts'),
    ],
    {
      env: {
        ...process.env,
        BERTH_TEST_DATABASE_URL: db.url,
        BERTH_TEST_ECS_ENDPOINT: ecsLocal.url,
        BERTH_TEST_ECS_ACCESS_KEY_ID: ecsLocal.credentials.accessKeyId,
        BERTH_TEST_ECS_SECRET_ACCESS_KEY: ecsLocal.credentials.secretAccessKey,
        BERTH_INSTALLATION_ID: installationId,
        WAREHOUSE_ADMIN: data.adminJson,
        BERTH_CREDENTIALS_GC_INTERVAL_MS: '300',
        BERTH_CREDENTIALS_GC_GRACE_MS: '0',
        BERTH_TEST_PAUSE_AFTER_CREDENTIALS: pause ? '1' : '0',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => {
    out += String(d);
  });
  return {
    child,
    lines: (prefix: string) => out.split('\n').filter((l) => l.startsWith(prefix)),
  };
}

test('SIGKILL after the login was made, before RunTask: no login left once the instances are gone and the GC ran', async () => {
  await createTool(store, 'sql', sqlToolSpec());
  await createDatabase(store, 'warehouse', data);
  await createDataset(store, 'sales', {
    tables: [{ database: 'warehouse', schema: 'sales', table: 'orders' }],
    access: { type: 'everyone' },
  });
  const first = startController(true);
  await waitFor(() => first.lines('STARTED').length > 0, 20_000, 'the first controller');
  await waitForCondition(store, 'Dataset', 'sales', 'Ready', 'True');
  await createInstance(store, 'dora', 'sql', 'sql');
  await createInstance(store, 'eve', 'sql', 'sql');
  await waitFor(() => first.lines('PAUSED ').length === 2, 30_000, 'both launches to pause');
  assert.equal((await logins()).length, 2, 'each launch made its login before the kill');
  first.child.kill('SIGKILL');
  await new Promise((r) => first.child.once('exit', r));

  // dora: deleted the ordinary way; eve: gone without berth's finalizer.
  await store.delete('ToolInstance', 'dora', 'sql');
  await store.updateWith('ToolInstance', 'eve', 'sql', (cur) => ({
    ...cur,
    metadata: { ...cur.metadata, finalizers: [] },
  }));
  await store.delete('ToolInstance', 'eve', 'sql');

  const second = startController(false);
  await waitFor(() => second.lines('STARTED').length > 0, 20_000, 'the second controller');
  await waitFor(
    async () => !(await store.get('ToolInstance', 'dora', 'sql').catch(() => undefined)),
    60_000,
    'dora/sql to be finalized',
  );
  const t0 = Date.now();
  await waitFor(async () => (await logins()).length === 0, 30_000, 'no login role left');
  console.log(`logins gone ${Date.now() - t0} ms after the instance was finalized`);
  second.child.kill('SIGTERM');
  await new Promise((r) => second.child.once('exit', r));
});
