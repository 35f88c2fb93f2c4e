// The reconcilers run by the real manager against ecs-local: a ToolDefinition
// becomes an ECS task definition; a ToolInstance goes Pending -> Starting ->
// Ready and its endpoint serves the demo page; stop, delete (finalizer) and a
// relaunch as a new attempt.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parse } from 'yaml';
import { FINALIZER } from '../../controllers/reconcilers/index.ts';
import type { ToolDefinition, ToolInstance } from '../../crds/index.ts';
import { deriveToolSecret, TOOL_SECRET_HEADER } from '../../store/index.ts';
import {
  createInstance,
  createTool,
  type Env,
  eventsFor,
  examples,
  getInstance,
  liveTasks,
  startEnv,
  waitFor,
  waitForPhase,
} from './reconcile-support.ts';

let env: Env;

before(async () => {
  env = await startEnv({ addressOctet: 21 });
  const demo = parse(readFileSync(join(examples, 'demo.yaml'), 'utf8'));
  await createTool(env.store, 'demo', { ...demo.spec, spawnTimeout: '30s' });
});

after(async () => {
  await env?.close();
});

test('a ToolDefinition gets its task definition registered, with a Registered condition', async () => {
  let td: ToolDefinition | undefined;
  await waitFor(
    async () => {
      td = (await env.store.get('ToolDefinition', undefined, 'demo')) as ToolDefinition;
      return td.status?.taskDefinitionArn !== undefined;
    },
    10_000,
    'the demo task definition ARN in status',
  );
  assert.match(td!.status!.taskDefinitionArn!, /task-definition\/berth-local-demo:1$/);
  const registered = td!.status!.conditions.find((c) => c.type === 'Registered');
  assert.equal(registered?.status, 'True');
  assert.equal(registered?.observedGeneration, td!.metadata.generation);
  assert.equal(td!.status!.observedGeneration, td!.metadata.generation);
  const events = await env.store.list('Event', { namespace: 'default' });
  assert.ok(
    events.items.some((e) => (e as { reason?: string }).reason === 'TaskDefinitionRegistered'),
  );

  // A spec change registers revision 2; an unchanged spec registers nothing.
  await env.store.patch('ToolDefinition', undefined, 'demo', { spec: { description: 'changed' } });
  await waitFor(
    async () => {
      td = (await env.store.get('ToolDefinition', undefined, 'demo')) as ToolDefinition;
      return td.status?.observedGeneration === td.metadata.generation;
    },
    10_000,
    'the new generation observed',
  );
  // The description is not part of the task definition: still revision 1.
  assert.match(td!.status!.taskDefinitionArn!, /berth-local-demo:1$/);
  await env.store.patch('ToolDefinition', undefined, 'demo', {
    spec: { env: [{ name: 'DEMO_GREETING', value: 'Hello again' }] },
  });
  await waitFor(
    async () => {
      td = (await env.store.get('ToolDefinition', undefined, 'demo')) as ToolDefinition;
      return /berth-local-demo:2$/.test(td.status?.taskDefinitionArn ?? '');
    },
    10_000,
    'revision 2 after an env change',
  );
});

test('a ToolInstance goes Pending -> Starting -> Ready and its endpoint serves the demo page', async () => {
  const phases: string[] = [];
  const watch = await env.store.watch('ToolInstance', { namespace: 'analyst1' });
  const seen = (async () => {
    for await (const ev of watch) {
      const phase = (ev.object as ToolInstance).status?.phase;
      if (phase && phases.at(-1) !== phase) phases.push(phase);
      if (phase === 'Ready') return;
    }
  })();
  await createInstance(env.store, 'analyst1', 'demo', 'demo');
  const ti = await waitForPhase(env.store, 'analyst1', 'demo', 'Ready', 20_000);
  await seen;
  watch.close();
  assert.deepEqual(phases, ['Pending', 'Starting', 'Ready']);

  assert.ok(ti.metadata.finalizers?.includes(FINALIZER));
  assert.equal(ti.status?.attempt, 1);
  assert.ok(ti.status?.taskArn);
  assert.ok(ti.status?.startedAt && ti.status.readyAt);
  assert.equal(ti.status?.observedGeneration, ti.metadata.generation);
  const ready = ti.status?.conditions.find((c) => c.type === 'Ready');
  assert.equal(ready?.status, 'True');
  assert.equal(ready?.observedGeneration, ti.metadata.generation);
  // The endpoint is the gate's port, which admits only the launch's secret.
  assert.match(ti.status!.endpoint!, /^http:\/\/127\.21\.\d+\.\d+:8000$/);
  assert.equal((await fetch(`${ti.status!.endpoint}/`)).status, 403);
  const secret = deriveToolSecret(env.tools.config.toolSecretKey, ti.metadata.uid!, 1);
  const page = await fetch(`${ti.status!.endpoint}/`, {
    headers: { [TOOL_SECRET_HEADER]: secret },
  });
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /Hello, <span id="who">analyst1<\/span>/);
  assert.match(html, /BERTH_TOOL<\/th><td>demo/);

  await waitFor(
    async () => {
      const events = await eventsFor(env.store, 'analyst1', 'demo');
      return (
        events.some((e) => e.reason === 'TaskLaunched') &&
        events.some((e) => e.reason === 'TaskReady' && /^ready in \d+\.\d+s$/.test(e.message))
      );
    },
    5_000,
    'TaskLaunched and TaskReady Events',
  );

  // The task carries berth's startedBy and tags, and the tool was told its public URL.
  const { tasks } = await env.driver.describeTasks([ti.status!.taskArn!]);
  const task = tasks[0]!;
  assert.equal(task.startedBy, 'berth-local');
  const tags = Object.fromEntries((task.tags ?? []).map((t) => [t.key, t.value]));
  assert.equal(tags['berth:instance-uid'], ti.metadata.uid);
  assert.equal(tags['berth:namespace'], 'analyst1');
  assert.equal(tags['berth:tool'], 'demo');
  assert.equal(tags['berth:installation'], 'local');
  assert.equal(task.overrides?.cpu, '256');
  const envVars =
    task.overrides?.containerOverrides?.find((c) => c.name === 'tool')?.environment ?? [];
  assert.deepEqual(
    envVars.find((e) => e.name === 'BERTH_PUBLIC_URL'),
    { name: 'BERTH_PUBLIC_URL', value: 'http://demo--analyst1.localhost:8000/' },
  );
});

test('spec.state Stopped stops the task; Running again starts attempt 2; delete waits for the task, then releases the finalizer', async () => {
  await createInstance(env.store, 'analyst2', 'demo', 'demo');
  const first = await waitForPhase(env.store, 'analyst2', 'demo', 'Ready', 20_000);
  const firstTask = first.status!.taskArn!;

  await env.store.patch('ToolInstance', 'analyst2', 'demo', { spec: { state: 'Stopped' } });
  const stopped = await waitForPhase(env.store, 'analyst2', 'demo', 'Stopped', 15_000);
  assert.equal(stopped.status?.stopReason, 'UserRequested');
  assert.equal(stopped.status?.endpoint, undefined);
  const { tasks } = await env.driver.describeTasks([firstTask]);
  assert.equal(tasks[0]?.lastStatus, 'STOPPED');
  await waitFor(
    async () => {
      const events = await eventsFor(env.store, 'analyst2', 'demo');
      return (
        events.some((e) => e.reason === 'TaskStopping') &&
        events.some((e) => e.reason === 'TaskStopped')
      );
    },
    5_000,
    'TaskStopping and TaskStopped Events',
  );

  await env.store.patch('ToolInstance', 'analyst2', 'demo', { spec: { state: 'Running' } });
  const again = await waitForPhase(env.store, 'analyst2', 'demo', 'Ready', 20_000);
  assert.equal(again.status?.attempt, 2);
  assert.notEqual(again.status?.taskArn, firstTask);
  const secondTask = again.status!.taskArn!;

  await env.store.delete('ToolInstance', 'analyst2', 'demo');
  // The finalizer holds the object while the task stops.
  const deleting = await getInstance(env.store, 'analyst2', 'demo');
  assert.ok(deleting.metadata.deletionTimestamp);
  await waitFor(
    async () => {
      try {
        await getInstance(env.store, 'analyst2', 'demo');
        return false;
      } catch {
        return true;
      }
    },
    15_000,
    'the deleted instance to go',
  );
  const after = await env.driver.describeTasks([secondTask]);
  assert.equal(after.tasks[0]?.lastStatus, 'STOPPED');
  assert.ok(!(await liveTasks(env.driver)).includes(secondTask));
});

test('an instance of a missing tool waits in Pending, and launches when the tool appears', async () => {
  await createInstance(env.store, 'analyst3', 'later', 'later');
  await waitFor(
    async () => {
      const ti = await getInstance(env.store, 'analyst3', 'later');
      return ti.status?.conditions.some((c) => c.reason === 'ToolDefinitionNotFound') ?? false;
    },
    10_000,
    'ToolDefinitionNotFound',
  );
  const demo = parse(readFileSync(join(examples, 'demo.yaml'), 'utf8'));
  await createTool(env.store, 'later', demo.spec);
  // Re-enqueue (the not-found reconcile retries after 30 s; a spec touch is quicker).
  await env.store.patch('ToolInstance', 'analyst3', 'later', { spec: { size: 'small' } });
  const ti = await waitForPhase(env.store, 'analyst3', 'later', 'Ready', 20_000);
  assert.equal(ti.status?.attempt, 1);
});
