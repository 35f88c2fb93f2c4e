import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  datasetRole,
  loginRole,
  parseLoginRole,
  privateSchema,
  rolePrefix,
  userRole,
} from '../../controllers/credentials/names.ts';

test('role names fit PostgreSQL, carry the installation, and a login names its instance and attempt', () => {
  const uid = '3f2c9a4e-1b2d-4c3e-8f9a-0123456789ab';
  const login = loginRole('a-rather-long-installation-name-of-forty', uid, 123456);
  assert.ok(login.length <= 63, login);
  assert.deepEqual(parseLoginRole('a-rather-long-installation-name-of-forty', login), {
    uid,
    attempt: 123456,
  });
  assert.equal(parseLoginRole('other', login), undefined);
  assert.notEqual(rolePrefix('a'), rolePrefix('b'));
  for (const n of [
    userRole('local', 'ann'),
    datasetRole('local', 'x'.repeat(253)),
    privateSchema('local', 'ann'),
  ])
    assert.match(n, /^[a-z_][a-z0-9_]{1,62}$/);
  assert.notEqual(userRole('local', 'ann'), userRole('local', 'bob'));
  assert.equal(parseLoginRole('local', userRole('local', 'ann')), undefined);
});
