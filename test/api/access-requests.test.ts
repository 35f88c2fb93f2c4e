// AccessRequests through the API: a user's own requests, admission, the fixed
// spec, approvers' view across namespaces (list, label selector, watch) and the
// approval subresource with its audit entries.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { adminCreate, database, dataset, decideAs, requestAs, userToken } from './data-support.ts';
import { BASE, type Harness, type Json, openWatch, send, startHarness } from './support.ts';

let h: Harness;
/** carol approves `trade` by name; dave approves `trade` and `health` through the `stewards` group. */
let carol: string;
let dave: string;

before(async () => {
  h = await startHarness();
  carol = await userToken(h, 'carol');
  dave = await userToken(h, 'dave', ['stewards']);
  await adminCreate(h, 'databases', database('warehouse'));
  await adminCreate(
    h,
    'datasets',
    dataset('trade', { type: 'named' }, { users: ['carol'], groups: ['stewards'] }),
  );
  await adminCreate(
    h,
    'datasets',
    dataset('health', { type: 'named' }, { users: [], groups: ['stewards'] }),
  );
  await adminCreate(h, 'datasets', dataset('open-data', { type: 'everyone' }));
  await adminCreate(
    h,
    'datasets',
    dataset('for-analysts', { type: 'named', groups: ['analysts'] }),
  );
});
after(async () => {
  await h.close();
});

test('a user creates, reads, lists and deletes requests in their own namespace; the API labels them', async () => {
  const made = await requestAs(h, h.bob, 'bob', 'bob-health', 'health');
  assert.equal(made.status, 201, made.text);
  assert.equal(made.body.metadata.labels['berth.io/dataset'], 'health');
  assert.equal(made.body.status?.phase ?? 'Pending', 'Pending');
  const got = await send(h, 'GET', `${BASE}/namespaces/bob/accessrequests/bob-health`, {
    token: h.bob,
  });
  assert.equal(got.status, 200);
  assert.equal(got.body.spec.reason, 'for my analysis');
  const listed = await send(h, 'GET', `${BASE}/namespaces/bob/accessrequests`, { token: h.bob });
  assert.deepEqual(
    listed.body.items.map((r: Json) => r.metadata.name),
    ['bob-health'],
  );
  const gone = await send(h, 'DELETE', `${BASE}/namespaces/bob/accessrequests/bob-health`, {
    token: h.bob,
  });
  assert.equal(gone.status, 200, gone.text);
  const after = await send(h, 'GET', `${BASE}/namespaces/bob/accessrequests`, { token: h.bob });
  assert.equal(after.body.items.length, 0);
});

test("nobody creates a request in another user's namespace", async () => {
  const r = await requestAs(h, h.bob, 'alice', 'for-alice', 'trade');
  assert.equal(r.status, 403);
  assert.match(r.body.message, /user "bob" cannot create accessrequests in namespace "alice"/);
});

test('admission: the Dataset must exist, not be readable already, and have no Pending request of theirs', async () => {
  const missing = await requestAs(h, h.bob, 'bob', 'nope', 'no-such-dataset');
  assert.equal(missing.status, 422, missing.text);
  assert.equal(missing.body.details.causes[0].field, 'spec.dataset');
  assert.match(missing.body.message, /Dataset "no-such-dataset" does not exist/);

  const open = await requestAs(h, h.bob, 'bob', 'open', 'open-data');
  assert.equal(open.status, 422, open.text);
  assert.match(open.body.message, /you can already read Dataset "open-data"/);
  const group = await requestAs(h, h.alice, 'alice', 'grp', 'for-analysts');
  assert.equal(group.status, 422, group.text);
  assert.match(group.body.message, /can already read Dataset "for-analysts"/);

  assert.equal((await requestAs(h, h.bob, 'bob', 'trade-1', 'trade')).status, 201);
  const again = await requestAs(h, h.bob, 'bob', 'trade-2', 'trade');
  assert.equal(again.status, 409, again.text);
  assert.match(
    again.body.message,
    /a Pending request for Dataset "trade" already exists: accessrequests "trade-1"/,
  );

  // Once decided (denied), asking again is a new request.
  assert.equal((await decideAs(h, carol, 'bob', 'trade-1', { decision: 'Denied' })).status, 200);
  assert.equal((await requestAs(h, h.bob, 'bob', 'trade-2', 'trade')).status, 201);
  // Once approved, there is nothing left to ask for.
  assert.equal((await decideAs(h, carol, 'bob', 'trade-2', { decision: 'Approved' })).status, 200);
  const granted = await requestAs(h, h.bob, 'bob', 'trade-3', 'trade');
  assert.equal(granted.status, 422, granted.text);
  for (const n of ['trade-1', 'trade-2'])
    await send(h, 'DELETE', `${BASE}/namespaces/bob/accessrequests/${n}`, { token: h.bob });
});

test("a request's spec is fixed once written, and its dataset label stays spec.dataset", async () => {
  assert.equal((await requestAs(h, h.alice, 'alice', 'fixed', 'trade')).status, 201);
  const path = `${BASE}/namespaces/alice/accessrequests/fixed`;
  const merge = 'application/merge-patch+json';
  const reason = await send(h, 'PATCH', path, {
    token: h.alice,
    contentType: merge,
    body: { spec: { reason: 'changed' } },
  });
  assert.equal(reason.status, 422, reason.text);
  assert.equal(reason.body.details.causes[0].field, 'spec.reason');
  assert.match(reason.body.message, /fixed once written; create a new request/);
  const current = (await send(h, 'GET', path, { token: h.alice })).body;
  const moved = await send(h, 'PUT', path, {
    token: h.alice,
    body: { ...current, spec: { ...current.spec, dataset: 'health' } },
  });
  assert.equal(moved.status, 422, moved.text);
  assert.equal(moved.body.details.causes[0].field, 'spec.dataset');
  // Admins may not change it either.
  const byAdmin = await send(h, 'PATCH', path, {
    token: h.admin,
    contentType: merge,
    body: { spec: { dataset: 'health' } },
  });
  assert.equal(byAdmin.status, 422, byAdmin.text);
  const label = await send(h, 'PATCH', path, {
    token: h.alice,
    contentType: merge,
    body: { metadata: { labels: { 'berth.io/dataset': 'health' } } },
  });
  assert.equal(label.status, 422, label.text);
  assert.equal(label.body.details.causes[0].field, 'metadata.labels["berth.io/dataset"]');
  // Other labels are the requester's to set.
  const other = await send(h, 'PATCH', path, {
    token: h.alice,
    contentType: merge,
    body: { metadata: { labels: { team: 'x' } } },
  });
  assert.equal(other.status, 200, other.text);
  const stored = (await send(h, 'GET', path, { token: h.alice })).body;
  assert.deepEqual(stored.spec, { dataset: 'trade', reason: 'for my analysis' });
  assert.equal(stored.metadata.labels['berth.io/dataset'], 'trade');
  await send(h, 'DELETE', path, { token: h.alice });
});

test('bad bodies are 422s naming the field', async () => {
  const noReason = await send(h, 'POST', `${BASE}/namespaces/bob/accessrequests`, {
    token: h.bob,
    body: { metadata: { name: 'x' }, spec: { dataset: 'trade', reason: '  ' } },
  });
  assert.equal(noReason.status, 422, noReason.text);
  assert.ok(noReason.body.details.causes.some((c: Json) => c.field === 'spec.reason'));
  assert.equal((await requestAs(h, h.bob, 'bob', 'bad-bodies', 'trade')).status, 201);
  const bad = await decideAs(h, carol, 'bob', 'bad-bodies', { decision: 'Maybe', extra: 1 });
  assert.equal(bad.status, 422, bad.text);
  const fields = bad.body.details.causes.map((c: Json) => c.field);
  assert.ok(fields.includes('decision'), fields.join());
  const long = await decideAs(h, carol, 'bob', 'bad-bodies', {
    decision: 'Denied',
    comment: 'x'.repeat(2001),
  });
  assert.equal(long.status, 422, long.text);
  assert.equal(long.body.details.causes[0].field, 'comment');
  const get = await send(h, 'GET', `${BASE}/namespaces/bob/accessrequests/bad-bodies/approval`, {
    token: carol,
  });
  assert.equal(get.status, 405);
  assert.equal(get.headers.get('allow'), 'POST');
  const missing = await decideAs(h, carol, 'bob', 'no-such-request', { decision: 'Approved' });
  assert.equal(missing.status, 404, missing.text);
  await send(h, 'DELETE', `${BASE}/namespaces/bob/accessrequests/bad-bodies`, { token: h.bob });
});

test('only berth writes status: a requester cannot approve themselves through /status', async () => {
  assert.equal((await requestAs(h, h.bob, 'bob', 'self-status', 'trade')).status, 201);
  const r = await send(h, 'PATCH', `${BASE}/namespaces/bob/accessrequests/self-status/status`, {
    token: h.bob,
    contentType: 'application/merge-patch+json',
    body: { status: { phase: 'Approved' } },
  });
  assert.equal(r.status, 403);
  const byApprover = await send(
    h,
    'PATCH',
    `${BASE}/namespaces/bob/accessrequests/self-status/status`,
    {
      token: carol,
      contentType: 'application/merge-patch+json',
      body: { status: { phase: 'Approved' } },
    },
  );
  assert.equal(byApprover.status, 403);
  const stored = await send(h, 'GET', `${BASE}/namespaces/bob/accessrequests/self-status`, {
    token: h.bob,
  });
  assert.equal(stored.body.status?.phase ?? 'Pending', 'Pending');
  await send(h, 'DELETE', `${BASE}/namespaces/bob/accessrequests/self-status`, { token: h.bob });
});

test('approval: approvers decide, never their own request; others cannot; every decision is audited', async () => {
  assert.equal((await requestAs(h, h.bob, 'bob', 'bob-trade', 'trade')).status, 201);
  assert.equal((await requestAs(h, carol, 'carol', 'carol-trade', 'trade')).status, 201);

  const own = await decideAs(h, carol, 'carol', 'carol-trade', { decision: 'Approved' });
  assert.equal(own.status, 403, own.text);
  assert.match(own.body.message, /you cannot decide your own request/);
  const stranger = await decideAs(h, h.alice, 'bob', 'bob-trade', { decision: 'Approved' });
  assert.equal(stranger.status, 403, stranger.text);
  assert.match(stranger.body.message, /not an approver/);
  const self = await decideAs(h, h.bob, 'bob', 'bob-trade', { decision: 'Approved' });
  assert.equal(self.status, 403, self.text);

  const approved = await decideAs(h, carol, 'bob', 'bob-trade', {
    decision: 'Approved',
    comment: 'ok for Q3',
  });
  assert.equal(approved.status, 200, approved.text);
  assert.equal(approved.body.status.phase, 'Approved');
  assert.equal(approved.body.status.decidedBy, 'carol');
  assert.equal(approved.body.status.comment, 'ok for Q3');
  assert.match(approved.body.status.decidedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  // dave approves through the stewards group; a later decision replaces the first (a revoke).
  const revoked = await decideAs(h, dave, 'bob', 'bob-trade', { decision: 'Denied' });
  assert.equal(revoked.status, 200, revoked.text);
  assert.equal(revoked.body.status.phase, 'Denied');
  assert.equal(revoked.body.status.decidedBy, 'dave');
  assert.equal(revoked.body.status.comment, undefined);
  // An admin decides anyone's, also a would-be approver's own.
  const byAdmin = await decideAs(h, h.admin, 'carol', 'carol-trade', { decision: 'Approved' });
  assert.equal(byAdmin.status, 200, byAdmin.text);

  const audit = await send(h, 'GET', `${BASE}/audit?action=accessrequest.&user=bob`, {
    token: h.admin,
  });
  assert.equal(audit.status, 200, audit.text);
  const entries = audit.body.items
    .filter((e: Json) => e.target?.name === 'bob-trade')
    .map((e: Json) => [e.action, e.actor, e.target?.name, e.detail.dataset]);
  assert.deepEqual(entries, [
    ['accessrequest.denied', 'dave', 'bob-trade', 'trade'],
    ['accessrequest.approved', 'carol', 'bob-trade', 'trade'],
    ['accessrequest.created', 'bob', 'bob-trade', 'trade'],
  ]);
  // The reason (the requester's free text) is not in the audit log; the comment only by its length.
  assert.ok(!audit.text.includes('for my analysis'));
  assert.ok(!audit.text.includes('ok for Q3'));
  const refused = await send(h, 'GET', `${BASE}/audit?action=accessrequest.&user=carol`, {
    token: h.admin,
  });
  assert.deepEqual(
    refused.body.items
      .filter((e: Json) => e.target?.name === 'carol-trade')
      .map((e: Json) => e.action),
    ['accessrequest.approved', 'accessrequest.created'],
  );
  for (const [ns, n] of [
    ['bob', 'bob-trade'],
    ['carol', 'carol-trade'],
  ] as const)
    await send(h, 'DELETE', `${BASE}/namespaces/${ns}/accessrequests/${n}`, { token: h.admin });
  const deleted = await send(h, 'GET', `${BASE}/audit?action=accessrequest.deleted`, {
    token: h.admin,
  });
  assert.ok(
    deleted.body.items.some((e: Json) => e.target?.name === 'bob-trade' && e.actor === 'admin'),
  );
});

test('approvers see requests for their datasets in every namespace, and only those', async () => {
  assert.equal((await requestAs(h, h.bob, 'bob', 'v-trade', 'trade')).status, 201);
  assert.equal((await requestAs(h, h.bob, 'bob', 'v-health', 'health')).status, 201);
  assert.equal((await requestAs(h, h.alice, 'alice', 'v-trade', 'trade')).status, 201);
  const names = (b: Json) =>
    b.items.map((r: Json) => `${r.metadata.namespace}/${r.metadata.name}`).sort();

  const carolAll = await send(h, 'GET', `${BASE}/accessrequests`, { token: carol });
  assert.equal(carolAll.status, 200, carolAll.text);
  assert.deepEqual(names(carolAll.body), ['alice/v-trade', 'bob/v-trade']);
  const daveAll = await send(h, 'GET', `${BASE}/accessrequests`, { token: dave });
  assert.deepEqual(names(daveAll.body), ['alice/v-trade', 'bob/v-health', 'bob/v-trade']);
  const carolBob = await send(h, 'GET', `${BASE}/namespaces/bob/accessrequests`, { token: carol });
  assert.deepEqual(names(carolBob.body), ['bob/v-trade']);
  const selected = await send(
    h,
    'GET',
    `${BASE}/accessrequests?labelSelector=berth.io/dataset%3Dhealth`,
    { token: dave },
  );
  assert.deepEqual(names(selected.body), ['bob/v-health']);
  // A plain user's cross-namespace list is their own requests.
  const aliceAll = await send(h, 'GET', `${BASE}/accessrequests`, { token: h.alice });
  assert.deepEqual(names(aliceAll.body), ['alice/v-trade']);

  const seen = await send(h, 'GET', `${BASE}/namespaces/bob/accessrequests/v-trade`, {
    token: carol,
  });
  assert.equal(seen.status, 200, seen.text);
  const hidden = await send(h, 'GET', `${BASE}/namespaces/bob/accessrequests/v-health`, {
    token: carol,
  });
  assert.equal(hidden.status, 403, hidden.text);
  // Missing and hidden answer alike.
  const nothing = await send(h, 'GET', `${BASE}/namespaces/bob/accessrequests/nothing-here`, {
    token: carol,
  });
  assert.equal(nothing.status, 403, nothing.text);
  const byAlice = await send(h, 'GET', `${BASE}/namespaces/bob/accessrequests/v-trade`, {
    token: h.alice,
  });
  assert.equal(byAlice.status, 403, byAlice.text);
  // Approvers read; they do not write others' requests.
  const del = await send(h, 'DELETE', `${BASE}/namespaces/bob/accessrequests/v-trade`, {
    token: carol,
  });
  assert.equal(del.status, 403, del.text);

  const w = await openWatch(h, `${BASE}/accessrequests?watch=true`, carol);
  assert.equal(w.status, 200);
  const initial = [await w.next(), await w.next()]
    .map((e: Json) => `${e.type} ${e.object.metadata.namespace}/${e.object.metadata.name}`)
    .sort();
  assert.deepEqual(initial, ['ADDED alice/v-trade', 'ADDED bob/v-trade']);
  // A request for health (not carol's) passes unseen; the next one for trade arrives.
  const erin = await userToken(h, 'erin');
  assert.equal((await requestAs(h, erin, 'erin', 'w-health', 'health')).status, 201);
  assert.equal((await requestAs(h, erin, 'erin', 'w-trade', 'trade')).status, 201);
  const next = await w.next();
  assert.equal(
    `${next.type} ${next.object.metadata.namespace}/${next.object.metadata.name}`,
    'ADDED erin/w-trade',
  );
  w.close();
});

test('AccessRequests appear in discovery with their approval subresource', async () => {
  const res = await send(h, 'GET', BASE, { token: h.alice });
  const byName = Object.fromEntries(res.body.resources.map((r: Json) => [r.name, r]));
  assert.equal(byName.accessrequests.namespaced, true);
  assert.deepEqual(byName.accessrequests.shortNames, ['ar']);
  assert.ok(byName['accessrequests/status']);
  assert.deepEqual(byName['accessrequests/approval'].verbs, ['create']);
  assert.equal(byName.datasets.namespaced, false);
  assert.equal(byName.databases.namespaced, false);
});
