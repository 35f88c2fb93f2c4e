// A launch's database login dies with its task on every path, not only when berth
// stops it: a tool that exits before it is ready, a tool that crashes while Ready,
// and a spawn timeout each end the attempt (Failed) and its login is gone at once.
// The login GC runs once an hour here, so it cannot be what drops them.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { loginRole } from '../../../controllers/credentials/names.ts';
import type { ToolInstance } from '../../../crds/index.ts';
import { admin } from '../../support/ecs-local.ts';
import { sqlToolSpec } from '../../support/sql-tool/index.ts';
import { createTool } from '../reconcile-support.ts';
import {
  type CredEnv,
  createDatabase,
  launchSqlTool,
  startCredEnv,
  waitFor,
  waitForCondition,
  waitForPhase,
} from './ctl-support.ts';

let c: CredEnv;
const figures: string[] = [];

before(async () => {
  c = await startCredEnv({
    addressOctet: 71,
    extraEnv: { BERTH_CREDENTIALS_GC_INTERVAL_MS: '3600000' },
  });
  await createDatabase(c.store, 'warehouse', c.data);
  await waitForCondition(c.store, 'Database', 'warehouse', 'Connected', 'True');
  // testImages(): exits 3 at once; never listens.
  await createTool(c.store, 'exits', sqlToolSpec({ image: 'berth/exit3:latest' }));
  await createTool(
    c.store,
    'silent',
    sqlToolSpec({ image: 'berth/silent:latest', spawnTimeout: '4s' }),
  );
});

after(async () => {
  if (figures.length) console.log(`login gone after the attempt ended: ${figures.join(', ')}`);
  await c?.close();
});

function loginOf(ti: ToolInstance): string {
  return loginRole(c.installationId, ti.metadata.uid!, ti.status!.attempt!);
}

/** Waits for the instance's attempt to have a login (made before RunTask), answers its name. */
async function loginMade(namespace: string, name: string): Promise<string> {
  return waitFor(
    async () => {
      const ti = (await c.store.get('ToolInstance', namespace, name)) as ToolInstance;
      if (ti.status?.attempt === undefined) return undefined;
      const role = loginOf(ti);
      return (await c.roles()).includes(role) ? role : undefined;
    },
    30_000,
    `${namespace}/${name}'s login to exist`,
    50,
  );
}

/** After the attempt ended: the login is gone within 10 s (the GC would take an hour). */
async function loginGone(what: string, role: string): Promise<void> {
  const t0 = Date.now();
  await waitFor(async () => !(await c.roles()).includes(role), 10_000, `${role} dropped`, 50);
  figures.push(`${what} ${Date.now() - t0} ms`);
}

async function createInstance(namespace: string, name: string, toolRef: string): Promise<void> {
  await c.store.create('ToolInstance', {
    apiVersion: 'berth/v1alpha1',
    kind: 'ToolInstance',
    metadata: { name, namespace },
    spec: { toolRef, state: 'Running' },
  });
}

test('a tool that exits by itself before it is ready: Failed, and its login is dropped', async () => {
  await createInstance('ann', 'exits', 'exits');
  const ti = await waitForPhase(c.store, 'ann', 'exits', 'Failed', 60_000);
  assert.equal(ti.status?.stopReason, 'ToolExited');
  assert.equal(ti.status?.attempt, 1);
  // The login existed: the launch made it before RunTask (Credentials=True).
  const cred = ti.status?.conditions?.find((x) => x.type === 'Credentials');
  assert.equal(cred?.status, 'True', JSON.stringify(ti.status));
  await loginGone('tool exited', loginOf(ti));
  assert.equal((await c.roles()).filter((r) => r.includes('_l_')).length, 0);
});

test('a tool killed while Ready, a session open: Failed, and its login is dropped', async () => {
  const { ti, tool } = await launchSqlTool(c, 'bob', 'crashes');
  const role = loginOf(ti);
  assert.ok((await c.roles()).includes(role));
  const r = await tool.query('select current_user as u', { hold: true });
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  // The SQL tool's own process (not the gate's), among this ecs-local's containers.
  const res = await admin(c.env.ecsLocal, '/_ecs-local/processes');
  const { processes } = (await res.json()) as { processes: { pid: number; running: boolean }[] };
  const pids: number[] = [];
  for (const p of processes.filter((x) => x.running)) {
    const cmd = await readFile(`/proc/${p.pid}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes('sql-tool')) pids.push(p.pid);
  }
  assert.equal(pids.length, 1, `one SQL tool process, found ${pids.length}`);
  process.kill(pids[0]!, 'SIGKILL');
  const ended = await waitForPhase(c.store, 'bob', 'crashes', 'Failed', 60_000);
  assert.equal(ended.status?.attempt, 1);
  await loginGone('tool crashed while Ready', role);
  // Not relaunched: a crash stays Failed until a person asks again, so the drop was not a new attempt's.
  assert.equal(
    ((await c.store.get('ToolInstance', 'bob', 'crashes')) as ToolInstance).status?.attempt,
    1,
  );
});

test('a spawn timeout: Failed SpawnTimeout, and its login is dropped', async () => {
  await createInstance('cat', 'slow', 'silent');
  const role = await loginMade('cat', 'slow');
  const ti = await waitForPhase(c.store, 'cat', 'slow', 'Failed', 60_000);
  assert.equal(ti.status?.stopReason, 'SpawnTimeout');
  await loginGone('spawn timeout', role);
});
