// One-time secrets in query strings (the OIDC callback's code and state) never reach
// a log line: the request serializer keeps the parameter names, not the values.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withoutSecretQuery } from '../../api/server.ts';

test('code, state and tokens in a query string are redacted; other parameters stay', () => {
  assert.equal(
    withoutSecretQuery('/auth/callback?code=abc123&state=xyz&iss=https%3A%2F%2Fidp'),
    '/auth/callback?code=[redacted]&state=[redacted]&iss=https%3A%2F%2Fidp',
  );
  assert.equal(withoutSecretQuery('/x?Token=t0p'), '/x?Token=[redacted]');
  assert.equal(
    withoutSecretQuery('/apis/berth/v1alpha1/toolinstances?watch=true&resourceVersion=5'),
    '/apis/berth/v1alpha1/toolinstances?watch=true&resourceVersion=5',
  );
  assert.equal(withoutSecretQuery('/healthz'), '/healthz');
});
