// A relaunch starts fresh for the culler: the idle time and the stop warning of
// the task before (say, one lost while berth was down) do not carry over to the
// new task, so it is neither warned nor stopped for an idleness it never had.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ToolInstance } from '../../crds/index.ts';
import {
  createInstance,
  createTool,
  type Env,
  startEnv,
  tinySpec,
  waitForPhase,
  waitForReadyAttempt,
} from './reconcile-support.ts';

let env: Env;

before(async () => {
  env = await startEnv({ addressOctet: 87 });
  await createTool(env.store, 'tiny', tinySpec());
});

after(async () => {
  await env?.close();
});

test('a new attempt clears the idleSince and stopWarning the last task left', async () => {
  await createInstance(env.store, 'relaunch1', 'tiny', 'tiny');
  await waitForPhase(env.store, 'relaunch1', 'tiny', 'Ready', 20_000);
  // What the culler writes on an idle task shortly before it would stop it.
  const soon = new Date(Date.now() + 30_000).toISOString();
  await env.store.patchStatus('ToolInstance', 'relaunch1', 'tiny', {
    status: {
      idleSince: new Date(Date.now() - 60_000).toISOString(),
      stopWarning: {
        reason: 'Idle',
        stopAt: soon,
        warnedAt: new Date().toISOString(),
        message: 'x',
      },
    },
  });
  await env.store.patch('ToolInstance', 'relaunch1', 'tiny', { spec: { state: 'Stopped' } });
  await waitForPhase(env.store, 'relaunch1', 'tiny', 'Stopped', 20_000);
  await env.store.patch('ToolInstance', 'relaunch1', 'tiny', { spec: { state: 'Running' } });
  const ready = (await waitForReadyAttempt(env.store, 'relaunch1', 'tiny', 2)) as ToolInstance;
  assert.equal(ready.status?.idleSince, undefined, 'not idle since before the relaunch');
  assert.equal(ready.status?.stopWarning, undefined, 'no stop warning of the old task');
});
