// Each part of berth restarted alone: the API, the controllers, the proxy,
// PostgreSQL and ecs-local, each its own process as an operator runs them
// (test/support/system). Before each restart one instance is launching and
// another stopping; the part is SIGKILLed and started again (PostgreSQL: a fast
// shutdown and a start on the same data and port). Then within 30 s every
// instance whose spec says Running is Ready and answers through the proxy, every
// Stopped one is Stopped with no task, and deleting a Stopped and a Running
// instance completes (finalizer removed, no task left).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import type { ToolInstance } from '../../crds/index.ts';
import { tinyToolDefinition, toolInstance } from '../support/system/api-client.ts';
import { describeInstance, judge } from '../support/system/convergence.ts';
import { type System, startSystem } from '../support/system/system.ts';
import { taskProcesses } from '../support/system/task-processes.ts';
import { waitFor } from '../support/wait.ts';

const NS = 'alice';
const WITHIN_MS = 30_000;
let system: System;
let passed = true;

before(async () => {
  system = await startSystem({
    dir: join(import.meta.dirname, '..', '..', '.data', `heal-parts-${process.pid}`),
    addressOctet: 62,
    controllers: 1,
    proxy: true,
    users: [NS],
  });
  await system.admin.create('tooldefinitions', undefined, tinyToolDefinition('tiny'));
  for (const name of ['first', 'second', 'third']) await launch(name);
  await converged('the first three instances');
});

after(async () => {
  await system?.close(!passed);
});

async function launch(name: string): Promise<void> {
  await system.admin.create('toolinstances', NS, toolInstance(NS, name, 'tiny', 'Running'));
}

/** GET through the proxy as the instance's owner, never launching. */
async function throughProxy(name: string): Promise<boolean> {
  try {
    const r = await request(`${system.proxyUrl}/`, {
      headers: {
        host: `${name}--${NS}.localhost:${system.proxyPort}`,
        authorization: `Bearer ${system.tokens[NS]}`,
        'x-berth-no-launch': '1',
      },
      headersTimeout: 2_000,
      bodyTimeout: 2_000,
    });
    const text = await r.body.text();
    return r.statusCode === 200 && text === 'berth tiny tool\n';
  } catch {
    return false;
  }
}

/** Why each instance does not match its spec (empty: all do). */
async function notConverged(): Promise<string[]> {
  const instances = await system.admin.instances(NS);
  const tasks = await system.ecs.liveTasks();
  const current = system.ecsStarts();
  const orphans = new Set(
    taskProcesses(system.runId)
      .filter((p) => p.ecsStart !== current)
      .map((p) => p.address),
  );
  const why: string[] = [];
  for (const ti of instances) {
    const v = await judge(ti, tasks, orphans);
    if (!v.ok) why.push(`${ti.metadata.name}: ${v.why}`);
    else if (ti.spec.state === 'Running' && !(await throughProxy(ti.metadata.name)))
      why.push(`${ti.metadata.name}: Ready, but the proxy does not route to it`);
  }
  return why;
}

async function converged(what: string): Promise<void> {
  let why: string[] = ['(not checked yet)'];
  const ok = await waitFor(
    async () => {
      try {
        why = await notConverged();
      } catch (err) {
        why = [`(the check failed: ${(err as Error).message})`];
      }
      return why.length === 0;
    },
    WITHIN_MS,
    what,
    500,
  ).catch(() => false);
  if (ok) return;
  passed = false;
  assert.fail(
    `${what}: not converged within ${WITHIN_MS / 1000} s:\n  ${why.join('\n  ')}\nlogs: ${system.logDir}`,
  );
}

async function gone(names: string[]): Promise<void> {
  let left: ToolInstance[] = [];
  const ok = await waitFor(
    async () => {
      try {
        left = (await system.admin.instances(NS)).filter((ti) => names.includes(ti.metadata.name));
      } catch {
        return false; // the API is restarting
      }
      return left.length === 0;
    },
    WITHIN_MS,
    'the deleted instances to go',
    500,
  ).catch(() => false);
  if (ok) return;
  passed = false;
  assert.fail(
    `deleted instances still there after ${WITHIN_MS / 1000} s:\n  ${left.map((ti) => `${ti.metadata.name}: ${describeInstance(ti)}`).join('\n  ')}\nlogs: ${system.logDir}`,
  );
}

const oldestRunning = async (except: string[]): Promise<string> => {
  const running = (await system.admin.instances(NS))
    .filter((ti) => ti.spec.state === 'Running' && !except.includes(ti.metadata.name))
    .sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion));
  assert.ok(running.length > 0, 'a Running instance to stop');
  return running[0]!.metadata.name;
};

const parts: Array<[string, () => Promise<void>]> = [
  ['the API', () => system.api.restart('SIGKILL')],
  ['the controllers', () => system.controllers[0]!.restart('SIGKILL')],
  ['the proxy', () => system.proxy!.restart('SIGKILL')],
  ['PostgreSQL', () => system.pg.restart()],
  ['ecs-local', () => system.ecsLocal.restart('SIGKILL')],
];

for (const [i, [part, restart]] of parts.entries()) {
  test(`${part} restarted alone: Running instances Ready again, stop and delete complete`, async () => {
    // In motion across the restart: one launching, one stopping.
    const launching = `new${i}`;
    await launch(launching);
    const stopping = await oldestRunning([launching]);
    await system.admin.setState(NS, stopping, 'Stopped');
    await restart();
    await converged(`after restarting ${part}`);

    const deleting = await oldestRunning([launching]);
    await system.admin.deleteInstance(NS, stopping);
    await system.admin.deleteInstance(NS, deleting);
    await gone([stopping, deleting]);
    const left = (await system.ecs.liveTasks()).length;
    const running = (await system.admin.instances(NS)).filter((ti) => ti.spec.state === 'Running');
    assert.equal(left, running.length, 'one live task per Running instance, none for the deleted');
    // Keep three Running for the next part.
    await launch(`spare${i}`);
    const crashed = system.daemons().flatMap((d) => d.unexpectedExits);
    assert.deepEqual(crashed, [], 'no daemon exited on its own');
  });
}
