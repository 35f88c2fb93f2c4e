// The task definition of a tool with a home folder and sidecars that s3sync
// needs: the home volume and its mounts, HOME/BERTH_HOME, health checks, the
// tool's dependencies, restart policy, stop timeouts; and the content hash
// moving exactly when these change.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { taskDefinitionHash } from '../../../controllers/index.ts';
import { buildTaskDefinition } from '../../../controllers/reconcilers/index.ts';
import {
  type ToolDefinition,
  type ToolDefinitionSpecInput,
  toolDefinitionSchema,
} from '../../../crds/index.ts';

const options = {
  installationId: 'local',
  toolStopTimeoutSeconds: 30,
  gateImage: 'berth/gate:latest',
  gatePort: 8000,
};

function tool(spec: Partial<ToolDefinitionSpecInput> = {}): ToolDefinition {
  return toolDefinitionSchema.parse({
    apiVersion: 'berth/v1alpha1',
    kind: 'ToolDefinition',
    metadata: { name: 'demo' },
    spec: {
      displayName: 'Demo',
      image: 'berth/demo:latest',
      port: 8888,
      sizes: { small: { cpu: 256, memory: 512 } },
      defaultSize: 'small',
      ...spec,
    },
  });
}

const s3sync = {
  name: 's3sync',
  image: 'berth/s3sync:latest',
  healthCheck: {
    command: ['CMD', 's3sync', 'healthcheck'],
    intervalSeconds: 5,
    timeoutSeconds: 3,
    retries: 4,
    startPeriodSeconds: 60,
  },
  toolWaitsFor: 'Healthy' as const,
  restartOnExit: true,
  stopTimeoutSeconds: 60,
  env: [{ name: 'S3SYNC_POLL_INTERVAL_MS', value: '2000' }],
};

function container(def: ReturnType<typeof buildTaskDefinition>, name: string) {
  const c = def.containerDefinitions?.find((x) => x.name === name);
  assert.ok(c, `container ${name}`);
  return c;
}

function env(c: { environment?: { name?: string; value?: string }[] }): Record<string, string> {
  return Object.fromEntries((c.environment ?? []).map((e) => [e.name!, e.value!]));
}

test('homePath: a home volume mounted in the tool and every sidecar; HOME and BERTH_HOME', () => {
  const def = buildTaskDefinition(
    tool({ homePath: '/home/berth', sidecars: [s3sync, { name: 'metrics', image: 'berth/m:1' }] }),
    options,
  );
  assert.deepEqual(def.volumes, [{ name: 'home' }]);
  const mount = [{ sourceVolume: 'home', containerPath: '/home/berth', readOnly: false }];
  assert.deepEqual(container(def, 'tool').mountPoints, mount);
  assert.deepEqual(container(def, 's3sync').mountPoints, mount);
  assert.deepEqual(container(def, 'metrics').mountPoints, mount);
  assert.equal(
    container(def, 'berth-gate').mountPoints,
    undefined,
    'the gate has no business there',
  );
  assert.equal(env(container(def, 'tool')).HOME, '/home/berth');
  assert.equal(env(container(def, 'tool')).BERTH_HOME, undefined);
  assert.equal(env(container(def, 's3sync')).BERTH_HOME, '/home/berth');
  assert.equal(env(container(def, 's3sync')).HOME, undefined);
  assert.equal(env(container(def, 's3sync')).S3SYNC_POLL_INTERVAL_MS, '2000');
});

test('no homePath: no volume, no mounts, no HOME', () => {
  const def = buildTaskDefinition(
    tool({ sidecars: [{ name: 'metrics', image: 'berth/m:1' }] }),
    options,
  );
  assert.equal(def.volumes, undefined);
  assert.equal(container(def, 'tool').mountPoints, undefined);
  assert.equal(container(def, 'metrics').mountPoints, undefined);
  assert.equal(env(container(def, 'tool')).HOME, undefined);
});

test('a HOME the spec sets itself is kept', () => {
  const def = buildTaskDefinition(
    tool({ homePath: '/home/berth', env: [{ name: 'HOME', value: '/home/berth/work' }] }),
    options,
  );
  assert.equal(env(container(def, 'tool')).HOME, '/home/berth/work');
});

test("a sidecar's healthCheck, restartOnExit and stopTimeoutSeconds; the tool's dependsOn", () => {
  const def = buildTaskDefinition(
    tool({
      homePath: '/home/berth',
      sidecars: [
        s3sync,
        { name: 'starter', image: 'berth/starter:1', toolWaitsFor: 'Start' },
        { name: 'plain', image: 'berth/plain:1' },
      ],
    }),
    options,
  );
  const side = container(def, 's3sync');
  assert.deepEqual(side.healthCheck, {
    command: ['CMD', 's3sync', 'healthcheck'],
    interval: 5,
    timeout: 3,
    retries: 4,
    startPeriod: 60,
  });
  assert.deepEqual(side.restartPolicy, { enabled: true });
  assert.equal(side.stopTimeout, 60);
  assert.deepEqual(container(def, 'tool').dependsOn, [
    { containerName: 's3sync', condition: 'HEALTHY' },
    { containerName: 'starter', condition: 'START' },
  ]);
  const plain = container(def, 'plain');
  assert.equal(plain.healthCheck, undefined);
  assert.equal(plain.restartPolicy, undefined);
  assert.equal(plain.stopTimeout, undefined);
  // The gate stays as it is: no dependency, its own port, essential.
  const gate = container(def, 'berth-gate');
  assert.equal(gate.dependsOn, undefined);
  assert.equal(gate.essential, true);
  assert.deepEqual(gate.portMappings, [{ containerPort: 8000, protocol: 'tcp' }]);
});

test('health check defaults reach ECS as the crds fill them', () => {
  const def = buildTaskDefinition(
    tool({
      sidecars: [{ name: 'x', image: 'x:1', healthCheck: { command: ['CMD-SHELL', 'true'] } }],
    }),
    options,
  );
  assert.deepEqual(container(def, 'x').healthCheck, {
    command: ['CMD-SHELL', 'true'],
    interval: 10,
    timeout: 5,
    retries: 3,
    startPeriod: 0,
  });
  assert.equal(container(def, 'tool').dependsOn, undefined);
});

test('the content hash changes exactly when these fields change', () => {
  const hash = (spec: Partial<ToolDefinitionSpecInput>) =>
    taskDefinitionHash(buildTaskDefinition(tool(spec), options));
  const base = { homePath: '/home/berth', sidecars: [s3sync] };
  const h = hash(base);
  assert.equal(
    hash({ homePath: '/home/berth', sidecars: [{ ...s3sync }] }),
    h,
    'same spec, same hash',
  );
  const changes: Partial<ToolDefinitionSpecInput>[] = [
    { sidecars: [s3sync] },
    { homePath: '/home/jovyan', sidecars: [s3sync] },
    { ...base, sidecars: [{ ...s3sync, toolWaitsFor: 'Start' }] },
    { ...base, sidecars: [{ ...s3sync, toolWaitsFor: undefined }] },
    { ...base, sidecars: [{ ...s3sync, restartOnExit: false }] },
    { ...base, sidecars: [{ ...s3sync, stopTimeoutSeconds: 30 }] },
    { ...base, sidecars: [{ ...s3sync, healthCheck: { ...s3sync.healthCheck, retries: 5 } }] },
    {
      ...base,
      sidecars: [{ ...s3sync, healthCheck: { ...s3sync.healthCheck, intervalSeconds: 6 } }],
    },
    {
      ...base,
      sidecars: [{ ...s3sync, healthCheck: { ...s3sync.healthCheck, command: ['CMD', 'true'] } }],
    },
  ];
  const seen = new Set([h]);
  for (const c of changes) {
    const next = hash(c);
    assert.ok(!seen.has(next), `a change gives a new hash: ${JSON.stringify(c)}`);
    seen.add(next);
  }
});
