// Which audit action a resource write through the API is (api/audit.ts), as a pure
// function of the change: what a person would call a launch, a stop, a deletion.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { auditActionFor } from '../../api/audit.ts';
import type { BerthObject } from '../../crds/index.ts';
import type { WriteChange } from '../../store/index.ts';
import { toolDefinition, toolInstance } from '../support/fixtures.ts';

function ti(spec: Record<string, unknown>, deleting = false): BerthObject {
  const o = toolInstance('alice', 'demo', 'demo', spec) as unknown as BerthObject;
  if (deleting) o.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
  return o;
}

function change(type: WriteChange['type'], object: BerthObject, previous: BerthObject | null) {
  return auditActionFor({ type, object, previous });
}

test('ToolInstance writes: launches, stops, deletion; everything else is not an entry', () => {
  const running = ti({ state: 'Running' });
  const stopped = ti({ state: 'Stopped' });
  assert.equal(change('ADDED', running, null), 'instance.launched');
  assert.equal(change('ADDED', stopped, null), undefined, 'created Stopped: nothing runs');
  assert.equal(change('MODIFIED', running, stopped), 'instance.launched');
  assert.equal(change('MODIFIED', stopped, running), 'instance.stopped');
  const asked = ti({ state: 'Running', launchRequestedAt: '2026-01-01T00:00:01Z' });
  assert.equal(change('MODIFIED', asked, running), 'instance.launched', 'a relaunch request');
  assert.equal(change('MODIFIED', ti({ state: 'Running', size: 'small' }), running), undefined);
  const labelled = ti({ state: 'Running' });
  labelled.metadata.labels = { a: 'b' };
  assert.equal(change('MODIFIED', labelled, running), undefined);
  // With a finalizer, a delete first marks the object; the final removal is the controller's.
  assert.equal(change('MODIFIED', ti({ state: 'Running' }, true), running), 'instance.deleted');
  assert.equal(change('DELETED', ti({ state: 'Running' }, true), ti({}, true)), undefined);
  assert.equal(change('DELETED', running, running), 'instance.deleted');
});

test('ToolDefinition writes: created, updated, deleted once', () => {
  const td = toolDefinition('demo') as unknown as BerthObject;
  const marked = structuredClone(td);
  marked.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
  assert.equal(change('ADDED', td, null), 'tooldefinition.created');
  assert.equal(change('MODIFIED', td, td), 'tooldefinition.updated');
  assert.equal(change('MODIFIED', marked, td), 'tooldefinition.deleted');
  assert.equal(change('MODIFIED', marked, marked), undefined, 'a finalizer leaving');
  assert.equal(change('DELETED', td, td), 'tooldefinition.deleted');
});
