// Wall: a user reads their own AccessRequests (and their reasons) and, as an
// approver, those for the Datasets they approve; never anyone else's, in a get,
// a list across namespaces or in a namespace, or a watch.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { adminCreate, dataset, requestAs, userToken } from '../api/data-support.ts';
import { BASE, type Harness, type Json, openWatch, send, startHarness } from '../api/support.ts';

let h: Harness;
let approver: string;

before(async () => {
  h = await startHarness();
  approver = await userToken(h, 'steward');
  await adminCreate(
    h,
    'datasets',
    dataset('payroll', { type: 'named' }, { users: ['steward'], groups: [] }),
  );
  await adminCreate(
    h,
    'datasets',
    dataset('medical', { type: 'named' }, { users: [], groups: [] }),
  );
  assert.equal((await requestAs(h, h.bob, 'bob', 'want-payroll', 'payroll')).status, 201);
  assert.equal((await requestAs(h, h.bob, 'bob', 'want-medical', 'medical')).status, 201);
});
after(async () => {
  await h.close();
});

const names = (b: Json): string[] =>
  b.items.map((r: Json) => `${r.metadata.namespace}/${r.metadata.name}`).sort();

test("another user sees none of bob's requests", async () => {
  for (const path of ['accessrequests', 'namespaces/bob/accessrequests']) {
    const r = await send(h, 'GET', `${BASE}/${path}`, { token: h.alice });
    assert.equal(r.status, 200, `${path}: ${r.text}`);
    assert.deepEqual(names(r.body), []);
  }
  for (const n of ['want-payroll', 'want-medical']) {
    const r = await send(h, 'GET', `${BASE}/namespaces/bob/accessrequests/${n}`, {
      token: h.alice,
    });
    assert.equal(r.status, 403, r.text);
  }
  const w = await openWatch(
    h,
    `${BASE}/accessrequests?watch=true&allowWatchBookmarks=true`,
    h.alice,
  );
  assert.equal(w.status, 200);
  assert.equal((await requestAs(h, h.alice, 'alice', 'mine', 'payroll')).status, 201);
  const e = await w.next();
  assert.equal(`${e.object.metadata.namespace}/${e.object.metadata.name}`, 'alice/mine');
  w.close();
});

test('the approver sees only the requests for the Dataset they approve', async () => {
  const all = await send(h, 'GET', `${BASE}/accessrequests`, { token: approver });
  assert.equal(all.status, 200, all.text);
  assert.deepEqual(names(all.body), ['alice/mine', 'bob/want-payroll']);
  const ok = await send(h, 'GET', `${BASE}/namespaces/bob/accessrequests/want-payroll`, {
    token: approver,
  });
  assert.equal(ok.status, 200, ok.text);
  const hidden = await send(h, 'GET', `${BASE}/namespaces/bob/accessrequests/want-medical`, {
    token: approver,
  });
  assert.equal(hidden.status, 403, hidden.text);
  assert.ok(!hidden.text.includes('for my analysis'));
});
