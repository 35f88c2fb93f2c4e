import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { API_VERSION, type ApiError, type BerthObject, isApiError } from '../../crds/index.ts';
import { LAST_APPLIED_ANNOTATION, type ResourceStore } from '../../store/index.ts';
import { freshDatabase, type TestDatabase } from '../support/db.ts';
import { testStore, widget } from './test-kinds.ts';

let db: TestDatabase;
let store: ResourceStore;
before(async () => {
  db = await freshDatabase();
  store = testStore(db);
});
after(async () => {
  await store.close();
  await db.drop();
});

async function exists(kind: string, ns: string | undefined, name: string): Promise<boolean> {
  try {
    await store.get(kind, ns, name);
    return true;
  } catch (err) {
    if (isApiError(err, 'NotFound')) return false;
    throw err;
  }
}

async function logTypes(name: string): Promise<string[]> {
  const { rows } = await db.pool.query<{ type: string }>(
    'select type from resource_log where name = $1 order by rv',
    [name],
  );
  return rows.map((r) => r.type);
}

function ownedBy(owner: BerthObject) {
  return [
    {
      apiVersion: API_VERSION,
      kind: owner.kind,
      name: owner.metadata.name,
      uid: owner.metadata.uid!,
    },
  ];
}

describe('finalizers and deletionTimestamp', () => {
  test('delete marks, repeated delete is a no-op, removing the last finalizer removes the object', async () => {
    const a = await store.create('Widget', {
      ...widget('fin'),
      metadata: { name: 'fin', namespace: 'ns1', finalizers: ['berth/a', 'berth/b'] },
    });
    const marked = await store.delete('Widget', 'ns1', 'fin');
    assert.ok(marked.metadata.deletionTimestamp);
    assert.ok(Number(marked.metadata.resourceVersion) > Number(a.metadata.resourceVersion));
    assert.equal(marked.metadata.generation, a.metadata.generation);
    const again = await store.delete('Widget', 'ns1', 'fin');
    assert.deepEqual(again, marked, 'repeated delete changes nothing');

    // No new finalizers while being deleted; deletionTimestamp cannot be cleared by a client.
    await assert.rejects(
      store.patch('Widget', 'ns1', 'fin', {
        metadata: { finalizers: ['berth/a', 'berth/b', 'berth/c'] },
      }),
      (err: ApiError) =>
        err.code === 422 && err.details?.causes?.[0]?.field === 'metadata.finalizers',
    );
    const cleared = await store.patch('Widget', 'ns1', 'fin', {
      metadata: { deletionTimestamp: null },
    });
    assert.equal(cleared.metadata.deletionTimestamp, marked.metadata.deletionTimestamp);

    const one = await store.patch('Widget', 'ns1', 'fin', {
      metadata: { finalizers: ['berth/b'] },
    });
    assert.deepEqual(one.metadata.finalizers, ['berth/b']);
    assert.ok(await exists('Widget', 'ns1', 'fin'));
    const gone = await store.patch('Widget', 'ns1', 'fin', { metadata: { finalizers: [] } });
    assert.ok(Number(gone.metadata.resourceVersion) > Number(one.metadata.resourceVersion));
    assert.equal(await exists('Widget', 'ns1', 'fin'), false);
    assert.deepEqual(await logTypes('fin'), ['ADDED', 'MODIFIED', 'MODIFIED', 'DELETED']);
  });

  test('delete without finalizers removes at once with a DELETED log row at a new resourceVersion', async () => {
    const a = await store.create('Widget', widget('plain'));
    const d = await store.delete('Widget', 'ns1', 'plain');
    assert.equal(Number(d.metadata.resourceVersion), Number(a.metadata.resourceVersion) + 1);
    assert.equal(await exists('Widget', 'ns1', 'plain'), false);
    await assert.rejects(store.delete('Widget', 'ns1', 'plain'), (err: ApiError) =>
      isApiError(err, 'NotFound'),
    );
  });
});

describe('owner references', () => {
  test('background cascade owner -> dependent -> dependent of dependent; a finalizer holds one back', async () => {
    const owner = await store.create('Gadget', {
      metadata: { name: 'owner' },
      spec: { model: 'x' },
    });
    const dep = await store.create('Widget', {
      ...widget('dep'),
      metadata: { name: 'dep', namespace: 'ns1', ownerReferences: ownedBy(owner) },
    });
    const grand = await store.create('Widget', {
      ...widget('grand'),
      metadata: { name: 'grand', namespace: 'ns1', ownerReferences: ownedBy(dep) },
    });
    const held = await store.create('Widget', {
      ...widget('held'),
      metadata: {
        name: 'held',
        namespace: 'ns1',
        ownerReferences: ownedBy(owner),
        finalizers: ['berth/hold'],
      },
    });
    const shared = await store.create('Widget', {
      ...widget('shared'),
      metadata: {
        name: 'shared',
        namespace: 'ns1',
        ownerReferences: [...ownedBy(owner), ...ownedBy(held)],
      },
    });
    const unrelated = await store.create('Widget', widget('unrelated'));

    await store.delete('Gadget', undefined, 'owner');
    assert.equal(await exists('Gadget', undefined, 'owner'), false);
    assert.equal(await exists('Widget', 'ns1', 'dep'), false);
    assert.equal(await exists('Widget', 'ns1', 'grand'), false);
    const heldNow = await store.get('Widget', 'ns1', 'held');
    assert.ok(
      heldNow.metadata.deletionTimestamp,
      'dependent with a finalizer is marked, not removed',
    );
    // A dependent with another living owner loses only the dangling reference.
    const sharedNow = await store.get('Widget', 'ns1', 'shared');
    assert.deepEqual(
      sharedNow.metadata.ownerReferences?.map((r) => r.uid),
      [held.metadata.uid],
    );
    assert.ok(await exists('Widget', 'ns1', 'unrelated'));

    // Releasing the finalizer removes `held`, whose removal cascades to `shared`.
    await store.patch('Widget', 'ns1', 'held', { metadata: { finalizers: null } });
    assert.equal(await exists('Widget', 'ns1', 'held'), false);
    assert.equal(await exists('Widget', 'ns1', 'shared'), false);
    void grand;
    void shared;
    void unrelated;
  });

  test('collectOrphans deletes dependents whose owners vanished (crash recovery)', async () => {
    const owner = await store.create('Gadget', {
      metadata: { name: 'owner2' },
      spec: { model: 'x' },
    });
    await store.create('Widget', {
      ...widget('orphan'),
      metadata: { name: 'orphan', namespace: 'ns2', ownerReferences: ownedBy(owner) },
    });
    // Simulate a crash between the owner's removal and the cascade.
    await db.pool.query(`delete from resources where name = 'owner2'`);
    assert.ok(await exists('Widget', 'ns2', 'orphan'));
    assert.equal(await store.collectOrphans(), 1);
    assert.equal(await exists('Widget', 'ns2', 'orphan'), false);
    assert.equal(await store.collectOrphans(), 0);
  });
});

describe('apply', () => {
  const manifest = (
    spec: Record<string, unknown>,
    labels: Record<string, string> = { app: 'x' },
  ) => ({
    apiVersion: API_VERSION,
    kind: 'Widget',
    metadata: { name: 'applied', namespace: 'ns1', labels },
    spec,
  });

  test('created, unchanged (same rv), configured, dropped fields removed, others kept', async () => {
    const r1 = await store.apply(
      'Widget',
      manifest({ size: 2, color: 'red', extra: { a: '1', b: '2' } }),
      { fieldManager: 'cli' },
    );
    assert.equal(r1.result, 'created');
    assert.ok(r1.object.metadata.annotations?.[LAST_APPLIED_ANNOTATION]);

    const r2 = await store.apply(
      'Widget',
      manifest({ size: 2, color: 'red', extra: { b: '2', a: '1' } }),
      { fieldManager: 'cli' },
    );
    assert.equal(r2.result, 'unchanged');
    assert.equal(r2.object.metadata.resourceVersion, r1.object.metadata.resourceVersion);
    assert.equal(r2.object.metadata.generation, 1);

    // Another writer sets a field the manifest does not mention, and a label.
    await store.patch('Widget', 'ns1', 'applied', {
      spec: { tags: ['t'] },
      metadata: { labels: { other: 'y' } },
    });
    const r3 = await store.apply(
      'Widget',
      manifest({ size: 2, color: 'red', extra: { b: '2', a: '1' } }),
      { fieldManager: 'cli' },
    );
    assert.equal(r3.result, 'unchanged', 'fields set by others are not the manifest’s business');
    assert.deepEqual((r3.object.spec as { tags: string[] }).tags, ['t']);

    // Drop `color` and `extra.a`: removed; `tags` (set by another writer) stays.
    const r4 = await store.apply('Widget', manifest({ size: 3, extra: { b: '2' } }), {
      fieldManager: 'cli',
    });
    assert.equal(r4.result, 'configured');
    assert.deepEqual(r4.object.spec, { size: 3, extra: { b: '2' }, tags: ['t'] });
    assert.deepEqual(r4.object.metadata.labels, { app: 'x', other: 'y' });
    assert.equal(r4.object.metadata.generation, 3, 'created 1, the tags patch 2, this apply 3');

    // Label-only change: configured, generation unchanged; again: unchanged.
    const r5 = await store.apply('Widget', manifest({ size: 3, extra: { b: '2' } }, { app: 'z' }), {
      fieldManager: 'cli',
    });
    assert.equal(r5.result, 'configured');
    assert.equal(r5.object.metadata.generation, 3);
    const r6 = await store.apply('Widget', manifest({ size: 3, extra: { b: '2' } }, { app: 'z' }), {
      fieldManager: 'cli',
    });
    assert.equal(r6.result, 'unchanged');
    assert.equal(r6.object.metadata.resourceVersion, r5.object.metadata.resourceVersion);
  });

  test('apply validates, needs a fieldManager, and applying a read object back is unchanged', async () => {
    await assert.rejects(
      store.apply('Widget', manifest({ size: 'x' }), { fieldManager: 'cli' }),
      (err: ApiError) => err.code === 422,
    );
    await assert.rejects(
      store.apply('Widget', manifest({ size: 1 }), { fieldManager: '' }),
      (err: ApiError) => err.code === 400,
    );
    const current = await store.get('Widget', 'ns1', 'applied');
    const r = await store.apply(
      'Widget',
      { ...manifest({ size: 3, extra: { b: '2' } }, { app: 'z' }), status: { phase: 'x' } },
      { fieldManager: 'cli' },
    );
    // status is not the main resource's business (status subresource)
    assert.equal(r.object.status, undefined);
    void current;
  });
});

describe('events', () => {
  const input = {
    involvedObject: {
      kind: 'Widget',
      namespace: 'ns1',
      name: 'evobj',
      uid: '11111111-1111-4111-8111-111111111111',
    },
    type: 'Warning' as const,
    reason: 'TaskFailed',
    message: 'the task stopped',
    source: { component: 'test' },
  };

  test('repeats aggregate into one Event with count and timestamps', async () => {
    const first = await store.recordEvent({ ...input, now: new Date('2024-01-01T00:00:00Z') });
    assert.equal(first.count, 1);
    assert.equal(first.firstTimestamp, '2024-01-01T00:00:00Z');
    const second = await store.recordEvent({ ...input, now: new Date('2024-01-01T00:01:00Z') });
    assert.equal(second.metadata.name, first.metadata.name);
    assert.equal(second.count, 2);
    assert.equal(second.firstTimestamp, '2024-01-01T00:00:00Z');
    assert.equal(second.lastTimestamp, '2024-01-01T00:01:00Z');
    const other = await store.recordEvent({ ...input, message: 'something else' });
    assert.notEqual(other.metadata.name, first.metadata.name);
    assert.match(first.metadata.name, /^evobj\.[0-9a-f]{10}$/);
    // Cluster-scoped objects' events go to "default".
    const cl = await store.recordEvent({
      ...input,
      involvedObject: { kind: 'Gadget', name: 'g1' },
    });
    assert.equal(cl.metadata.namespace, 'default');
  });

  test('concurrent recorders produce one Event with the exact count', async () => {
    const concurrent = { ...input, reason: 'Concurrent' };
    await Promise.all(Array.from({ length: 20 }, () => store.recordEvent(concurrent)));
    const list = await store.list('Event', { namespace: 'ns1' });
    const mine = list.items.filter((e) => e.reason === 'Concurrent');
    assert.equal(mine.length, 1);
    assert.equal(mine[0]!.count, 20);
  });
});
