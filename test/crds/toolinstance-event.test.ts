import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { eventSchema, invalidFromZod, toolInstanceSchema } from '../../crds/index.ts';

function problems(
  schema: typeof toolInstanceSchema | typeof eventSchema,
  input: unknown,
): string[] {
  const r = schema.safeParse(input);
  if (r.success) return [];
  return invalidFromZod('X', undefined, r.error).details!.causes!.map(
    (c) => `${c.field}: ${c.message}`,
  );
}

const instance = {
  apiVersion: 'berth/v1alpha1',
  kind: 'ToolInstance',
  metadata: { name: 'jupyterlab', namespace: 'analyst1' },
  spec: { toolRef: 'jupyterlab' },
};

describe('ToolInstance', () => {
  test('state defaults to Running and size stays unset for the reconciler to resolve', () => {
    const ti = toolInstanceSchema.parse(instance);
    assert.equal(ti.spec.state, 'Running');
    assert.equal(ti.spec.size, undefined);
    assert.equal(ti.status, undefined);
  });

  test('a full status parses, with conditions defaulting to empty', () => {
    const ti = toolInstanceSchema.parse({
      ...instance,
      spec: { toolRef: 'jupyterlab', size: 'large', state: 'Stopped' },
      status: {
        phase: 'Ready',
        taskArn: 'arn:aws:ecs:eu-west-2:123456789012:task/berth/0123456789abcdef',
        endpoint: 'http://10.0.3.7:8888',
        startedAt: '2025-06-01T10:00:00Z',
        readyAt: '2025-06-01T10:01:00.123Z',
        lastActivityAt: '2025-06-01T11:00:00+01:00',
        stopReason: 'Idle',
        message: 'stopped after 1h idle',
        observedGeneration: 3,
        attempt: 1,
      },
    });
    assert.equal(ti.status?.phase, 'Ready');
    assert.deepEqual(ti.status?.conditions, []);
    assert.deepEqual(toolInstanceSchema.parse({ ...instance, status: {} }).status, {
      conditions: [],
    });
  });

  test('bad values are refused with their paths', () => {
    assert.match(problems(toolInstanceSchema, { ...instance, spec: {} })[0]!, /^spec\.toolRef: /);
    assert.match(
      problems(toolInstanceSchema, {
        ...instance,
        spec: { toolRef: 'jupyterlab', state: 'Paused' },
      })[0]!,
      /^spec\.state: /,
    );
    assert.deepEqual(
      problems(toolInstanceSchema, { ...instance, spec: { toolRef: 'j', replicas: 2 } }),
      ['spec.replicas: unknown field'],
    );
    assert.match(
      problems(toolInstanceSchema, { ...instance, status: { phase: 'Running' } })[0]!,
      /^status\.phase: /,
    );
    assert.match(
      problems(toolInstanceSchema, { ...instance, status: { endpoint: 'ftp://10.0.0.1' } })[0]!,
      /^status\.endpoint: must be an http\(s\) URL/,
    );
    assert.match(
      problems(toolInstanceSchema, { ...instance, status: { startedAt: 'yesterday' } })[0]!,
      /^status\.startedAt: /,
    );
  });
});

const event = {
  apiVersion: 'berth/v1alpha1',
  kind: 'Event',
  metadata: { name: 'jupyterlab.18a3f', namespace: 'analyst1' },
  involvedObject: {
    apiVersion: 'berth/v1alpha1',
    kind: 'ToolInstance',
    name: 'jupyterlab',
    namespace: 'analyst1',
  },
  reason: 'TaskLaunched',
  message: 'RunTask started task 0123',
};

describe('Event', () => {
  test('top-level Kubernetes shape with defaults', () => {
    const ev = eventSchema.parse(event);
    assert.equal(ev.type, 'Normal');
    assert.equal(ev.count, 1);
    assert.equal(ev.involvedObject.kind, 'ToolInstance');
  });

  test('reason must be CamelCase, message at most 4 KiB, no spec', () => {
    assert.match(
      problems(eventSchema, { ...event, reason: 'task launched' })[0]!,
      /^reason: must be CamelCase/,
    );
    assert.match(problems(eventSchema, { ...event, message: 'x'.repeat(4097) })[0]!, /^message: /);
    assert.deepEqual(problems(eventSchema, { ...event, message: 'x'.repeat(4096) }), []);
    assert.deepEqual(problems(eventSchema, { ...event, spec: {} }), ['spec: unknown field']);
    assert.match(problems(eventSchema, { ...event, type: 'Error' })[0]!, /^type: /);
    assert.match(problems(eventSchema, { ...event, count: 0 })[0]!, /^count: /);
  });
});
