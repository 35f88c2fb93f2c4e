// Wall: secure defaults. The development sign-in (anyone signs in as anyone) is
// refused at start unless the base domain is local, whatever NODE_ENV says; plain
// http is refused for any other base domain unless explicitly allowed; every
// `__Host-` cookie berth sets (API and proxy, OIDC state, session, handoff state,
// and their clearing) obeys the prefix's rules, which browsers enforce by
// dropping the cookie (Secure, Path=/, no Domain); under https every answer of
// the API and the proxy (a tool's included) carries HSTS.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { loadSignInConfig, startApi } from '../../api/index.ts';
import { loadProxyConfig } from '../../proxy/index.ts';
import { ConfigError } from '../../settings/index.ts';
import { startTestIssuer, type TestIssuer } from '../api/oidc-issuer.ts';
import { Browser, startSignInApi } from '../api/sign-in-support.ts';
import {
  addDefinition,
  echoHandler,
  type Harness,
  makeReady,
  startHarness,
  startUpstream,
  type Upstream,
  waitForRoute,
} from '../proxy/support.ts';
import { freshDatabase } from '../support/db.ts';

const HSTS = 'max-age=31536000; includeSubDomains';

/** RFC 6265bis 4.1.3.2: what a browser demands of a `__Host-` cookie before it keeps it. */
function assertHostPrefixRules(setCookie: string): void {
  const [pair = '', ...attrs] = setCookie.split(';').map((p) => p.trim());
  assert.ok(pair.startsWith('__Host-'), `${pair} has the __Host- prefix`);
  const named = (n: string) => attrs.filter((a) => a.split('=')[0]!.toLowerCase() === n);
  assert.equal(named('secure').length, 1, `${setCookie}: Secure`);
  assert.deepEqual(
    named('path').map((a) => a.slice(a.indexOf('=') + 1)),
    ['/'],
    `${setCookie}: Path=/`,
  );
  assert.equal(named('domain').length, 0, `${setCookie}: no Domain`);
}

const setCookiesOf = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

test('the development sign-in is refused at start unless the base domain is local, whatever NODE_ENV says', async () => {
  for (const NODE_ENV of [undefined, 'development', 'test']) {
    const env = {
      BERTH_SIGN_IN: 'dev',
      BERTH_DEV_USERS: 'alice:admin',
      BERTH_BASE_DOMAIN: 'berth.example.org',
      BERTH_PROXY_PUBLIC_SCHEME: 'https',
      ...(NODE_ENV ? { NODE_ENV } : {}),
    };
    assert.throws(
      () => loadSignInConfig({}, env),
      (err: unknown) =>
        err instanceof ConfigError &&
        /BERTH_SIGN_IN: the development sign-in is refused for the base domain berth\.example\.org/.test(
          err.message,
        ),
      `NODE_ENV=${NODE_ENV}`,
    );
  }
  for (const baseDomain of ['localhost', 'berth.localhost', '127.0.0.1', '127.1.2.3']) {
    const c = loadSignInConfig({ mode: 'dev', devUsers: ['alice'], baseDomain }, {});
    assert.equal(c.mode, 'dev', baseDomain);
  }
  // A look-alike is not local.
  for (const baseDomain of ['localhost.example.org', 'mylocalhost', '127.0.0.1.nip.io'])
    assert.throws(
      () => loadSignInConfig({ mode: 'dev', devUsers: ['alice'], baseDomain }, {}),
      /development sign-in is refused/,
      baseDomain,
    );
  // At start: the API does not come up.
  const db = await freshDatabase();
  try {
    await assert.rejects(
      startApi({
        pool: db.pool,
        port: 0,
        config: { logLevel: 'silent', maintenanceIntervalMs: 0 },
        signIn: {
          mode: 'dev',
          devUsers: ['alice:admin'],
          baseDomain: 'berth.example.org',
          publicScheme: 'https',
        },
      }),
      ConfigError,
    );
  } finally {
    await db.drop();
  }
});

test('http is refused for a base domain that is not local, unless explicitly allowed', () => {
  // (the proxy also needs its tool secret key; any will do here)
  const env = { BERTH_BASE_DOMAIN: 'berth.example.org', BERTH_TOOL_SECRET_KEY: 'ab'.repeat(32) };
  for (const load of [loadSignInConfig, loadProxyConfig] as const) {
    assert.throws(
      () => load({}, env),
      /BERTH_PROXY_PUBLIC_SCHEME: must be https for the base domain berth\.example\.org/,
    );
    assert.throws(
      () => load({}, { ...env, BERTH_PROXY_PUBLIC_SCHEME: 'http' }),
      /BERTH_ALLOW_INSECURE_HTTP/,
    );
    assert.equal(load({}, { ...env, BERTH_PROXY_PUBLIC_SCHEME: 'https' }).publicScheme, 'https');
    assert.equal(load({}, { ...env, BERTH_ALLOW_INSECURE_HTTP: 'true' }).publicScheme, 'http');
    assert.equal(
      load({}, { BERTH_TOOL_SECRET_KEY: env.BERTH_TOOL_SECRET_KEY }).publicScheme,
      'http',
      'localhost stays http by default',
    );
  }
});

describeHttps();

function describeHttps(): void {
  let idp: TestIssuer;
  let api: Awaited<ReturnType<typeof startSignInApi>>;
  let h: Harness;
  let echo: Upstream;

  before(async () => {
    idp = await startTestIssuer();
    api = await startSignInApi({ ...idp.signInSettings(), publicScheme: 'https' });
    h = await startHarness({ publicScheme: 'https', authCacheMs: 60_000 });
    echo = await startUpstream(echoHandler);
    await addDefinition(h, 'demo');
    await makeReady(h.store, 'alice', 'demo', echo.url);
    await waitForRoute(h.proxy, 'demo--alice.localhost');
  });

  after(async () => {
    await api?.close();
    await idp?.close();
    await h?.close();
    await echo?.close();
  });

  test('under https, the OIDC sign-in sets and clears __Host- cookies a browser keeps, and every API answer carries HSTS', async () => {
    idp.behaviour = {
      claims: { sub: 'https-user', email: 'hal@example.org', email_verified: true, roles: [] },
    };
    const b = new Browser(api);
    const start = await b.get('/auth/sign-in?next=%2F');
    assert.equal(start.status, 302, start.text);
    assert.equal(start.headers['strict-transport-security'], HSTS);
    assert.equal(start.setCookies.length, 1);
    assert.match(start.setCookies[0]!, /^__Host-berth_oidc=/);
    assertHostPrefixRules(start.setCookies[0]!);
    const at = await fetch(start.location!, { redirect: 'manual' });
    const back = new URL(at.headers.get('location')!);
    const done = await b.get(back.pathname + back.search);
    assert.equal(done.status, 302, done.text);
    assert.equal(done.headers['strict-transport-security'], HSTS);
    for (const c of done.setCookies) assertHostPrefixRules(c);
    assert.ok(b.jar.has('__Host-berth_session'), 'signed in');
    assert.ok(!b.jar.has('__Host-berth_oidc'), 'the state cookie is cleared');
    for (const path of ['/apis/berth/v1alpha1/whoami', '/auth/session', '/', '/no-such-path']) {
      const r = await b.get(path);
      assert.equal(r.headers['strict-transport-security'], HSTS, path);
    }
    // A watch (a stream written past the framework) too.
    const watch = await request(
      `${b.base}/apis/berth/v1alpha1/namespaces/hal/toolinstances?watch=true`,
      { headers: { host: b.hostHeader, cookie: b.cookieHeader()! } },
    );
    assert.equal(watch.statusCode, 200);
    assert.equal(watch.headers['strict-transport-security'], HSTS, 'watch');
    watch.body.destroy();
    const anonymous = await new Browser(api).get('/apis/berth/v1alpha1/whoami');
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.headers['strict-transport-security'], HSTS, 'errors too');
  });

  test("under https, the proxy's handoff cookies obey the __Host- rules and every answer carries HSTS", async () => {
    const origin = `https://localhost:${h.proxy.port}`;
    const send = async (host: string, path: string, headers: Record<string, string> = {}) => {
      const r = await request(`${h.proxy.url}${path}`, {
        method: headers['content-type'] ? 'POST' : 'GET',
        headers: { host: `${host}:${h.proxy.port}`, accept: 'text/html', ...headers },
        ...(headers['content-type']
          ? { body: new URLSearchParams({ token: h.tokens.alice!, next: '/' }).toString() }
          : {}),
      });
      const text = await r.body.text();
      assert.equal(r.headers['strict-transport-security'], HSTS, `${host}${path}`);
      return { status: r.statusCode, headers: r.headers, text };
    };
    const signIn = await send('localhost', '/_berth/sign-in', {
      origin,
      'content-type': 'application/x-www-form-urlencoded',
    });
    assert.equal(signIn.status, 303);
    const [berthCookie] = setCookiesOf(signIn.headers['set-cookie']);
    assertHostPrefixRules(berthCookie!);

    const visit = await send('demo--alice.localhost', '/lab');
    assert.equal(visit.status, 302);
    const [stateCookie] = setCookiesOf(visit.headers['set-cookie']);
    assert.match(stateCookie!, /^__Host-berth_handoff_/);
    assertHostPrefixRules(stateCookie!);
    const handoff = new URL(String(visit.headers.location));
    assert.equal(handoff.origin, origin);
    const code = await send('localhost', handoff.pathname + handoff.search, {
      cookie: berthCookie!.split(';')[0]!,
    });
    assert.equal(code.status, 302);
    const callback = new URL(String(code.headers.location));
    const cb = await send('demo--alice.localhost', callback.pathname + callback.search, {
      cookie: stateCookie!.split(';')[0]!,
    });
    assert.equal(cb.status, 302, cb.text);
    const cookies = setCookiesOf(cb.headers['set-cookie']);
    assert.equal(cookies.length, 2, 'the session, and the state cleared');
    for (const c of cookies) assertHostPrefixRules(c);
    const session = cookies.find((c) => c.startsWith('__Host-berth_session='))!;
    // The tool's own answer carries HSTS too, and none of berth's cookies reached it.
    // Twice: the second goes by the proxy's fast path (a decision remembered).
    for (let i = 0; i < 2; i++) {
      const tool = await send('demo--alice.localhost', '/lab', {
        cookie: `${session.split(';')[0]}; ${stateCookie!.split(';')[0]}`,
      });
      assert.equal(tool.status, 200);
      assert.equal(JSON.parse(tool.text).headers.cookie, undefined);
    }
    await send('nowhere.example', '/');
  });
}
