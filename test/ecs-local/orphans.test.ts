// Task processes never outlive ecs-local: when it is SIGKILLed its orphan guard
// kills them at once; and when the guard is gone too, the next ecs-local on the
// same state directory kills them from its process records before it runs
// anything, without touching a process whose pid merely matches a record.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ECSClient } from '@aws-sdk/client-ecs';
import { admin } from '../support/ecs-local.ts';
import { waitFor } from '../support/wait.ts';
import {
  childrenOf,
  cmdline,
  type EcsLocalChild,
  isLive,
  startEcsLocalChild,
  writeTestImageMap,
} from './child.ts';
import { registerFargate, runOne, waitForStatus } from './helpers.ts';

const dirs: string[] = [];
const children: EcsLocalChild[] = [];
after(() => {
  for (const c of children) c.child.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function setup(): { stateDir: string; imageMap: string; octet: number } {
  const dir = mkdtempSync(join(tmpdir(), 'ecs-local-orphans-'));
  dirs.push(dir);
  return {
    stateDir: join(dir, 'state'),
    imageMap: writeTestImageMap(dir),
    octet: 100 + Math.floor(Math.random() * 150),
  };
}

async function start(env: ReturnType<typeof setup>): Promise<EcsLocalChild> {
  const c = await startEcsLocalChild(env);
  children.push(c);
  return c;
}

function client(ecsLocal: EcsLocalChild): ECSClient {
  return new ECSClient({
    endpoint: ecsLocal.url,
    region: 'eu-west-2',
    credentials: ecsLocal.credentials,
    maxAttempts: 1,
  });
}

const ipOf = (t: { attachments?: { details?: { name?: string; value?: string }[] }[] }) =>
  t.attachments?.[0]?.details?.find((d) => d.name === 'privateIPv4Address')?.value;

/** Runs a server task and a task with a grandchild; returns every pid they run. */
async function runTasks(ecsLocal: EcsLocalChild, port: number): Promise<number[]> {
  const ecs = client(ecsLocal);
  const server = await registerFargate(ecs, 'server', 'test/serve:1', { port });
  const parent = await registerFargate(ecs, 'parent', 'test/spawn-child:1');
  const tasks = [await runOne(ecs, server), await runOne(ecs, parent)];
  await Promise.all(tasks.map((t) => waitForStatus(ecs, t.taskArn!, 'RUNNING', 30_000)));
  const id = tasks[1]!.taskArn!.split('/').pop();
  let grandchild = 0;
  await waitFor(
    async () => {
      const logs = await (
        await admin(ecsLocal, `/_ecs-local/tasks/${id}/containers/main/logs`)
      ).text();
      grandchild = Number(/child (\d+)/.exec(logs)?.[1] ?? 0);
      return grandchild > 0;
    },
    10_000,
    'the grandchild pid',
  );
  const { processes } = (await (await admin(ecsLocal, `/_ecs-local/processes`)).json()) as {
    processes: { pid: number }[];
  };
  const leaders = processes.map((p) => p.pid);
  assert.equal(leaders.length, 2, 'two container processes run');
  const pids = [...leaders, grandchild];
  for (const pid of pids) assert.ok(isLive(pid), `pid ${pid} runs`);
  return pids;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

test('SIGKILL of ecs-local takes its task processes (and their children) with it', async () => {
  const env = setup();
  const ecsLocal = await start(env);
  const pids = await runTasks(ecsLocal, await freePort());
  ecsLocal.child.kill('SIGKILL');
  await ecsLocal.exited;
  await waitFor(
    () => pids.every((pid) => !isLive(pid)),
    10_000,
    'every task process to be gone',
  ).catch(() =>
    assert.fail(`left running after SIGKILL: ${pids.filter(isLive).map(cmdline).join('; ')}`),
  );
});

test('the next start on the same state directory kills what a dead ecs-local left, and only that', async () => {
  const env = setup();
  const first = await start(env);
  const port = await freePort();
  const pids = await runTasks(first, port);
  // A process that is not ours, named by a forged record whose start time is not its own:
  // the record of a pid since recycled (by a group leader, as containers are). It must survive.
  const bystander = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
    stdio: 'ignore',
    detached: true,
  });
  after(() => bystander.kill('SIGKILL'));
  const recordDir = join(env.stateDir, 'processes');
  const real = readdirSync(recordDir).map((f) =>
    JSON.parse(readFileSync(join(recordDir, f), 'utf8')),
  );
  assert.equal(real.length, 2, 'a record per running container');
  writeFileSync(
    join(recordDir, `${first.pid}.recycled.json`),
    JSON.stringify({
      ...real[0],
      process: { pid: bystander.pid, startTime: real[0].process.startTime - 1 },
      runtimeId: 'recycled',
    }),
  );

  // Both belts off: the guard dies first, then ecs-local; the tasks live on.
  const guards = childrenOf(first.pid).filter((pid) => cmdline(pid).startsWith('/bin/sh -c'));
  assert.equal(guards.length, 1, 'ecs-local runs one orphan guard');
  process.kill(guards[0]!, 'SIGKILL');
  first.child.kill('SIGKILL');
  await first.exited;
  for (const pid of pids) assert.ok(isLive(pid), `pid ${pid} outlives ecs-local without its guard`);

  const second = await start(env);
  // Reaping finishes before it listens: nothing to wait for.
  assert.deepEqual(
    pids.filter(isLive).map(cmdline),
    [],
    'the leftovers are gone once the next ecs-local listens',
  );
  assert.ok(isLive(bystander.pid!), 'a recycled pid is never killed');
  assert.match(second.output(), /killed task processes left running by an earlier ecs-local/);
  assert.deepEqual(readdirSync(recordDir), [], 'the dead owner’s records are gone');

  // The first address is free again, and a new task serves there.
  const ecs = client(second);
  const td = await registerFargate(ecs, 'server', 'test/serve:1', { port });
  const task = await waitForStatus(ecs, (await runOne(ecs, td)).taskArn!, 'RUNNING', 30_000);
  assert.equal(ipOf(task), `127.${env.octet}.1.1`);
  second.child.kill('SIGTERM');
  assert.equal(await second.exited, 0);
  assert.deepEqual(readdirSync(recordDir), [], 'a clean stop leaves no record');
});
