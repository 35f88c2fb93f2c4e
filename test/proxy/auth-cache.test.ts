// The proxy's credential cache under concurrency: requests that arrive together
// with the same uncached credential share one database query, and a revocation
// that lands while a query is under way is not undone by that query's answer.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { after, before, test } from 'node:test';
import { Authenticator } from '../../proxy/auth.ts';
import { Sessions } from '../../store/index.ts';
import { freshDatabase, type TestDatabase } from '../support/db.ts';
import { waitFor } from '../support/wait.ts';
import { CountingIdentity } from './support/counting-identity.ts';

let db: TestDatabase;
let identity: CountingIdentity;
let sessions: Sessions;
let token: string;

const asking = (authorization: string) => ({ headers: { authorization } }) as IncomingMessage;

before(async () => {
  db = await freshDatabase();
  identity = new CountingIdentity(db.pool);
  sessions = new Sessions(db.pool);
  token = (await identity.createToken({ user: 'alice' })).token;
});

after(async () => {
  await db.drop();
});

test('fifty requests with the same uncached token make one query, and all get the user', async () => {
  const auth = new Authenticator(identity, sessions, 5_000, 'berth_session');
  identity.checks = 0;
  const answers = await Promise.all(
    Array.from({ length: 50 }, () => auth.authenticate(asking(`Bearer ${token}`), 'x.localhost')),
  );
  assert.equal(identity.checks, 1);
  for (const a of answers) assert.equal(a?.name, 'alice');
  // Cached now: no query at all.
  assert.equal((await auth.authenticate(asking(`Bearer ${token}`), 'x.localhost'))?.name, 'alice');
  assert.equal(identity.checks, 1);
  // A different credential is its own query, and a wrong one is refused.
  assert.equal(await auth.authenticate(asking(`Bearer ${token}x`), 'x.localhost'), undefined);
  assert.equal(identity.checks, 2);
});

test('without a cache (0 ms) every request that comes later asks again', async () => {
  const auth = new Authenticator(identity, sessions, 0, 'berth_session');
  identity.checks = 0;
  await auth.authenticate(asking(`Bearer ${token}`), 'x.localhost');
  await auth.authenticate(asking(`Bearer ${token}`), 'x.localhost');
  assert.equal(identity.checks, 2);
});

test('a revocation during a query: later requests ask afresh, and the old answer is not cached', async () => {
  const auth = new Authenticator(identity, sessions, 60_000, 'berth_session');
  identity.checks = 0;
  const release = identity.holdAnswers();
  const before = auth.authenticate(asking(`Bearer ${token}`), 'x.localhost');
  // The query has its answer (alice), held back; now the token is revoked.
  await identity.answered;
  await db.pool.query('delete from api_tokens');
  auth.forgetAll();
  identity.hold = undefined;
  const after = auth.authenticate(asking(`Bearer ${token}`), 'x.localhost');
  assert.equal(
    identity.checks,
    2,
    'asked after the revocation: a query of its own, not the held one',
  );
  assert.equal(await after, undefined);
  release();
  assert.equal((await before)?.name, 'alice', 'asked before the revocation');
  // Nothing from before the revocation was kept.
  assert.equal(await auth.authenticate(asking(`Bearer ${token}`), 'x.localhost'), undefined);
});

test('a credential in use is checked again before its answer expires, and its requests never wait for that', {
  timeout: 20_000,
}, async () => {
  // Long enough that a busy machine does not let the answer expire between two turns of the loop below.
  const CACHE_MS = 4_000;
  const auth = new Authenticator(identity, sessions, CACHE_MS, 'berth_session');
  token = (await identity.createToken({ user: 'alice' })).token;
  identity.checks = 0;
  const first = await auth.authenticate(asking(`Bearer ${token}`), 'x.localhost');
  assert.equal(first?.name, 'alice');
  assert.equal(identity.checks, 1);
  // From now on the database's answers are held back: a request that waited for
  // one would hang here, and the test would time out.
  const release = identity.holdAnswers();
  // A function, so that the assertion above does not pin the type to 1.
  const checksSoFar = () => identity.checks;
  const started = Date.now();
  for (;;) {
    const p = await auth.authenticate(asking(`Bearer ${token}`), 'x.localhost');
    assert.equal(p?.name, 'alice');
    if (checksSoFar() === 2) break; // the background check has begun
    assert.ok(Date.now() - started < CACHE_MS, 'checked again before the answer expired');
    await new Promise((r) => setImmediate(r));
  }
  assert.ok(
    Date.now() - started >= (CACHE_MS * 4) / 5 - 50,
    'not before the last fifth of its life',
  );
  // Requests keep being answered from the cache while that check is held.
  assert.equal((await auth.authenticate(asking(`Bearer ${token}`), 'x.localhost'))?.name, 'alice');
  assert.equal(identity.checks, 2, 'one background check, not one per request');
  release();
  identity.hold = undefined;
  await identity.answered;
  // Its answer replaces the old one: cached well past the first one's expiry.
  await waitFor(
    async () =>
      ((await auth.authenticate(asking(`Bearer ${token}`), 'x.localhost'))?.cachedUntil ?? 0) >
      first!.cachedUntil!,
    20_000,
    'the refreshed answer is cached',
  );
  assert.equal(identity.checks, 2);
});
