// The rules that decide what a write stores (store/next-object.ts), without a
// database: what the server owns, preconditions, the generation rule, the status
// subresource, finalizers and deletion. Each failure is the ApiError a client gets.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type ApiError, type BerthObject, isApiError } from '../../crds/index.ts';
import {
  checkDeletePreconditions,
  checkPreconditions,
  isRemoval,
  newObject,
  nextMain,
  nextStatus,
  onDelete,
} from '../../store/next-object.ts';
import { GADGET, WIDGET, widget } from './test-kinds.ts';

const SERVER = {
  uid: '0b7a3c52-5f0e-4d8e-9a57-3c1e2f1d4a6b',
  creationTimestamp: '2026-01-02T03:04:05Z',
};

/** A stored Widget as the store would hold it. */
function stored(over: Partial<BerthObject['metadata']> = {}, extra: Partial<BerthObject> = {}) {
  const obj = newObject(WIDGET, widget('w'), SERVER);
  obj.metadata.resourceVersion = '7';
  Object.assign(obj.metadata, over);
  return { ...obj, ...extra } as BerthObject;
}

function rejects(reason: string, field?: string) {
  return (err: unknown) => {
    assert.ok(isApiError(err), `expected an ApiError, got ${String(err)}`);
    assert.equal((err as ApiError).reason, reason, (err as ApiError).message);
    if (field) assert.equal((err as ApiError).details?.causes?.[0]?.field, field);
    return true;
  };
}

describe('a new object', () => {
  test('the server sets uid, creationTimestamp and generation 1; client values for them are ignored', () => {
    const obj = newObject(
      WIDGET,
      {
        ...widget('a'),
        metadata: {
          name: 'a',
          namespace: 'ns1',
          uid: 'mine',
          resourceVersion: '99',
          generation: 5,
          creationTimestamp: '2000-01-01T00:00:00Z',
          deletionTimestamp: '2000-01-01T00:00:00Z',
        },
      },
      SERVER,
    );
    assert.equal(obj.metadata.uid, SERVER.uid);
    assert.equal(obj.metadata.creationTimestamp, SERVER.creationTimestamp);
    assert.equal(obj.metadata.generation, 1);
    assert.equal(obj.metadata.resourceVersion, undefined);
    assert.equal(obj.metadata.deletionTimestamp, undefined);
  });

  test('status is dropped for a kind with the status subresource; defaults are applied; owner uids lowercased', () => {
    const obj = newObject(
      WIDGET,
      {
        ...widget('a'),
        spec: {},
        status: { phase: 'Up' },
        metadata: {
          name: 'a',
          namespace: 'ns1',
          ownerReferences: [
            {
              apiVersion: 'v',
              kind: 'Gadget',
              name: 'g',
              uid: 'ABCDEF01-0000-4000-8000-000000000000',
            },
          ],
        },
      },
      SERVER,
    );
    assert.equal(obj.status, undefined);
    assert.deepEqual(obj.spec, { size: 1 });
    assert.equal(obj.metadata.ownerReferences?.[0]?.uid, 'abcdef01-0000-4000-8000-000000000000');
  });

  test('scope, kind and schema mistakes are 422 or 400 naming the field', () => {
    assert.throws(
      () => newObject(WIDGET, { kind: 'Widget', metadata: { name: 'a' }, spec: {} }, SERVER),
      rejects('Invalid', 'metadata.namespace'),
    );
    assert.throws(
      () =>
        newObject(
          GADGET,
          { metadata: { name: 'g', namespace: 'x' }, spec: { model: 'm' } },
          SERVER,
        ),
      rejects('Invalid', 'metadata.namespace'),
    );
    assert.throws(
      () => newObject(WIDGET, { ...widget('a'), kind: 'Gadget' }, SERVER),
      rejects('BadRequest'),
    );
    assert.throws(
      () => newObject(WIDGET, { ...widget('a'), spec: { size: -1 } }, SERVER),
      rejects('Invalid', 'spec.size'),
    );
  });
});

describe('preconditions', () => {
  const current = stored();
  test('a stale resourceVersion (in the body or the options) is 409; empty means none', () => {
    assert.throws(
      () => checkPreconditions(WIDGET, current, { metadata: { resourceVersion: '6' } }, {}),
      rejects('Conflict'),
    );
    assert.throws(
      () => checkPreconditions(WIDGET, current, {}, { resourceVersion: '8' }),
      rejects('Conflict'),
    );
    checkPreconditions(WIDGET, current, { metadata: { resourceVersion: '' } }, {});
    checkPreconditions(
      WIDGET,
      current,
      { metadata: { resourceVersion: 7 } },
      { resourceVersion: '7' },
    );
  });

  test('another uid is 409 naming both', () => {
    assert.throws(
      () => checkPreconditions(WIDGET, current, { metadata: { uid: 'other' } }, {}),
      (err: unknown) => rejects('Conflict')(err) && /UID in precondition: other/.test(String(err)),
    );
  });

  test('a delete checks uid and resourceVersion from its preconditions and options', () => {
    assert.throws(
      () => checkDeletePreconditions(WIDGET, current, { preconditions: { uid: 'x' } }),
      rejects('Conflict'),
    );
    assert.throws(
      () => checkDeletePreconditions(WIDGET, current, { preconditions: { resourceVersion: '1' } }),
      rejects('Conflict'),
    );
    assert.throws(
      () => checkDeletePreconditions(WIDGET, current, { resourceVersion: '1' }),
      rejects('Conflict'),
    );
    checkDeletePreconditions(WIDGET, current, {
      preconditions: { uid: SERVER.uid, resourceVersion: '7' },
    });
  });
});

describe('the next main object', () => {
  test('generation moves with the spec only: not for labels, annotations or finalizers', () => {
    const current = stored();
    const labelled = nextMain(
      WIDGET,
      current,
      { ...current, metadata: { ...current.metadata, labels: { a: 'b' }, finalizers: ['f'] } },
      {},
    );
    assert.equal(labelled.metadata.generation, 1);
    assert.deepEqual(labelled.metadata.labels, { a: 'b' });
    const resized = nextMain(WIDGET, current, { ...current, spec: { size: 3 } }, {});
    assert.equal(resized.metadata.generation, 2);
  });

  test('server-owned metadata and the status come from the stored object', () => {
    const current = stored({}, { status: { phase: 'Up' } });
    const next = nextMain(
      WIDGET,
      current,
      {
        ...current,
        metadata: {
          ...current.metadata,
          uid: '',
          generation: 40,
          creationTimestamp: '2000-01-01T00:00:00Z',
          deletionTimestamp: '2000-01-01T00:00:00Z',
        },
        status: { phase: 'Down' },
      },
      {},
    );
    assert.equal(next.metadata.uid, SERVER.uid);
    assert.equal(next.metadata.generation, 1);
    assert.equal(next.metadata.creationTimestamp, SERVER.creationTimestamp);
    assert.equal(next.metadata.deletionTimestamp, undefined);
    assert.deepEqual(next.status, { phase: 'Up' });
  });

  test('name and namespace are immutable (422)', () => {
    const current = stored();
    assert.throws(
      () =>
        nextMain(WIDGET, current, { ...current, metadata: { ...current.metadata, name: 'v' } }, {}),
      rejects('Invalid', 'metadata.name'),
    );
    assert.throws(
      () =>
        nextMain(
          WIDGET,
          current,
          { ...current, metadata: { ...current.metadata, namespace: 'ns2' } },
          {},
        ),
      rejects('Invalid', 'metadata.namespace'),
    );
  });

  test('while deleting, no finalizer may be added and deletionTimestamp stays', () => {
    const current = stored({ finalizers: ['a'], deletionTimestamp: '2026-01-02T03:04:06Z' });
    assert.throws(
      () =>
        nextMain(
          WIDGET,
          current,
          { ...current, metadata: { ...current.metadata, finalizers: ['a', 'b'] } },
          {},
        ),
      rejects('Invalid', 'metadata.finalizers'),
    );
    const { deletionTimestamp: _gone, ...meta } = current.metadata;
    const next = nextMain(
      WIDGET,
      current,
      { ...current, metadata: { ...meta, finalizers: [] } },
      {},
    );
    assert.equal(next.metadata.deletionTimestamp, '2026-01-02T03:04:06Z');
    assert.equal(isRemoval(next), true);
    assert.equal(isRemoval(current), false);
  });
});

describe('the next status', () => {
  test('only status changes, generation stays; a non-object body is 400', () => {
    const current = stored();
    const next = nextStatus(
      WIDGET,
      current,
      { ...current, spec: { size: 9 }, status: { ready: true } },
      {},
    );
    assert.deepEqual(next.spec, current.spec);
    assert.deepEqual(next.status, { ready: true });
    assert.equal(next.metadata.generation, 1);
    assert.throws(() => nextStatus(WIDGET, current, 'up', {}), rejects('BadRequest'));
    assert.throws(
      () => nextStatus(WIDGET, current, { status: { ready: 'yes' } }, {}),
      rejects('Invalid', 'status.ready'),
    );
  });
});

describe('delete', () => {
  test('without finalizers the object goes; with them it is marked once', () => {
    const plain = stored();
    assert.deepEqual(onDelete(plain, '2026-01-02T03:04:06Z'), { type: 'DELETED', object: plain });
    const held = stored({ finalizers: ['f'] });
    const marked = onDelete(held, '2026-01-02T03:04:06Z');
    assert.ok(marked !== 'unchanged' && marked.type === 'MODIFIED');
    assert.equal(marked.object.metadata.deletionTimestamp, '2026-01-02T03:04:06Z');
    assert.equal(held.metadata.deletionTimestamp, undefined, 'the stored object is not changed');
    assert.equal(onDelete(marked.object, '2026-01-02T03:04:09Z'), 'unchanged');
  });
});
