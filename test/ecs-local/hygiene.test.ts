// Process hygiene: closing ecs-local stops every process it started, including
// grandchildren and containers that ignore SIGTERM; none is left running or unreaped.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { admin } from '../support/ecs-local.ts';
import { ecsClient, registerFargate, runOne, start, waitFor, waitForStatus } from './helpers.ts';

function procStat(pid: number): { state: string; ppid: number; pgrp: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: f[0]!, ppid: Number(f[1]), pgrp: Number(f[2]) };
  } catch {
    return undefined;
  }
}

function allPids(): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number);
}

test('close() leaves no stray process, no live process group and no zombie', async () => {
  const ecsLocal = await start();
  const ecs = ecsClient(ecsLocal);
  const families = [
    await registerFargate(ecs, 'grandparent', 'test/spawn-child:1'),
    await registerFargate(ecs, 'stubborn', 'test/ignore-term:1', { stopTimeout: 60 }),
    await registerFargate(ecs, 'server', 'test/serve:1', { port: 9000 }),
    await registerFargate(ecs, 'busy', 'test/busy:1'),
  ];
  const tasks = await Promise.all(families.map((td) => runOne(ecs, td)));
  await Promise.all(tasks.map((t) => waitForStatus(ecs, t.taskArn!, 'RUNNING')));
  const id = tasks[0]!.taskArn!.split('/').pop();
  const grandchild = await waitFor('the grandchild pid', async () => {
    const logs = await (
      await admin(ecsLocal, `/_ecs-local/tasks/${id}/containers/main/logs`)
    ).text();
    const m = /child (\d+)/.exec(logs);
    return m ? Number(m[1]) : undefined;
  });
  const leaders = ecsLocal.processes().map((p) => p.pid);
  assert.equal(leaders.length, 4);
  const watched = [...leaders, grandchild];
  for (const pid of watched) assert.ok(procStat(pid), `pid ${pid} runs before close`);
  assert.equal(
    procStat(grandchild)!.pgrp,
    leaders[0],
    'the grandchild is in its container’s process group',
  );

  const t0 = performance.now();
  await ecsLocal.close(300);
  const closeMs = performance.now() - t0;
  // Generous (a loaded machine): it rules out close() waiting for the containers' 30 s
  // default stop timeout instead of its own 300 ms grace.
  assert.ok(closeMs < 15_000, `close took ${closeMs.toFixed(0)} ms`);

  // Our own children are reaped by Node as they exit; the grandchild by init. Allow for that.
  await waitFor(
    'every process to be gone',
    async () => watched.every((pid) => procStat(pid) === undefined),
    5000,
  ).catch(() => {
    const left = watched.map((pid) => [pid, procStat(pid)]).filter(([, s]) => s);
    assert.fail(`processes left after close: ${JSON.stringify(left)}`);
  });
  const inGroups = allPids().filter((pid) => leaders.includes(procStat(pid)?.pgrp ?? -1));
  assert.deepEqual(inGroups, [], 'no process left in any container process group');
  const zombies = allPids().filter((pid) => {
    const s = procStat(pid);
    return s?.ppid === process.pid && s.state === 'Z';
  });
  assert.deepEqual(zombies, [], 'no unreaped child of this process');
  assert.ok(ecsLocal.processes().every((p) => !p.running));
});
