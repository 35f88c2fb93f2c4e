// Wall: who has access to a Dataset (its status.access) is shown only to admins
// and that Dataset's approvers, never to other users, in a get, a list, the
// status subresource or a watch; the catalogue itself stays readable by everyone.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { adminCreate, dataset, setDatasetAccess, userToken } from '../api/data-support.ts';
import { BASE, type Harness, openWatch, send, startHarness } from '../api/support.ts';

let h: Harness;
let approver: string;

before(async () => {
  h = await startHarness();
  approver = await userToken(h, 'steward');
  await adminCreate(
    h,
    'datasets',
    dataset('payroll', { type: 'named', users: ['bob'] }, { users: ['steward'], groups: [] }),
  );
  await setDatasetAccess(h, 'payroll', ['bob', 'secret-holder']);
});
after(async () => {
  await h.close();
});

test('a user who is not an approver reads the Dataset but never who has access', async () => {
  for (const token of [h.alice, h.bob]) {
    for (const path of ['datasets/payroll', 'datasets', 'datasets/payroll/status']) {
      const r = await send(h, 'GET', `${BASE}/${path}`, { token });
      assert.equal(r.status, 200, `${path}: ${r.text}`);
      assert.ok(!r.text.includes('secret-holder'), `${path} shows who has access`);
    }
    const w = await openWatch(h, `${BASE}/datasets?watch=true`, token);
    const e = await w.next();
    assert.equal(e.object.metadata.name, 'payroll');
    assert.ok(!JSON.stringify(e).includes('secret-holder'));
    w.close();
  }
});

test('the approver and admins see who has access', async () => {
  for (const token of [approver, h.admin]) {
    const r = await send(h, 'GET', `${BASE}/datasets/payroll`, { token });
    assert.deepEqual(r.body.status.access.users, ['bob', 'secret-holder']);
  }
});
