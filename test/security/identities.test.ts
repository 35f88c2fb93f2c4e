// Wall: an identity provider's user is bound to a berth user by (issuer,
// subject) only. They never get a pre-created row (a token user, the bootstrap
// `admin`) because their name matches, nor its admin flag or namespace; admin is
// worked out again from BERTH_ADMIN_GROUPS at every sign-in; an email the
// provider has not verified is not used; a reserved slug is never given.
// Real API server, real PostgreSQL, the OIDC test issuer, cookies by hand.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestIssuer, type TestIssuer } from '../api/oidc-issuer.ts';
import { Browser, type SignInHarness, startSignInApi } from '../api/sign-in-support.ts';
import { toolDefinition, toolInstance } from '../support/fixtures.ts';

let idp: TestIssuer;
let h: SignInHarness;

before(async () => {
  idp = await startTestIssuer();
  h = await startSignInApi(idp.signInSettings(['berth-admins']));
  await h.api.store.create('ToolDefinition', toolDefinition('demo'));
});

after(async () => {
  await h?.close();
  await idp?.close();
});

interface WhoAmI {
  user: string;
  admin: boolean;
  email?: string;
  groups: string[];
}

/** Signs a fresh browser in through the identity provider with these claims. */
async function signInWith(claims: Record<string, unknown>): Promise<Browser> {
  idp.behaviour = { claims };
  const b = new Browser(h);
  const done = await b.get(await idp.authorize(b, h.origin));
  assert.equal(done.status, 302, done.text);
  assert.ok(b.jar.has('berth_session'), 'signed in');
  return b;
}

async function whoami(b: Browser): Promise<WhoAmI> {
  const r = await b.get('/apis/berth/v1alpha1/whoami');
  assert.equal(r.status, 200, r.text);
  return JSON.parse(r.text) as WhoAmI;
}

test('an identity named like a revoked bootstrap admin gets neither its row, its admin nor its namespace', async () => {
  const bootstrap = await h.api.identity.bootstrapAdmin();
  assert.ok(bootstrap, 'the bootstrap admin token was created');
  await h.api.store.create(
    'ToolInstance',
    toolInstance('admin', 'demo', 'demo', { state: 'Stopped' }),
  );
  // The admin's token is revoked: a bare `admin` row with its namespace is left.
  for (const t of await h.api.identity.listTokens('admin'))
    assert.ok(await h.api.identity.revokeToken(t.id));

  for (const claims of [
    { sub: 'idp-admin-1', email: 'admin@example.org', email_verified: true, roles: [] },
    { sub: 'idp-admin-2', preferred_username: 'Admin', roles: [] },
  ]) {
    const b = await signInWith(claims);
    const me = await whoami(b);
    assert.notEqual(me.user, 'admin', `${claims.sub} must not become the admin row`);
    assert.match(me.user, /^admin-\d+$/, 'a numbered slug instead');
    assert.equal(me.admin, false, 'not admin');
    const theirs = await b.get('/apis/berth/v1alpha1/namespaces/admin/toolinstances');
    assert.equal(theirs.status, 403, "the admin namespace's tools are not theirs");
  }
  const row = await h.api.identity.getUser('admin');
  assert.equal(row?.admin, true, 'the row itself is untouched');
});

test('a token-made user is never handed to an identity with the same slug', async () => {
  await h.api.identity.createToken({ user: 'tess' });
  const b = await signInWith({
    sub: 'idp-tess',
    email: 'tess@example.org',
    email_verified: true,
    roles: [],
  });
  assert.equal((await whoami(b)).user, 'tess-2');
});

test('removal from the admin group takes effect at the next sign-in', async () => {
  const claims = {
    sub: 'idp-boss',
    email: 'boss@example.org',
    email_verified: true,
    roles: ['analysts', 'berth-admins'],
  };
  const first = await signInWith(claims);
  assert.equal((await whoami(first)).admin, true, 'admin while in the group');
  const demoted = await signInWith({ ...claims, roles: ['analysts'] });
  const me = await whoami(demoted);
  assert.equal(me.user, 'boss', 'the same user');
  assert.equal(me.admin, false, 'not admin after the next sign-in');
  assert.deepEqual(me.groups, ['analysts']);
  // The user is not admin in the earlier session either: admin is the user's.
  assert.equal((await whoami(first)).admin, false);
  const list = await first.get('/apis/berth/v1alpha1/toolinstances');
  assert.equal(list.status, 403, 'no admin listing across namespaces');
  // Back in the group, admin again.
  assert.equal((await whoami(await signInWith(claims))).admin, true);
});

test('an email the identity provider has not verified is not used', async () => {
  for (const [sub, verified] of [
    ['idp-unverified-1', false],
    ['idp-unverified-2', undefined],
    ['idp-unverified-3', 'false'],
  ] as const) {
    const b = await signInWith({
      sub,
      email: 'victim.name@example.org',
      ...(verified === undefined ? {} : { email_verified: verified }),
      preferred_username: `mallory-${sub.slice(-1)}`,
      roles: [],
    });
    const me = await whoami(b);
    assert.equal(me.user, `mallory-${sub.slice(-1)}`, 'the slug is not from the email');
    assert.equal(me.email, undefined, 'the email is not stored');
  }
  const victim = await signInWith({
    sub: 'idp-victim',
    email: 'victim.name@example.org',
    email_verified: true,
    roles: [],
  });
  const me = await whoami(victim);
  assert.equal(me.user, 'victim-name');
  assert.equal(me.email, 'victim.name@example.org');
});

test('a reserved slug is never given', async () => {
  const given = new Set<string>();
  for (const local of ['shared', 'berth', 'default', 'kube-system', 'berth-ops', 'system']) {
    const me = await whoami(
      await signInWith({
        sub: `idp-reserved-${local}`,
        email: `${local}@example.org`,
        email_verified: true,
        roles: [],
      }),
    );
    assert.notEqual(me.user, local, `${local} is reserved`);
    assert.doesNotMatch(me.user, /^(berth|kube)-/, `${me.user} is under a reserved prefix`);
    assert.ok(!given.has(me.user));
    given.add(me.user);
  }
});
