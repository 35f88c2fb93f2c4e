// A write that committed is answered as committed: once COMMIT has succeeded, nothing
// (such as the pool refusing a new connection, as during a database restart or when
// every connection is taken) can turn the answer into an error, and a commit whose
// answer was lost with its connection is recognised as done. Otherwise a client is
// told its create failed, retries, and gets 409 AlreadyExists for its own object.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { after, before, test } from 'node:test';
import type pg from 'pg';
import { type ApiError, isApiError } from '../../crds/index.ts';
import { createPool, type PoolClient, ResourceStore } from '../../store/index.ts';
import { newObject } from '../../store/next-object.ts';
import { inWriteTransaction } from '../../store/write-transaction.ts';
import { freshDatabase, type TestDatabase } from '../support/db.ts';
import { waitFor } from '../support/wait.ts';
import { EVENT, GADGET, WIDGET, widget } from './test-kinds.ts';

let db: TestDatabase;
let pool: pg.Pool;
let store: ResourceStore;
/** While set, the pool hands out no connection: the ones already checked out go on working. */
let refuseCheckouts = false;
/** Set by the write hook: from inside that write's transaction, refuse every later checkout. */
let refuseAfterThisWrite = false;
/** The next write's connection is lost with its COMMIT: after the server committed, or before it could. */
let loseCommit: 'after' | 'before' | undefined;

/** Makes `client`'s next COMMIT reach the server (or not) and its answer never come back. */
function loseNextCommitAnswer(client: PoolClient, name: string, when: 'after' | 'before'): void {
  const query = client.query.bind(client) as (text: string) => Promise<unknown>;
  client.query = (async (text: unknown, ...rest: unknown[]) => {
    if (typeof text !== 'string' || !/\bcommit$/.test(text))
      return (query as (...a: unknown[]) => Promise<unknown>)(text, ...rest);
    // Stop reading the connection, let the server commit, then drop the connection.
    const socket = (client as unknown as { connection: { stream: Socket } }).connection.stream;
    if (when === 'before') {
      socket.destroy();
      return query(text);
    }
    socket.pause();
    const answer = query(text);
    answer.catch(() => {});
    await waitFor(
      async () => {
        const { rows } = await pool.query('select 1 from resources where name = $1', [name]);
        return rows.length > 0;
      },
      10_000,
      'the commit to happen',
    );
    socket.destroy();
    return answer;
  }) as typeof client.query;
}

before(async () => {
  db = await freshDatabase();
  pool = createPool(db.url, { max: 4 });
  const connect = pool.connect.bind(pool) as (cb?: unknown) => unknown;
  pool.connect = ((cb?: (err: Error | undefined, client?: unknown, done?: unknown) => void) => {
    if (!refuseCheckouts) return connect(cb);
    const err = new Error('no connection available (test: checkouts refused)');
    if (cb) return void cb(err);
    return Promise.reject(err);
  }) as typeof pool.connect;
  store = new ResourceStore(pool, {
    kinds: [WIDGET, GADGET, EVENT],
    onWrite: async (client, change) => {
      if (refuseAfterThisWrite) refuseCheckouts = true;
      if (loseCommit) {
        loseNextCommitAnswer(client, change.object.metadata.name, loseCommit);
        loseCommit = undefined;
      }
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

test('a create whose COMMIT answer is lost with its connection is answered with the object when it did commit', async () => {
  loseCommit = 'after';
  const created = await store.create('Widget', widget('unanswered'));
  assert.deepEqual(created, await store.get('Widget', 'ns1', 'unanswered'));
  assert.match(created.metadata.resourceVersion ?? '', /^[1-9][0-9]*$/);
  // The pool goes on with fresh connections.
  const next = await store.create('Widget', widget('after'));
  assert.ok(Number(next.metadata.resourceVersion) > Number(created.metadata.resourceVersion));
});

test('a create whose connection is lost before its COMMIT reaches the server is an error, and nothing was stored', async () => {
  loseCommit = 'before';
  await assert.rejects(store.create('Widget', widget('uncommitted')));
  await assert.rejects(store.get('Widget', 'ns1', 'uncommitted'), /not found/);
  const retried = await store.create('Widget', widget('uncommitted'));
  assert.deepEqual(retried, await store.get('Widget', 'ns1', 'uncommitted'));
});

test('writes sharing one transaction each get the resourceVersion their own log row got', async () => {
  const info = store.kindInfo('Widget');
  const objects = await inWriteTransaction(pool, undefined, async (tx) => {
    const out = [];
    for (const name of ['tx-a', 'tx-b', 'tx-c']) {
      const obj = newObject(info, widget(name), {
        uid: randomUUID(),
        creationTimestamp: '2026-01-01T00:00:00Z',
      });
      out.push(await tx.write(info, 'ADDED', obj, null, {}));
    }
    return out;
  });
  const { rows } = await pool.query<{ name: string; rv: number }>(
    "select name, rv from resource_log where name like 'tx-%' order by rv",
  );
  assert.deepEqual(
    objects.map((o) => [o.metadata.name, o.metadata.resourceVersion]),
    rows.map((r) => [r.name, String(r.rv)]),
  );
  for (const o of objects) assert.deepEqual(o, await store.get('Widget', 'ns1', o.metadata.name));
});
