// A write that committed is answered as committed: once COMMIT has succeeded, nothing
// (such as the pool refusing a new connection, as during a database restart or when
// every connection is taken) can turn the answer into an error. Otherwise a client is
// told its create failed, retries, and gets 409 AlreadyExists for its own object.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { type ApiError, isApiError } from '../../crds/index.ts';
import { ResourceStore } from '../../store/index.ts';
import { freshDatabase, type TestDatabase } from '../support/db.ts';
import { EVENT, GADGET, WIDGET, widget } from './test-kinds.ts';

let db: TestDatabase;
let pool: pg.Pool;
let store: ResourceStore;
/** While set, the pool hands out no connection: the ones already checked out go on working. */
let refuseCheckouts = false;
/** Set by the write hook: from inside that write's transaction, refuse every later checkout. */
let refuseAfterThisWrite = false;

before(async () => {
  db = await freshDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
  pool.on('error', () => {});
  const connect = pool.connect.bind(pool) as (cb?: unknown) => unknown;
  pool.connect = ((cb?: (err: Error | undefined, client?: unknown, done?: unknown) => void) => {
    if (!refuseCheckouts) return connect(cb);
    const err = new Error('no connection available (test: checkouts refused)');
    if (cb) return void cb(err);
    return Promise.reject(err);
  }) as typeof pool.connect;
  store = new ResourceStore(pool, {
    kinds: [WIDGET, GADGET, EVENT],
    onWrite: async () => {
      if (refuseAfterThisWrite) refuseCheckouts = true;
    },
  });
});

after(async () => {
  refuseCheckouts = false;
  await store.close();
  await pool.end();
  await db.drop();
});

test('a committed create is answered with the object even when the pool refuses connections after COMMIT', async () => {
  refuseAfterThisWrite = true;
  let first: Awaited<ReturnType<ResourceStore['create']>> | undefined;
  let firstError: unknown;
  try {
    first = await store.create('Widget', widget('committed'));
  } catch (err) {
    firstError = err;
  } finally {
    refuseAfterThisWrite = false;
    refuseCheckouts = false;
  }
  // The write did commit: the object is there.
  const stored = await store.get('Widget', 'ns1', 'committed');
  assert.equal(
    firstError,
    undefined,
    `the committed create was answered with ${String(firstError)}`,
  );
  assert.ok(first);
  assert.deepEqual(first, stored);
  assert.match(first.metadata.resourceVersion ?? '', /^[1-9][0-9]*$/);
  // The client's retry (had it been told "failed") is the only way to get AlreadyExists.
  await assert.rejects(store.create('Widget', widget('committed')), (err: unknown) => {
    assert.ok(isApiError(err), String(err));
    assert.equal((err as ApiError).reason, 'AlreadyExists');
    return true;
  });
});

test('the same for an update, a status patch and a delete', async () => {
  await store.create('Widget', widget('later'));
  const attempt = async <T>(write: () => Promise<T>): Promise<T> => {
    refuseAfterThisWrite = true;
    try {
      return await write();
    } finally {
      refuseAfterThisWrite = false;
      refuseCheckouts = false;
    }
  };
  const patched = await attempt(() => store.patch('Widget', 'ns1', 'later', { spec: { size: 5 } }));
  assert.deepEqual(await store.get('Widget', 'ns1', 'later'), patched);
  const status = await attempt(() =>
    store.patchStatus('Widget', 'ns1', 'later', { status: { phase: 'Up' } }),
  );
  assert.deepEqual(await store.get('Widget', 'ns1', 'later'), status);
  assert.ok(Number(status.metadata.resourceVersion) > Number(patched.metadata.resourceVersion));
  const deleted = await attempt(() => store.delete('Widget', 'ns1', 'later'));
  assert.equal(deleted.metadata.resourceVersion, await store.currentResourceVersion());
});
