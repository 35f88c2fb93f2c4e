// The Quota kind and the launch rules as pure functions: which Quotas apply, the
// most generous limit per dimension, sizes by cpu and memory, which writes ask
// for a launch and which instances count as running.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  asksForLaunch,
  holdsTask,
  type Quota,
  quotaRefusal,
  quotaSchema,
  type ToolInstance,
  toolInstanceSchema,
  wantsToRun,
} from '../../crds/index.ts';

function quota(name: string, spec: Record<string, unknown>): Quota {
  return quotaSchema.parse({
    apiVersion: 'berth/v1alpha1',
    kind: 'Quota',
    metadata: { name },
    spec,
  });
}

function instance(spec: Record<string, unknown>, status?: Record<string, unknown>, generation = 1) {
  return toolInstanceSchema.parse({
    apiVersion: 'berth/v1alpha1',
    kind: 'ToolInstance',
    metadata: { name: 'lab', namespace: 'alice', generation },
    spec: { toolRef: 'lab', ...spec },
    ...(status ? { status } : {}),
  }) as ToolInstance;
}

const everyone2 = quota('default', { appliesTo: { everyone: true }, maxRunningInstances: 2 });
const analysts5 = quota('analysts', {
  appliesTo: { groups: ['analysts'] },
  maxRunningInstances: 5,
});
const small = quota('small', {
  appliesTo: { everyone: true },
  largestSize: { cpu: 1024, memory: 2048 },
});
const wide = quota('wide', {
  appliesTo: { users: ['alice'] },
  largestSize: { cpu: 512, memory: 4096 },
});

test('a Quota must name someone and set a limit', () => {
  const bad = quotaSchema.safeParse({
    apiVersion: 'berth/v1alpha1',
    kind: 'Quota',
    metadata: { name: 'x' },
    spec: { appliesTo: {} },
  });
  assert.equal(bad.success, false);
  const messages = bad.error!.issues.map((i) => i.message).join('; ');
  assert.match(messages, /must name someone/);
  assert.match(messages, /must set maxRunningInstances, largestSize or both/);
});

test('the most generous applicable count wins; others do not apply', () => {
  const bob = { name: 'bob', groups: [] };
  const carol = { name: 'carol', groups: ['analysts'] };
  const running = ['a', 'b'];
  assert.match(
    quotaRefusal([everyone2, analysts5], bob, { instance: 'c', running })?.message ?? '',
    /^quota "default": at most 2 running instances per user \(you have 2: a, b\)$/,
  );
  assert.equal(quotaRefusal([everyone2, analysts5], carol, { instance: 'c', running }), undefined);
  // The instance launched is not counted against itself (a relaunch, a size change).
  assert.equal(quotaRefusal([everyone2], bob, { instance: 'a', running }), undefined);
  // No Quota, or none that applies or sets a count: no limit.
  assert.equal(quotaRefusal([], bob, { instance: 'z', running: ['a', 'b', 'c'] }), undefined);
  assert.equal(
    quotaRefusal([analysts5, small], bob, { instance: 'z', running: ['a', 'b', 'c'] }),
    undefined,
  );
  // Zero means none at all.
  const none = quota('none', { appliesTo: { users: ['bob'] }, maxRunningInstances: 0 });
  assert.equal(
    quotaRefusal([none], bob, { instance: 'a', running: [] })?.message,
    'quota "none": at most 0 running instances per user (you have 0)',
  );
});

test('a size fits when some applicable Quota holds both its cpu and its memory', () => {
  const alice = { name: 'alice', groups: [] };
  const size = (cpu: number, memory: number) => ({ tool: 'lab', name: 's', cpu, memory });
  const ask = (cpu: number, memory: number) =>
    quotaRefusal([small, wide], alice, { instance: 'lab', running: [], size: size(cpu, memory) });
  assert.equal(ask(1024, 2048), undefined, 'fits small');
  assert.equal(ask(512, 4096), undefined, 'fits wide');
  // Neither holds both: 1024 cpu is over wide's, 4096 MiB over small's.
  assert.equal(
    ask(1024, 4096)?.message,
    'quota "small": sizes up to 1 vCPU and 2 GiB memory per instance (size "s" of tool "lab" is 1 vCPU and 4 GiB memory)',
  );
  assert.equal(
    quotaRefusal(
      [small],
      { name: 'bob', groups: [] },
      {
        instance: 'lab',
        running: [],
        size: size(256, 512),
      },
    ),
    undefined,
  );
});

test('which writes ask for a launch', () => {
  const running = instance({ state: 'Running', size: 'small' });
  assert.equal(asksForLaunch(null, running), true, 'a create that runs');
  assert.equal(
    asksForLaunch(null, instance({ state: 'Stopped' })),
    false,
    'a create that does not',
  );
  assert.equal(asksForLaunch(instance({ state: 'Stopped' }), running), true, 'Stopped to Running');
  assert.equal(asksForLaunch(running, instance({ state: 'Stopped' })), false, 'a stop');
  assert.equal(asksForLaunch(running, running), false, 'labels, annotations: nothing asked');
  const again = instance({
    state: 'Running',
    size: 'small',
    launchRequestedAt: new Date().toISOString(),
  });
  assert.equal(asksForLaunch(running, again), true, 'asked again');
  assert.equal(
    asksForLaunch(running, instance({ state: 'Running', size: 'large' })),
    true,
    'a size change',
  );
});

test('which instances count as running', () => {
  const ended = instance({ state: 'Running' }, { phase: 'Failed', observedGeneration: 1 }, 1);
  assert.equal(wantsToRun(ended), false, 'failed and seen: ended');
  const askedAgain = instance({ state: 'Running' }, { phase: 'Failed', observedGeneration: 1 }, 2);
  assert.equal(wantsToRun(askedAgain), true, 'asked again since it failed');
  const lost = instance(
    { state: 'Running' },
    { phase: 'Stopped', stopReason: 'TaskMissing', observedGeneration: 1 },
  );
  assert.equal(wantsToRun(lost), true, 'a lost task comes back by itself');
  assert.equal(wantsToRun(instance({ state: 'Running' })), true, 'pending');
  assert.equal(wantsToRun(instance({ state: 'Stopped' }, { phase: 'Ready' })), false, 'stopping');
  assert.equal(holdsTask(instance({ state: 'Running' })), false, 'pending holds no task');
  assert.equal(holdsTask(instance({ state: 'Running' }, { phase: 'Starting' })), true);
  assert.equal(holdsTask(instance({ state: 'Running' }, { phase: 'Ready' })), true);
  assert.equal(holdsTask(instance({ state: 'Stopped' }, { phase: 'Ready' })), false);
});
