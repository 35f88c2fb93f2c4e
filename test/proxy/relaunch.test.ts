// A visit never waits for something that will not happen: a tool whose instance
// is Stopped or Failed while its spec says Running (its attempt ended, and the
// controller saw it) gets a new attempt from the visit, in one write
// (spec.launchRequestedAt, one new generation), and only once while that
// request is still unobserved.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ToolInstance } from '../../crds/index.ts';
import { addDefinition, bearer, get, type Harness, startHarness } from './support.ts';

let h: Harness;

before(async () => {
  h = await startHarness();
  await addDefinition(h, 'demo');
});

after(async () => {
  await h.close();
});

async function instance(ns: string, name: string): Promise<ToolInstance> {
  return (await h.store.get('ToolInstance', ns, name)) as unknown as ToolInstance;
}

/** An instance whose spec says Running and whose status says the attempt ended, as the controller writes it. */
async function ended(ns: string, phase: 'Stopped' | 'Failed', reason: string) {
  await h.store.create('ToolInstance', {
    apiVersion: 'berth/v1alpha1',
    kind: 'ToolInstance',
    metadata: { name: 'demo', namespace: ns },
    spec: { toolRef: 'demo', state: 'Running' },
  });
  const ti = await instance(ns, 'demo');
  await h.store.patchStatus('ToolInstance', ns, 'demo', {
    status: {
      phase,
      stopReason: reason,
      message: `ended: ${reason}`,
      observedGeneration: ti.metadata.generation,
      conditions: [{ type: 'Ready', status: 'False', reason }],
    },
  });
  return ti.metadata.generation!;
}

for (const [ns, phase, reason] of [
  ['alice', 'Stopped', 'ToolExited'],
  ['bob', 'Failed', 'SpawnTimeout'],
] as const) {
  test(`a visit to an instance ${phase} (${reason}) with spec Running asks for a new attempt, in one write`, async () => {
    const gen = await ended(ns, phase, reason);
    const page = await get(h.proxy, `demo--${ns}.localhost`, '/', {
      ...bearer(h.tokens[ns]!),
      accept: 'text/html',
    });
    assert.equal(page.status, 202);
    const after1 = await instance(ns, 'demo');
    assert.equal(after1.metadata.generation, gen + 1, 'one write: one new generation');
    assert.equal(after1.spec.state, 'Running');
    assert.ok(after1.spec.launchRequestedAt, 'spec.launchRequestedAt set');
    // A second visit before the controller looked asks nothing more.
    await get(h.proxy, `demo--${ns}.localhost`, '/', bearer(h.tokens[ns]!));
    assert.equal((await instance(ns, 'demo')).metadata.generation, gen + 1);
  });
}
