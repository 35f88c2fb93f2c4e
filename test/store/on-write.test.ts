// The store-wide onWrite hook: called in every write's transaction with the change
// and the previous object; a failing hook rolls the write back; no-ops skip it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ResourceStore, WriteChange } from '../../store/index.ts';
import { freshDatabase, type TestDatabase } from '../support/db.ts';
import { counts, testStore, widget } from './test-kinds.ts';

let db: TestDatabase;
let store: ResourceStore;
const seen: { type: WriteChange['type']; name: string; prevRv?: string }[] = [];
let failNext = false;

before(async () => {
  db = await freshDatabase();
  store = testStore(db, {
    onWrite: async (client, change) => {
      // Runs on the write's own client, inside its transaction: the row is written
      // (or gone), and the resourceVersion is not assigned yet (that comes last).
      const { rows } = await client.query<{ n: number }>(
        'select count(*)::int as n from resources where name = $1',
        [change.object.metadata.name],
      );
      assert.equal(rows[0]!.n, change.type === 'DELETED' ? 0 : 1);
      assert.equal(change.object.metadata.resourceVersion, undefined);
      seen.push({
        type: change.type,
        name: change.object.metadata.name,
        prevRv: change.previous?.metadata.resourceVersion,
      });
      if (failNext) {
        failNext = false;
        throw new Error('hook failed');
      }
    },
  });
});
after(async () => {
  await store.close();
  await db.drop();
});

test('onWrite sees create, update, status, delete with the previous object', async () => {
  seen.length = 0;
  const a = await store.create('Widget', widget('a'));
  assert.deepEqual(seen.at(-1), {
    type: 'ADDED',
    name: 'a',
    prevRv: undefined,
  });
  const b = await store.patch('Widget', 'ns1', 'a', { spec: { size: 2 } });
  assert.deepEqual(seen.at(-1), {
    type: 'MODIFIED',
    name: 'a',
    prevRv: a.metadata.resourceVersion,
  });
  assert.ok(Number(b.metadata.resourceVersion) > Number(a.metadata.resourceVersion));
  await store.patchStatus('Widget', 'ns1', 'a', { status: { phase: 'Up' } });
  assert.equal(seen.at(-1)?.type, 'MODIFIED');
  const before = seen.length;
  await store.patch('Widget', 'ns1', 'a', { spec: { size: 2 } }); // no-op
  assert.equal(seen.length, before);
  await store.delete('Widget', 'ns1', 'a');
  assert.equal(seen.at(-1)?.type, 'DELETED');
  assert.equal(seen.length, before + 1);
});

test('a failing onWrite rolls the write back', async () => {
  const c0 = await counts(db);
  failNext = true;
  await assert.rejects(store.create('Widget', widget('b')), /hook failed/);
  assert.deepEqual(await counts(db), c0);
});
