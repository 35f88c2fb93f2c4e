import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type ApiError, isApiError } from '../../crds/index.ts';
import type { ResourceStore } from '../../store/index.ts';
import { freshDatabase, type TestDatabase } from '../support/db.ts';
import { counts, testStore, widget } from './test-kinds.ts';

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

function reason(r: string, match?: RegExp) {
  return (err: unknown) => {
    assert.ok(isApiError(err), `expected an ApiError, got ${String(err)}`);
    assert.equal((err as ApiError).reason, r, (err as ApiError).message);
    if (match) assert.match((err as ApiError).message, match);
    return true;
  };
}

describe('create and get', () => {
  test('server sets uid, creationTimestamp, generation and resourceVersion; ignores client values', async () => {
    const created = await store.create('Widget', {
      ...widget('a'),
      metadata: {
        name: 'a',
        namespace: 'ns1',
        uid: 'bogus',
        resourceVersion: '999',
        generation: 7,
        creationTimestamp: '2000-01-01T00:00:00Z',
      },
    });
    assert.match(created.metadata.uid!, /^[0-9a-f-]{36}$/);
    assert.equal(created.metadata.generation, 1);
    assert.notEqual(created.metadata.creationTimestamp, '2000-01-01T00:00:00Z');
    assert.equal(created.metadata.resourceVersion, await store.currentResourceVersion());
    assert.deepEqual(await store.get('Widget', 'ns1', 'a'), created);
  });

  test('status in a create body is dropped for kinds with a status subresource; defaults applied', async () => {
    const created = await store.create('Widget', {
      ...widget('withstatus'),
      spec: {},
      status: { phase: 'Ready' },
    });
    assert.equal(created.status, undefined);
    assert.deepEqual(created.spec, { size: 1 });
  });

  test('404 with a clear message, 409 AlreadyExists', async () => {
    await assert.rejects(
      store.get('Widget', 'ns1', 'nope'),
      reason('NotFound', /widgets "nope" not found/),
    );
    await assert.rejects(
      store.create('Widget', widget('a')),
      reason('AlreadyExists', /widgets "a" already exists/),
    );
    await assert.rejects(store.get('Nope', 'ns1', 'x'), reason('NotFound', /resource type "Nope"/));
  });

  test('namespace rules', async () => {
    const noNs = { ...widget('b'), metadata: { name: 'b' } };
    await assert.rejects(store.create('Widget', noNs), (err: ApiError) => {
      assert.equal(err.reason, 'Invalid');
      assert.equal(err.details?.causes?.[0]?.field, 'metadata.namespace');
      return true;
    });
    await assert.rejects(
      store.create('Gadget', {
        kind: 'Gadget',
        metadata: { name: 'g', namespace: 'x' },
        spec: { model: 'm' },
      }),
      (err: ApiError) =>
        err.reason === 'Invalid' && err.details?.causes?.[0]?.field === 'metadata.namespace',
    );
    const g = await store.create('Gadget', { metadata: { name: 'g' }, spec: { model: 'm' } });
    assert.equal(g.metadata.namespace, undefined);
    assert.equal((await store.get('Gadget', undefined, 'g')).metadata.uid, g.metadata.uid);
  });

  test('unknown field is 422 with the field path; nothing written', async () => {
    const before = await counts(db);
    await assert.rejects(
      store.create('Widget', { ...widget('c'), spec: { size: 1, colour: 'red' } }),
      (err: ApiError) => {
        assert.equal(err.code, 422);
        assert.deepEqual(
          err.details?.causes?.map((c) => c.field),
          ['spec.colour'],
        );
        return true;
      },
    );
    await assert.rejects(
      store.create('Widget', { ...widget('c'), spec: { size: 'big' } }),
      reason('Invalid', /spec\.size/),
    );
    await assert.rejects(store.create('Widget', 'not an object'), reason('BadRequest'));
    await assert.rejects(
      store.create('Widget', { ...widget('c'), kind: 'Gadget' }),
      reason('BadRequest', /kind/),
    );
    await assert.rejects(
      store.create('Widget', { ...widget('c'), spec: { color: 'a\u0000b' } }),
      reason('Invalid', /NUL/),
    );
    assert.deepEqual(await counts(db), before);
  });

  test('a failing inTransaction hook rolls the whole write back', async () => {
    const before = await counts(db);
    await assert.rejects(
      store.create('Widget', widget('hooked'), {
        inTransaction: async (client, result) => {
          assert.equal(result.type, 'ADDED');
          await client.query('select 1');
          throw new Error('hook failed');
        },
      }),
      /hook failed/,
    );
    assert.deepEqual(await counts(db), before);
    await assert.rejects(store.get('Widget', 'ns1', 'hooked'), reason('NotFound'));
    // The hook sees the write inside the transaction.
    let seen = 0;
    await store.create('Widget', widget('hooked'), {
      inTransaction: async (client) => {
        const { rows } = await client.query(
          `select count(*) as n from resources where name = 'hooked'`,
        );
        seen = rows[0].n;
      },
    });
    assert.equal(seen, 1);
  });
});

describe('update, patch, status', () => {
  test('generation bumps only on spec change; status writes never bump it; no-op gives no new rv', async () => {
    const a = await store.create('Widget', widget('gen', 'ns1', { size: 2 }));
    let hookCalls = 0;
    const hook = { inTransaction: async () => void hookCalls++ };
    const same = await store.update('Widget', a, hook);
    assert.equal(same.metadata.resourceVersion, a.metadata.resourceVersion);
    assert.equal(hookCalls, 0);

    const labelled = await store.patch(
      'Widget',
      'ns1',
      'gen',
      { metadata: { labels: { x: 'y' } } },
      hook,
    );
    assert.equal(labelled.metadata.generation, 1);
    assert.ok(Number(labelled.metadata.resourceVersion) > Number(a.metadata.resourceVersion));
    assert.equal(hookCalls, 1);

    const resized = await store.patch('Widget', 'ns1', 'gen', { spec: { size: 3 } });
    assert.equal(resized.metadata.generation, 2);

    const st = await store.patchStatus('Widget', 'ns1', 'gen', {
      status: { phase: 'Ready', observedGeneration: 2 },
    });
    assert.equal(st.metadata.generation, 2);
    assert.deepEqual(st.status, { phase: 'Ready', observedGeneration: 2 });
    const st2 = await store.updateStatus('Widget', {
      ...st,
      spec: { size: 99 },
      status: { phase: 'Gone' },
    });
    assert.deepEqual(st2.spec, { size: 3 }, 'status writes ignore spec');
    assert.equal(st2.metadata.generation, 2);

    // Main-resource writes ignore status.
    const ignored = await store.update('Widget', { ...st2, status: { phase: 'Hacked' } });
    assert.equal(ignored.metadata.resourceVersion, st2.metadata.resourceVersion);
    assert.deepEqual(ignored.status, { phase: 'Gone' });

    // Status writes to a kind without the subresource.
    await assert.rejects(
      store.patchStatus('Gadget', undefined, 'g', { status: {} }),
      reason('NotFound'),
    );
  });

  test('409 on stale writes: update, patch with resourceVersion, delete preconditions', async () => {
    const v1 = await store.create('Widget', widget('stale'));
    const v2 = await store.update('Widget', { ...v1, spec: { size: 5 } });
    await assert.rejects(
      store.update('Widget', { ...v1, spec: { size: 6 } }),
      reason('Conflict', /has been modified/),
    );
    await assert.rejects(
      store.patch('Widget', 'ns1', 'stale', {
        metadata: { resourceVersion: v1.metadata.resourceVersion },
        spec: { size: 7 },
      }),
      reason('Conflict'),
    );
    await assert.rejects(
      store.patch(
        'Widget',
        'ns1',
        'stale',
        { spec: { size: 7 } },
        { resourceVersion: v1.metadata.resourceVersion! },
      ),
      reason('Conflict'),
    );
    await assert.rejects(
      store.patchStatus(
        'Widget',
        'ns1',
        'stale',
        { status: { phase: 'x' } },
        { resourceVersion: v1.metadata.resourceVersion! },
      ),
      reason('Conflict'),
    );
    await assert.rejects(
      store.delete('Widget', 'ns1', 'stale', {
        preconditions: { resourceVersion: v1.metadata.resourceVersion! },
      }),
      reason('Conflict'),
    );
    await assert.rejects(
      store.delete('Widget', 'ns1', 'stale', {
        preconditions: { uid: '00000000-0000-4000-8000-000000000000' },
      }),
      reason('Conflict'),
    );
    await assert.rejects(
      store.update('Widget', { ...v2, metadata: { ...v2.metadata, uid: 'other' } }),
      reason('Conflict', /UID/),
    );
    // Unconditional update (no resourceVersion) succeeds.
    const { resourceVersion: _rv, ...meta } = v1.metadata;
    const v3 = await store.update('Widget', { ...v1, metadata: meta, spec: { size: 8 } });
    assert.equal(v3.metadata.generation, 3);
    // Current resourceVersion works.
    const v4 = await store.patch(
      'Widget',
      'ns1',
      'stale',
      { spec: { size: 9 } },
      { resourceVersion: v3.metadata.resourceVersion! },
    );
    assert.deepEqual(v4.spec, { size: 9 });
    await store.delete('Widget', 'ns1', 'stale', {
      preconditions: { uid: v4.metadata.uid!, resourceVersion: v4.metadata.resourceVersion! },
    });
    await assert.rejects(store.get('Widget', 'ns1', 'stale'), reason('NotFound'));
  });

  test('uid and creationTimestamp are kept; name is immutable; patch body must be an object', async () => {
    const a = await store.create('Widget', widget('imm'));
    const b = await store.update('Widget', {
      ...a,
      metadata: { ...a.metadata, creationTimestamp: '2001-01-01T00:00:00Z' },
      spec: { size: 4 },
    });
    assert.equal(b.metadata.creationTimestamp, a.metadata.creationTimestamp);
    assert.equal(b.metadata.uid, a.metadata.uid);
    await assert.rejects(
      store.patch('Widget', 'ns1', 'imm', { metadata: { name: 'other' } }),
      reason('Invalid', /metadata\.name/),
    );
    await assert.rejects(store.patch('Widget', 'ns1', 'imm', [1, 2]), reason('BadRequest'));
    await assert.rejects(store.patch('Widget', 'ns1', 'imm', 'x'), reason('BadRequest'));
    // Merge patch null removes a field.
    const c = await store.patch('Widget', 'ns1', 'imm', { spec: { color: 'red' } });
    assert.equal((c.spec as { color?: string }).color, 'red');
    const d = await store.patch('Widget', 'ns1', 'imm', { spec: { color: null } });
    assert.equal((d.spec as { color?: string }).color, undefined);
  });

  test('a hostile __proto__ key in a patch is refused as an unknown field', async () => {
    await store.create('Widget', widget('proto'));
    const patch = JSON.parse('{"spec": {"__proto__": {"polluted": "yes"}}}');
    await assert.rejects(store.patch('Widget', 'ns1', 'proto', patch), reason('Invalid'));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('dryRun validates and returns without persisting', async () => {
    const before = await counts(db);
    const dry = await store.create('Widget', widget('dry'), { dryRun: true });
    assert.equal(dry.metadata.name, 'dry');
    await store.patch('Widget', 'ns1', 'imm', { spec: { size: 40 } }, { dryRun: true });
    assert.deepEqual(await counts(db), before);
  });
});
