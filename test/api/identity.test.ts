import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Identity } from '../../store/index.ts';
import { freshDatabase, type TestDatabase } from '../support/db.ts';

let db: TestDatabase;
let identity: Identity;
before(async () => {
  db = await freshDatabase();
  identity = new Identity(db.pool);
});
after(async () => {
  await db.drop();
});

test('bootstrapAdmin mints exactly one admin token, even when called concurrently', async () => {
  const results = await Promise.all([
    identity.bootstrapAdmin(),
    identity.bootstrapAdmin(),
    identity.bootstrapAdmin(),
  ]);
  const minted = results.filter((t) => t !== undefined);
  assert.equal(minted.length, 1);
  const p = await identity.verifyToken(minted[0]!);
  assert.equal(p?.name, 'admin');
  assert.equal(p?.admin, true);
  assert.equal(await identity.bootstrapAdmin(), undefined);
});

test('only a hash of the secret is stored; tokens verify, expire and revoke', async () => {
  const { id, token } = await identity.createToken({ user: 'erin', description: 'laptop' });
  assert.match(token, /^berth_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
  const secret = token.split('_').slice(2).join('_');
  const { rows } = await db.pool.query('select * from api_tokens where id = $1', [id]);
  assert.ok(!JSON.stringify(rows).includes(secret));
  const p = await identity.verifyToken(token);
  assert.deepEqual(
    { name: p?.name, admin: p?.admin, groups: p?.groups },
    { name: 'erin', admin: false, groups: [] },
  );
  const listed = await identity.listTokens('erin');
  assert.equal(listed[0]?.id, id);
  assert.ok(listed[0]?.lastUsedAt, 'last use is recorded');

  assert.equal(await identity.verifyToken(`${token.slice(0, -1)}x`), undefined);
  assert.equal(await identity.verifyToken('berth_x'), undefined);

  const short = await identity.createToken({ user: 'erin', expiresInMs: 1 });
  await db.pool.query(
    "update api_tokens set expires_at = now() - interval '1 second' where id = $1",
    [short.id],
  );
  assert.equal(await identity.verifyToken(short.token), undefined);

  assert.equal(await identity.revokeToken(id), true);
  assert.equal(await identity.revokeToken(id), false);
  assert.equal(await identity.verifyToken(token), undefined);
});

test('user names must be DNS-1123 labels (they are namespaces)', async () => {
  await assert.rejects(identity.upsertUser({ name: 'Not OK' }), /Invalid|invalid/);
  await assert.rejects(identity.createToken({ user: '../admin' }), /invalid/);
  const u = await identity.upsertUser({ name: 'frank', groups: ['a'], email: 'f@example.org' });
  assert.deepEqual(u.groups, ['a']);
  const again = await identity.upsertUser({ name: 'frank', displayName: 'Frank' });
  assert.deepEqual(again.groups, ['a'], 'fields left out keep their value');
  assert.equal(again.displayName, 'Frank');
});
