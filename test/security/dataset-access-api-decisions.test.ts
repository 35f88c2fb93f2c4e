// Wall: only a Dataset's approvers (and admins) decide its AccessRequests, never
// their own; nobody but berth writes a request's status.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { adminCreate, dataset, decideAs, requestAs, userToken } from '../api/data-support.ts';
import { BASE, type Harness, send, startHarness } from '../api/support.ts';

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
  assert.equal((await requestAs(h, h.bob, 'bob', 'want-payroll', 'payroll')).status, 201);
  assert.equal((await requestAs(h, approver, 'steward', 'own', 'payroll')).status, 201);
});
after(async () => {
  await h.close();
});

async function phase(ns: string, name: string): Promise<string> {
  const r = await send(h, 'GET', `${BASE}/namespaces/${ns}/accessrequests/${name}`, {
    token: h.admin,
  });
  return r.body.status?.phase ?? 'Pending';
}

test('the requester, another user and the approver on their own request cannot approve', async () => {
  for (const [token, ns, name] of [
    [h.bob, 'bob', 'want-payroll'],
    [h.alice, 'bob', 'want-payroll'],
    [approver, 'steward', 'own'],
  ] as const) {
    const r = await decideAs(h, token, ns, name, { decision: 'Approved' });
    assert.equal(r.status, 403, r.text);
    const s = await send(h, 'PATCH', `${BASE}/namespaces/${ns}/accessrequests/${name}/status`, {
      token,
      contentType: 'application/merge-patch+json',
      body: { status: { phase: 'Approved' } },
    });
    assert.equal(s.status, 403, s.text);
    assert.equal(await phase(ns, name), 'Pending');
  }
});

test("the approver approves someone else's request", async () => {
  const r = await decideAs(h, approver, 'bob', 'want-payroll', { decision: 'Approved' });
  assert.equal(r.status, 200, r.text);
  assert.equal(await phase('bob', 'want-payroll'), 'Approved');
});
