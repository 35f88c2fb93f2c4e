// Wall: API tokens (issue 15, section 3). Every token expires (a default
// lifetime, a chosen one up to a maximum); users see and revoke their own
// tokens only; a reserved slug can never become a user through a token.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Harness, send, startHarness } from '../api/support.ts';

const TOKENS = '/apis/berth/v1alpha1/tokens';
const DAY = 86_400_000;
let h: Harness;

before(async () => {
  h = await startHarness({ tokenDefaultTtlMs: 30 * DAY, tokenMaxTtlMs: 60 * DAY });
});
after(async () => {
  await h.close();
});

test('a token gets the default lifetime, a chosen one with ttl, and no more than the maximum', async () => {
  const plain = await send(h, 'POST', TOKENS, { token: h.admin, body: { user: 'frank' } });
  assert.equal(plain.status, 201);
  const expires = Date.parse(plain.body.expiresAt) - Date.now();
  assert.ok(Math.abs(expires - 30 * DAY) < 60_000, `default lifetime, got ${expires} ms`);

  const chosen = await send(h, 'POST', TOKENS, {
    token: h.admin,
    body: { user: 'frank', ttl: '12h' },
  });
  assert.equal(chosen.status, 201);
  assert.ok(Math.abs(Date.parse(chosen.body.expiresAt) - Date.now() - 12 * 3_600_000) < 60_000);

  const tooLong = await send(h, 'POST', TOKENS, {
    token: h.admin,
    body: { user: 'frank', ttl: '61d' },
  });
  assert.equal(tooLong.status, 422);
  assert.equal(tooLong.body.kind, 'Status');
  assert.equal(tooLong.body.details.causes[0].field, 'ttl');
  assert.match(tooLong.body.details.causes[0].message, /at most 60 days/);
});

test('a reserved slug cannot become a user through a token (422 naming the field)', async () => {
  for (const name of ['shared', 'berth', 'kube-system', 'berth-proxy']) {
    const r = await send(h, 'POST', TOKENS, { token: h.admin, body: { user: name } });
    assert.equal(r.status, 422, name);
    assert.equal(r.body.details.causes[0].field, 'user');
    assert.match(r.body.message, /reserved/);
    assert.equal(await h.api.identity.getUser(name), undefined, `no user ${name}`);
  }
});

test('users list and revoke their own tokens only; admins anyone', async () => {
  const alices = await send(h, 'GET', TOKENS, { token: h.alice });
  assert.equal(alices.status, 200);
  assert.ok(alices.body.items.length > 0);
  assert.ok(alices.body.items.every((t: { user: string }) => t.user === 'alice'));
  assert.ok(!JSON.stringify(alices.body).includes(h.alice.slice(-20)), 'no secret');
  assert.equal((await send(h, 'GET', `${TOKENS}?user=bob`, { token: h.alice })).status, 403);
  assert.equal((await send(h, 'GET', `${TOKENS}?allUsers=true`, { token: h.alice })).status, 403);
  const all = await send(h, 'GET', `${TOKENS}?allUsers=true`, { token: h.admin });
  assert.ok(new Set(all.body.items.map((t: { user: string }) => t.user)).size >= 3);

  const bobs = await send(h, 'GET', TOKENS, { token: h.bob });
  const bobId = bobs.body.items[0].id as string;
  // Someone else's token is not found (its existence is not confirmed).
  assert.equal((await send(h, 'DELETE', `${TOKENS}/${bobId}`, { token: h.alice })).status, 404);
  assert.equal((await send(h, 'GET', '/apis/berth/v1alpha1/whoami', { token: h.bob })).status, 200);
  const spare = await h.api.identity.createToken({ user: 'bob' });
  assert.equal((await send(h, 'DELETE', `${TOKENS}/${spare.id}`, { token: h.bob })).status, 200);
  assert.equal((await send(h, 'DELETE', `${TOKENS}/${bobId}`, { token: h.admin })).status, 200);
  assert.equal((await send(h, 'GET', '/apis/berth/v1alpha1/whoami', { token: h.bob })).status, 401);
});
