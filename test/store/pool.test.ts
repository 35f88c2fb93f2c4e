// The connection pool every part of berth uses (store/db.ts createPool): a
// connection the database drops (restart, failover, an admin's terminate) is an
// error for whoever uses it, never the end of the process, and the pool goes on
// with fresh connections.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { freshDatabase, type TestDatabase } from '../support/db.ts';
import { waitFor } from '../support/wait.ts';

let db: TestDatabase;

before(async () => {
  db = await freshDatabase();
});

after(async () => {
  await db.drop();
});

test('a checked-out connection the server drops between queries does not crash the process', {
  timeout: 15_000,
}, async () => {
  const client = await db.pool.connect();
  const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
  const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
  // Between two queries of a transaction, say: no query is under way to take the error.
  await db.pool.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
  await ended;
  await assert.rejects(client.query('select 1'), /not queryable|terminated|closed/i);
  client.release(true);
  // The pool hands out working connections again.
  const again = await db.pool.query<{ ok: number }>('select 1 as ok');
  assert.equal(again.rows[0]!.ok, 1);
  await waitFor(() => db.pool.totalCount <= db.pool.options.max!, 5_000, 'pool settles');
});
