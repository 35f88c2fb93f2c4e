// Every row of controllers/README.md's table of ECS errors, against ecs-local:
// what the driver gets and what the reconcilers do about it. Errors ecs-local
// makes by itself are produced for real (a deregistered or unknown task
// definition, a task it does not know, an endpoint that is down); the others are
// set on ecs-local's fault endpoint, which answers them exactly as ECS would.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DeregisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { getCondition, type ToolDefinition, type ToolInstance } from '../../crds/index.ts';
import { admin } from '../support/ecs-local.ts';
import {
  createInstance,
  createTool,
  type Env,
  eventsFor,
  getInstance,
  liveTasks,
  startEnv,
  tinySpec,
  waitFor,
  waitForPhase,
} from './reconcile-support.ts';

let env: Env;

before(async () => {
  env = await startEnv({ addressOctet: 57 });
  await createTool(env.store, 'tiny', tinySpec());
  // A tool that gives up quickly: an instance that cannot launch is Failed by then.
  await createTool(env.store, 'brief', tinySpec({ spawnTimeout: '3s' }));
});

after(async () => {
  await env?.close();
});

async function setFault(
  errors: Record<string, { code: string; message: string; status?: number }>,
) {
  const res = await admin(env.ecsLocal, `/_ecs-local/faults`, {
    method: 'POST',
    body: JSON.stringify({ errors }),
  });
  assert.equal(res.status, 200, await res.text());
}

async function clearFaults() {
  await admin(env.ecsLocal, `/_ecs-local/faults`, { method: 'DELETE' });
}

/** Waits until the instance's Reconciled condition says False with `reason`; returns its message. */
async function waitForReconcileError(ns: string, name: string, reason: string): Promise<string> {
  let last: ToolInstance | undefined;
  await waitFor(
    async () => {
      last = await getInstance(env.store, ns, name);
      const c = getCondition(last.status?.conditions, 'Reconciled');
      return c?.status === 'False' && c.reason === reason;
    },
    30_000,
    `Reconciled=False ${reason} on ${ns}/${name}`,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; status: ${JSON.stringify(last?.status)}`);
  });
  return getCondition(last!.status?.conditions, 'Reconciled')!.message ?? '';
}

async function waitForReady(ns: string, name: string): Promise<ToolInstance> {
  let ti: ToolInstance | undefined;
  await waitFor(
    async () => {
      ti = await getInstance(env.store, ns, name);
      return ti.status?.phase === 'Ready';
    },
    30_000,
    `${ns}/${name} to be Ready`,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; status: ${JSON.stringify(ti?.status)}`);
  });
  return ti!;
}

/** A failing RunTask reaches the object, a Warning Event from the third failure, and heals when ECS does. */
async function transientRow(ns: string, code: string, message: string, status: number) {
  await setFault({ RunTask: { code, message, status } });
  try {
    await createInstance(env.store, ns, 'tiny', 'tiny');
    const said = await waitForReconcileError(ns, 'tiny', code);
    assert.match(said, new RegExp(`ECS answered ${code}`));
    await waitFor(
      async () =>
        (await eventsFor(env.store, ns, 'tiny')).some(
          (e) => e.type === 'Warning' && e.reason === code && e.count >= 1,
        ),
      30_000,
      `a Warning Event ${code} (from the third failure on)`,
    );
  } finally {
    await clearFaults();
  }
  const ti = await waitForReady(ns, 'tiny');
  await waitFor(
    async () => {
      const c = getCondition(
        (await getInstance(env.store, ns, 'tiny')).status?.conditions,
        'Reconciled',
      );
      return c?.status === 'True';
    },
    10_000,
    'Reconciled=True after the recovery',
  );
  assert.equal(ti.status?.phase, 'Ready');
}

test('ServerException (5xx) past the SDK retries: Reconciled=False, an Event, then Ready once ECS answers', async () => {
  await transientRow('e-server', 'ServerException', 'Service Unavailable.', 500);
});

/** A RunTask error that will not go away: the instance is Failed with the error's class by its spawnTimeout. */
async function permanentRow(ns: string, code: string, message: string, seesRetry = true) {
  await setFault({ RunTask: { code, message } });
  try {
    await createInstance(env.store, ns, 'brief', 'brief');
    // (One call the SDK retries for longer than the spawn timeout fails the instance at its first answer.)
    if (seesRetry) await waitForReconcileError(ns, 'brief', code);
    const failed = await waitForPhase(env.store, ns, 'brief', 'Failed', 30_000);
    assert.equal(failed.status?.stopReason, code);
    assert.match(failed.status!.message!, /within the tool's spawn timeout/);
    assert.match(failed.status!.message!, new RegExp(code));
    assert.equal(getCondition(failed.status?.conditions, 'Ready')?.reason, code);
  } finally {
    await clearFaults();
  }
  // Failed stays Failed until a person asks again; then it launches.
  await env.store.patch('ToolInstance', ns, 'brief', {
    spec: { launchRequestedAt: new Date().toISOString() },
  });
  await waitForReady(ns, 'brief');
}

test('AccessDeniedException: Failed with that reason by the spawn timeout, and a launch request after the fix runs it', async () => {
  await permanentRow(
    'e-denied',
    'AccessDeniedException',
    'User: arn:aws:sts::000000000000:assumed-role/berth is not authorized to perform: ecs:RunTask',
  );
});

test('ThrottlingException past the SDK retries, for longer than the spawn timeout: Failed with that reason', async () => {
  await permanentRow('e-throttle', 'ThrottlingException', 'Rate exceeded', false);
});

test('ClusterNotFoundException: Failed with that reason by the spawn timeout', async () => {
  await permanentRow('e-cluster', 'ClusterNotFoundException', 'Cluster not found.');
});

test('InvalidParameterException on RunTask (a subnet that does not exist): Failed with that reason by the spawn timeout', async () => {
  await permanentRow(
    'e-subnet',
    'InvalidParameterException',
    "Error retrieving subnet information for [subnet-0]: The subnet ID 'subnet-0' does not exist (ErrorCode: InvalidSubnetID.NotFound)",
  );
});

test('ClientException "TaskDefinition is inactive" (a revision deregistered behind berth): registered again, Ready', async () => {
  const td = (await env.store.get('ToolDefinition', undefined, 'tiny')) as ToolDefinition;
  await waitFor(
    async () =>
      Boolean(
        ((await env.store.get('ToolDefinition', undefined, 'tiny')) as ToolDefinition).status
          ?.taskDefinitionArn,
      ),
    10_000,
    'the tool’s task definition to be registered',
  );
  const arn = ((await env.store.get('ToolDefinition', undefined, 'tiny')) as ToolDefinition).status!
    .taskDefinitionArn!;
  await env.driver.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: arn }));
  await createInstance(env.store, 'e-inactive', 'tiny', 'tiny');
  const ti = await waitForReady('e-inactive', 'tiny');
  const { tasks } = await env.driver.describeTasks([ti.status!.taskArn!]);
  assert.notEqual(tasks[0]?.taskDefinitionArn, arn);
  assert.ok(td.metadata.uid);
  // The ToolDefinition's status follows: its cached ARN is the new revision.
  await waitFor(
    async () =>
      ((await env.store.get('ToolDefinition', undefined, 'tiny')) as ToolDefinition).status
        ?.taskDefinitionArn === tasks[0]?.taskDefinitionArn,
    10_000,
    'the ToolDefinition to record the new revision',
  );
});

test('ClientException "TaskDefinition not found" (ecs-local restarted and forgot it): registered again, Ready', async () => {
  // As after an ecs-local restart: the status caches an ARN ECS never had.
  const gone = 'arn:aws:ecs:eu-west-2:000000000000:task-definition/berth-local-tiny:9999';
  await env.store.patchStatus('ToolDefinition', undefined, 'tiny', {
    status: { taskDefinitionArn: gone },
  });
  await createInstance(env.store, 'e-notfound', 'tiny', 'tiny');
  const ti = await waitForReady('e-notfound', 'tiny');
  const { tasks } = await env.driver.describeTasks([ti.status!.taskArn!]);
  assert.notEqual(tasks[0]?.taskDefinitionArn, gone);
});

test('InvalidParameterException "The referenced task was not found" on StopTask: stop and delete complete', async () => {
  await createInstance(env.store, 'e-stop', 'tiny', 'tiny');
  await createInstance(env.store, 'e-stop', 'other', 'tiny');
  await waitForReady('e-stop', 'tiny');
  await waitForReady('e-stop', 'other');
  const ghost = 'arn:aws:ecs:eu-west-2:000000000000:task/default/feedfeedfeedfeedfeedfeedfeedfeed';
  // ECS forgot both tasks; one is stopped, the other deleted.
  for (const name of ['tiny', 'other']) {
    await env.store.patchStatus('ToolInstance', 'e-stop', name, { status: { taskArn: ghost } });
  }
  await env.store.patch('ToolInstance', 'e-stop', 'tiny', { spec: { state: 'Stopped' } });
  await env.store.delete('ToolInstance', 'e-stop', 'other');
  const stopped = await waitForPhase(env.store, 'e-stop', 'tiny', 'Stopped', 15_000);
  assert.equal(stopped.status?.stopReason, 'UserRequested');
  await waitFor(
    async () => {
      try {
        await env.store.get('ToolInstance', 'e-stop', 'other');
        return false;
      } catch {
        return true;
      }
    },
    15_000,
    'the deleted instance to go (its finalizer removed)',
  );
});

test('ConflictException (a clientToken reused with other parameters): the token’s task is adopted, and the instance converges', async () => {
  await createInstance(env.store, 'e-conflict', 'tiny', 'tiny');
  const first = await waitForReady('e-conflict', 'tiny');
  // As after a crash between RunTask and the status write of attempt 1, with the
  // tool's definition changed since: the same token now comes with other parameters.
  await env.driver.stopTask(first.status!.taskArn!, 'test: make way');
  await waitFor(
    async () => !(await liveTasks(env.driver)).includes(first.status!.taskArn!),
    10_000,
    'the first task to stop',
  );
  await env.store.patch('ToolDefinition', undefined, 'tiny', {
    spec: { env: [{ name: 'CHANGED', value: '1' }] },
  });
  await env.store.patchStatus('ToolInstance', 'e-conflict', 'tiny', {
    status: { phase: 'Starting', taskArn: null, attempt: 1 },
  });
  await waitFor(
    async () => {
      const t = await getInstance(env.store, 'e-conflict', 'tiny');
      return t.status?.phase === 'Ready' && (t.status.attempt ?? 0) >= 2;
    },
    30_000,
    'a later attempt to be Ready',
  );
  // The token's (stopped) task was taken as attempt 1's, seen stopped, and replaced: one live task.
  const ti = await getInstance(env.store, 'e-conflict', 'tiny');
  const { tasks } = await env.driver.describeTasks(await liveTasks(env.driver));
  const mine = tasks.filter((t) =>
    t.tags?.some((g) => g.key === 'berth:instance-uid' && g.value === ti.metadata.uid),
  );
  assert.deepEqual(
    mine.map((t) => t.taskArn),
    [ti.status?.taskArn],
  );
});

test('a network error (the ECS endpoint is down): Reconciled=False NetworkError, Failed by the spawn timeout', async () => {
  await env.ecsLocal.close(500);
  await createInstance(env.store, 'e-network', 'brief', 'brief');
  const said = await waitForReconcileError('e-network', 'brief', 'NetworkError');
  assert.match(said, /ECONNREFUSED/);
  const failed = await waitForPhase(env.store, 'e-network', 'brief', 'Failed', 30_000);
  assert.equal(failed.status?.stopReason, 'NetworkError');
});
