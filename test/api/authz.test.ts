import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { toolDefinition, toolInstance } from '../support/fixtures.ts';
import type { Json } from './support.ts';
import { BASE, type Harness, openWatch, send, startHarness } from './support.ts';

let h: Harness;
before(async () => {
  h = await startHarness();
  const admin = h.admin;
  await send(h, 'POST', `${BASE}/tooldefinitions`, { token: admin, body: toolDefinition('open') });
  await send(h, 'POST', `${BASE}/tooldefinitions`, {
    token: admin,
    body: toolDefinition('for-analysts', { access: { groups: ['analysts'] } }),
  });
  await send(h, 'POST', `${BASE}/tooldefinitions`, {
    token: admin,
    body: toolDefinition('for-bob', { access: { users: ['bob'] } }),
  });
  for (const [ns, name] of [
    ['alice', 'open'],
    ['bob', 'open'],
  ] as const) {
    const r = await send(h, 'POST', `${BASE}/namespaces/${ns}/toolinstances`, {
      token: admin,
      body: toolInstance(ns, name),
    });
    assert.equal(r.status, 201, r.text);
  }
});
after(async () => {
  await h.close();
});

test('401 without a token, with a malformed or unknown token, and with a revoked token', async () => {
  const none = await send(h, 'GET', `${BASE}/tooldefinitions`);
  assert.equal(none.status, 401);
  assert.equal(none.body.reason, 'Unauthorized');
  assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
  const garbage = await send(h, 'GET', `${BASE}/tooldefinitions`, { token: 'not-a-token' });
  assert.equal(garbage.status, 401);
  const wrongSecret = h.alice.slice(0, -4) + 'AAAA';
  assert.equal(
    (await send(h, 'GET', `${BASE}/tooldefinitions`, { token: wrongSecret })).status,
    401,
  );
  const basic = await send(h, 'GET', `${BASE}/tooldefinitions`, {
    headers: { authorization: 'Basic YTpi' },
  });
  assert.equal(basic.status, 401);

  const minted = await send(h, 'POST', `${BASE}/tokens`, {
    token: h.admin,
    body: { user: 'carol' },
  });
  assert.equal(minted.status, 201, minted.text);
  assert.equal((await send(h, 'GET', `${BASE}/whoami`, { token: minted.body.token })).status, 200);
  const revoked = await send(h, 'DELETE', `${BASE}/tokens/${minted.body.id}`, { token: h.admin });
  assert.equal(revoked.status, 200, revoked.text);
  const after = await send(h, 'GET', `${BASE}/whoami`, { token: minted.body.token });
  assert.equal(after.status, 401);
  // The token never appears in an error message.
  assert.ok(!after.text.includes(minted.body.token));
});

test('health, readiness and metrics are open; everything else needs a token', async () => {
  assert.equal((await send(h, 'GET', '/healthz')).status, 200);
  assert.equal((await send(h, 'GET', '/readyz')).status, 200);
  assert.equal((await send(h, 'GET', '/metrics')).status, 200);
  assert.equal((await send(h, 'GET', '/apis')).status, 401);
});

test('403: another namespace, ToolDefinition writes, all namespaces, status writes, a ToolDefinition not theirs', async () => {
  const other = await send(h, 'GET', `${BASE}/namespaces/bob/toolinstances/open`, {
    token: h.alice,
  });
  assert.equal(other.status, 403);
  assert.equal(other.body.reason, 'Forbidden');
  assert.match(
    other.body.message,
    /user "alice" cannot get toolinstances "open" in namespace "bob"/,
  );

  const create = await send(h, 'POST', `${BASE}/namespaces/bob/toolinstances`, {
    token: h.alice,
    body: toolInstance('bob', 'x', 'open'),
  });
  assert.equal(create.status, 403);
  assert.match(create.body.message, /user "alice" cannot create toolinstances in namespace "bob"/);

  const td = await send(h, 'POST', `${BASE}/tooldefinitions`, {
    token: h.alice,
    body: toolDefinition('mine'),
  });
  assert.equal(td.status, 403);
  assert.match(td.body.message, /user "alice" cannot create tooldefinitions/);

  const all = await send(h, 'GET', `${BASE}/toolinstances`, { token: h.alice });
  assert.equal(all.status, 403);
  assert.match(all.body.message, /in all namespaces/);

  const status = await send(h, 'PATCH', `${BASE}/namespaces/alice/toolinstances/open/status`, {
    token: h.alice,
    body: { status: { phase: 'Ready' } },
    contentType: 'application/merge-patch+json',
  });
  assert.equal(status.status, 403);

  const notTheirs = await send(h, 'GET', `${BASE}/tooldefinitions/for-bob`, { token: h.alice });
  assert.equal(notTheirs.status, 403);
  assert.match(notTheirs.body.message, /for-bob/);

  const tokens = await send(h, 'POST', `${BASE}/tokens`, {
    token: h.alice,
    body: { user: 'alice', admin: true },
  });
  assert.equal(tokens.status, 403);
  // Their own tokens, yes; someone else's or everyone's, no.
  assert.equal((await send(h, 'GET', `${BASE}/tokens`, { token: h.alice })).status, 200);
  assert.equal(
    (await send(h, 'GET', `${BASE}/tokens?allUsers=true`, { token: h.alice })).status,
    403,
  );

  const launchForbidden = await send(h, 'POST', `${BASE}/namespaces/alice/toolinstances`, {
    token: h.alice,
    body: toolInstance('alice', 'for-bob'),
  });
  assert.equal(launchForbidden.status, 403, launchForbidden.text);
  const launchMissing = await send(h, 'POST', `${BASE}/namespaces/alice/toolinstances`, {
    token: h.alice,
    body: toolInstance('alice', 'nope'),
  });
  assert.equal(launchMissing.status, 422, launchMissing.text);
  assert.equal(launchMissing.body.details.causes[0].field, 'spec.toolRef');
});

test('users read the ToolDefinitions they may use: by user, by group, or open to all', async () => {
  const alice = await send(h, 'GET', `${BASE}/tooldefinitions`, { token: h.alice });
  assert.deepEqual(alice.body.items.map((o: Json) => o.metadata.name).sort(), [
    'for-analysts',
    'open',
  ]);
  const bob = await send(h, 'GET', `${BASE}/tooldefinitions`, { token: h.bob });
  assert.deepEqual(bob.body.items.map((o: Json) => o.metadata.name).sort(), ['for-bob', 'open']);
  const w = await openWatch(h, `${BASE}/tooldefinitions?watch=true`, h.alice);
  try {
    const seen = [
      (await w.next()).object.metadata.name,
      (await w.next()).object.metadata.name,
    ].sort();
    assert.deepEqual(seen, ['for-analysts', 'open']);
    await send(h, 'POST', `${BASE}/tooldefinitions`, {
      token: h.admin,
      body: toolDefinition('hidden', { access: { users: ['bob'] } }),
    });
    await send(h, 'POST', `${BASE}/tooldefinitions`, {
      token: h.admin,
      body: toolDefinition('visible'),
    });
    const next = await w.next();
    assert.equal(next.object.metadata.name, 'visible');
  } finally {
    w.close();
  }
});

test('namespace isolation: a user works in their own namespace and sees nobody else’s instances', async () => {
  const mine = await send(h, 'POST', `${BASE}/namespaces/alice/toolinstances`, {
    token: h.alice,
    body: toolInstance('alice', 'for-analysts'),
  });
  assert.equal(mine.status, 201, mine.text);
  const list = await send(h, 'GET', `${BASE}/namespaces/alice/toolinstances`, { token: h.alice });
  assert.equal(list.status, 200);
  assert.ok(list.body.items.every((o: Json) => o.metadata.namespace === 'alice'));
  assert.equal(
    (await send(h, 'GET', `${BASE}/namespaces/bob/toolinstances`, { token: h.alice })).status,
    403,
  );
  const watchOther = await send(h, 'GET', `${BASE}/namespaces/bob/toolinstances?watch=true`, {
    token: h.alice,
  });
  assert.equal(watchOther.status, 403);
  const w = await openWatch(h, `${BASE}/namespaces/alice/toolinstances?watch=true`, h.alice);
  try {
    const names = new Set<string>();
    names.add((await w.next()).object.metadata.namespace);
    names.add((await w.next()).object.metadata.namespace);
    await send(h, 'PATCH', `${BASE}/namespaces/bob/toolinstances/open`, {
      token: h.admin,
      body: { spec: { state: 'Stopped' } },
      contentType: 'application/merge-patch+json',
    });
    await send(h, 'PATCH', `${BASE}/namespaces/alice/toolinstances/open`, {
      token: h.alice,
      body: { spec: { state: 'Stopped' } },
      contentType: 'application/merge-patch+json',
    });
    const ev = await w.next();
    assert.equal(ev.type, 'MODIFIED');
    assert.equal(ev.object.metadata.namespace, 'alice');
    assert.deepEqual([...names], ['alice']);
  } finally {
    w.close();
  }
  const del = await send(h, 'DELETE', `${BASE}/namespaces/alice/toolinstances/for-analysts`, {
    token: h.alice,
  });
  assert.equal(del.status, 200, del.text);
});

test('whoami, token create and list (admin), metrics with route templates', async () => {
  const me = await send(h, 'GET', `${BASE}/whoami`, { token: h.alice });
  assert.deepEqual(me.body, {
    user: 'alice',
    namespace: 'alice',
    admin: false,
    groups: ['analysts'],
  });
  const admin = await send(h, 'GET', `${BASE}/whoami`, { token: h.admin });
  assert.equal(admin.body.admin, true);
  const t = await send(h, 'POST', `${BASE}/tokens`, {
    token: h.admin,
    body: { user: 'dave', admin: false, description: 'ci', expiresIn: '1h' },
  });
  assert.equal(t.status, 201, t.text);
  assert.match(t.body.token, /^berth_[0-9a-f]{16}_/);
  const list = await send(h, 'GET', `${BASE}/tokens?user=dave`, { token: h.admin });
  assert.equal(list.status, 200);
  const dave = list.body.items.find((i: Json) => i.id === t.body.id);
  assert.equal(dave.user, 'dave');
  assert.ok(dave.expiresAt);
  // The whole secret part (it may itself hold '_', so not split('_')[2], whose
  // fragment could be a few characters that turn up in the list by chance).
  const secret = t.body.token.slice(`berth_${t.body.id}_`.length);
  assert.equal(secret.length, 43);
  assert.ok(!list.text.includes(secret), 'the secret is never listed');
  const metrics = await fetch(`${h.url}/metrics`).then((r) => r.text());
  assert.match(
    metrics,
    /berth_api_requests_total\{method="GET",route="\/apis\/berth\/v1alpha1\/namespaces\/:namespace\/toolinstances\/:name",code="403"\} \d+/,
  );
  assert.match(metrics, /berth_api_request_duration_seconds_bucket/);
  assert.ok(!metrics.includes('/namespaces/bob/'), 'raw paths never become labels');
});

test('discovery lists every kind with scope, short names, verbs and printer columns', async () => {
  const groups = await send(h, 'GET', '/apis', { token: h.alice });
  assert.equal(groups.body.kind, 'APIGroupList');
  assert.equal(groups.body.groups[0].preferredVersion.groupVersion, 'berth/v1alpha1');
  const res = await send(h, 'GET', BASE, { token: h.alice });
  assert.equal(res.body.kind, 'APIResourceList');
  const byName = Object.fromEntries(res.body.resources.map((r: Json) => [r.name, r]));
  assert.equal(byName.tooldefinitions.namespaced, false);
  assert.deepEqual(byName.tooldefinitions.shortNames, ['td']);
  assert.equal(byName.toolinstances.namespaced, true);
  assert.ok(byName['toolinstances/status']);
  assert.ok(byName.events);
  assert.ok(byName.toolinstances.printerColumns.some((c: Json) => c.name === 'PHASE'));
  assert.ok(byName.toolinstances.verbs.includes('watch'));
});
