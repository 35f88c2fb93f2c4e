// Databases and Datasets through the API: everyone signed in reads them, only
// admins write them (audited), a Dataset's status.access is shown to admins and
// its approvers only, and GET datasetaccess tells each user where they stand.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  adminCreate,
  database,
  dataset,
  decideAs,
  requestAs,
  setDatasetAccess,
  userToken,
} from './data-support.ts';
import { BASE, type Harness, type Json, openWatch, send, startHarness } from './support.ts';

let h: Harness;
/** carol approves `trade`. */
let carol: string;

before(async () => {
  h = await startHarness();
  carol = await userToken(h, 'carol');
  await adminCreate(h, 'databases', database('warehouse'));
  await adminCreate(
    h,
    'datasets',
    dataset('trade', { type: 'named', users: ['bob'] }, { users: ['carol'], groups: [] }),
  );
  await setDatasetAccess(h, 'trade', ['bob', 'zoe']);
});
after(async () => {
  await h.close();
});

test('every signed-in user reads Databases and Datasets; only admins write them', async () => {
  const db = await send(h, 'GET', `${BASE}/databases/warehouse`, { token: h.alice });
  assert.equal(db.status, 200, db.text);
  assert.equal(db.body.spec.host, 'db.internal');
  assert.equal((await send(h, 'GET', `${BASE}/databases`, { token: h.bob })).body.items.length, 1);
  const ds = await send(h, 'GET', `${BASE}/datasets`, { token: h.alice });
  assert.equal(ds.status, 200, ds.text);
  assert.deepEqual(
    ds.body.items.map((d: Json) => d.metadata.name),
    ['trade'],
  );
  for (const [method, path, body] of [
    ['POST', 'databases', database('other')],
    ['POST', 'datasets', dataset('other')],
    ['DELETE', 'datasets/trade', undefined],
    ['DELETE', 'databases/warehouse', undefined],
    ['PUT', 'datasets/trade', ds.body.items[0]],
  ] as const) {
    const r = await send(h, method, `${BASE}/${path}`, { token: carol, ...(body ? { body } : {}) });
    assert.equal(r.status, 403, `${method} ${path}: ${r.text}`);
  }
  const status = await send(h, 'PATCH', `${BASE}/datasets/trade/status`, {
    token: carol,
    contentType: 'application/merge-patch+json',
    body: { status: { access: { users: ['carol'] } } },
  });
  assert.equal(status.status, 403, status.text);
});

test('status.access is removed for plain users in get, list and watch; approvers and admins see it', async () => {
  const access = async (token: string) => {
    const got = (await send(h, 'GET', `${BASE}/datasets/trade`, { token })).body;
    const listed = (await send(h, 'GET', `${BASE}/datasets`, { token })).body.items[0];
    const status = (await send(h, 'GET', `${BASE}/datasets/trade/status`, { token })).body;
    return [got.status?.access, listed.status?.access, status.status?.access];
  };
  for (const a of await access(h.alice)) assert.equal(a, undefined);
  // bob is granted but is no approver: he does not see who else is.
  for (const a of await access(h.bob)) assert.equal(a, undefined);
  for (const a of await access(carol)) assert.deepEqual(a?.users, ['bob', 'zoe']);
  for (const a of await access(h.admin)) assert.deepEqual(a?.users, ['bob', 'zoe']);

  const plain = await openWatch(h, `${BASE}/datasets?watch=true`, h.alice);
  const approver = await openWatch(h, `${BASE}/datasets?watch=true`, carol);
  const first = await plain.next();
  assert.equal(first.type, 'ADDED');
  assert.equal(first.object.status?.access, undefined);
  assert.ok(first.object.status, 'the rest of the status stays');
  assert.deepEqual((await approver.next()).object.status.access.users, ['bob', 'zoe']);
  await setDatasetAccess(h, 'trade', ['bob', 'zoe', 'yan']);
  const changed = await plain.next();
  assert.equal(changed.type, 'MODIFIED');
  assert.equal(changed.object.status?.access, undefined);
  assert.ok(!JSON.stringify(changed).includes('yan'));
  assert.deepEqual((await approver.next()).object.status.access.users, ['bob', 'zoe', 'yan']);
  plain.close();
  approver.close();
});

test('Database, Dataset and AccessRequest writes are audit entries', async () => {
  await adminCreate(h, 'datasets', dataset('audited'));
  const patched = await send(h, 'PATCH', `${BASE}/datasets/audited`, {
    token: h.admin,
    contentType: 'application/merge-patch+json',
    body: { spec: { title: 'Audited, retitled' } },
  });
  assert.equal(patched.status, 200, patched.text);
  assert.equal(
    (await send(h, 'DELETE', `${BASE}/datasets/audited`, { token: h.admin })).status,
    200,
  );
  const ds = await send(h, 'GET', `${BASE}/audit?action=dataset.`, { token: h.admin });
  assert.deepEqual(
    ds.body.items.filter((e: Json) => e.target?.name === 'audited').map((e: Json) => e.action),
    ['dataset.deleted', 'dataset.updated', 'dataset.created'],
  );
  // Status writes (the controllers') are never entries.
  assert.ok(
    !ds.body.items.some((e: Json) => e.target?.name === 'trade' && e.action === 'dataset.updated'),
  );
  const db = await send(h, 'GET', `${BASE}/audit?action=database.`, { token: h.admin });
  assert.deepEqual(
    db.body.items.map((e: Json) => [e.action, e.target?.kind, e.target?.name]),
    [['database.created', 'Database', 'warehouse']],
  );
});

test("GET datasetaccess: each user's access to every Dataset, and why", async () => {
  const frank = await userToken(h, 'frank', ['economists']);
  const gina = await userToken(h, 'gina');
  await adminCreate(
    h,
    'datasets',
    dataset('open-data', { type: 'everyone' }, { users: ['gina'], groups: [] }),
  );
  await adminCreate(
    h,
    'datasets',
    dataset('econ', { type: 'named', groups: ['economists'] }, { users: ['carol'], groups: [] }),
  );
  await adminCreate(
    h,
    'datasets',
    dataset('health', { type: 'named' }, { users: ['carol'], groups: [] }),
  );
  await adminCreate(
    h,
    'datasets',
    dataset('census', { type: 'named' }, { users: ['carol'], groups: [] }),
  );
  await adminCreate(
    h,
    'datasets',
    dataset('survey', { type: 'named' }, { users: ['carol'], groups: [] }),
  );
  // gina: health approved, census denied, survey pending.
  for (const d of ['health', 'census', 'survey'])
    assert.equal((await requestAs(h, gina, 'gina', `gina-${d}`, d)).status, 201);
  assert.equal(
    (await decideAs(h, carol, 'gina', 'gina-health', { decision: 'Approved' })).status,
    200,
  );
  assert.equal(
    (await decideAs(h, carol, 'gina', 'gina-census', { decision: 'Denied' })).status,
    200,
  );

  const summary = async (token: string) => {
    const r = await send(h, 'GET', `${BASE}/datasetaccess`, { token });
    assert.equal(r.status, 200, r.text);
    return Object.fromEntries(r.body.items.map((i: Json) => [i.dataset, i]));
  };
  const g = await summary(gina);
  assert.deepEqual(Object.keys(g), ['census', 'econ', 'health', 'open-data', 'survey', 'trade']);
  assert.deepEqual(g['open-data'], {
    dataset: 'open-data',
    title: 'The open-data dataset',
    access: 'granted',
    via: 'everyone',
    approver: true,
  });
  assert.deepEqual(
    [g.health.access, g.health.via, g.health.request],
    ['granted', 'request', 'gina-health'],
  );
  assert.deepEqual([g.census.access, g.census.request], ['denied', 'gina-census']);
  assert.deepEqual([g.survey.access, g.survey.request], ['pending', 'gina-survey']);
  assert.deepEqual([g.econ.access, g.econ.via, g.econ.approver], ['requestable', undefined, false]);
  // A denial, then a new request: the newest decides.
  assert.equal((await requestAs(h, gina, 'gina', 'gina-census-2', 'census')).status, 201);
  assert.deepEqual(
    [(await summary(gina)).census.access, (await summary(gina)).census.request],
    ['pending', 'gina-census-2'],
  );
  // Approved, then denied (revoked): denied.
  assert.equal(
    (await decideAs(h, carol, 'gina', 'gina-health', { decision: 'Denied' })).status,
    200,
  );
  assert.equal((await summary(gina)).health.access, 'denied');

  const f = await summary(frank);
  assert.deepEqual([f.econ.access, f.econ.via], ['granted', 'group']);
  const b = await summary(h.bob);
  assert.deepEqual([b.trade.access, b.trade.via], ['granted', 'user']);
  const c = await summary(carol);
  assert.deepEqual([c.trade.approver, c.trade.access], [true, 'requestable']);
  // Admins: the same shape, for themselves (approvers of everything; no access by being admin).
  const a = await summary(h.admin);
  assert.deepEqual([a.trade.approver, a.trade.access], [true, 'requestable']);
  const post = await send(h, 'POST', `${BASE}/datasetaccess`, { token: gina, body: {} });
  assert.equal(post.status, 405);
  assert.equal((await send(h, 'GET', `${BASE}/datasetaccess`)).status, 401);
});
