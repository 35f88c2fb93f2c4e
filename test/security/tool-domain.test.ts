// A separate registrable domain for tool hosts (BERTH_TOOL_DOMAIN): berth at
// `localhost`, tools at `<tool>--<user>.tools.test`, so that a tool's page can
// never read or set cookies for berth's host. The proxy routes tool hosts under
// the tool domain only, the handoff crosses the two, berth's own host is not
// served under the tool domain, and the API builds tool links under it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type RunningApi, startApi } from '../../api/index.ts';
import { loadReconcilerConfig } from '../../controllers/index.ts';
import { type RunningProxy, startProxy } from '../../proxy/index.ts';
import {
  addDefinition,
  bearer,
  echoHandler,
  type Harness,
  makeReady,
  startHarness,
  startUpstream,
  type Upstream,
  waitForRoute,
} from '../proxy/support.ts';
import { MiniBrowser, navigation, send, sessionCookie } from './support.ts';

let h: Harness;
let proxy: RunningProxy;
let echo: Upstream;
let api: RunningApi;
const TOOL = 'demo--alice.tools.test';

before(async () => {
  h = await startHarness();
  echo = await startUpstream(echoHandler);
  api = await startApi({
    pool: h.db.pool,
    port: 0,
    config: { logLevel: 'silent', maintenanceIntervalMs: 0 },
    signIn: { mode: 'dev', devUsers: ['alice'], baseDomain: 'localhost', toolDomain: 'tools.test' },
  });
  proxy = await startProxy({
    pool: h.db.pool,
    store: h.store,
    port: 0,
    config: { baseDomain: 'localhost', toolDomain: 'tools.test', apiUpstream: api.url },
  });
  await addDefinition(h, 'demo', {}, proxy);
  await makeReady(h.store, 'alice', 'demo', echo.url);
  await waitForRoute(proxy, TOOL);
});

after(async () => {
  await proxy.close();
  await api.close();
  await echo.close();
  await h.close();
});

test('tool hosts are routed under the tool domain only; berth is not served there', async () => {
  const ok = await send(proxy, TOOL, '/x', { headers: bearer(h.tokens.alice) });
  assert.equal(ok.status, 200);
  assert.equal(JSON.parse(ok.text).url, '/x');
  assert.equal(proxy.routes.get('demo--alice.localhost'), undefined);
  // The same tool under berth's domain is nothing.
  const under = await send(proxy, 'demo--alice.localhost', '/', {
    headers: bearer(h.tokens.alice),
  });
  assert.equal(under.status, 404);
  // berth's own pages live on berth's host alone: not at the tool domain, not on a tool host.
  for (const [host, path] of [
    ['tools.test', '/'],
    ['tools.test', '/_berth/sign-in'],
    ['tools.test', '/auth/sign-in'],
  ] as const) {
    const r = await send(proxy, host, path);
    assert.equal(r.status, 404, `${host}${path}`);
  }
  for (const path of ['/_berth/handoff?to=x', '/_berth/sign-in', '/_berth/sign-out']) {
    const r = await send(proxy, TOOL, path, { headers: bearer(h.tokens.alice) });
    assert.equal(r.status, 404, `${TOOL}${path}`);
  }
  // A handoff to a host that is not a tool host of this berth is refused.
  const berthCookie = await sessionCookie(h.sessions, 'alice', 'localhost');
  const wrong = await send(proxy, 'localhost', '/_berth/handoff?to=demo--alice.localhost&path=/', {
    headers: { cookie: berthCookie },
  });
  assert.equal(wrong.status, 400);
});

test('the handoff crosses from the tool domain to berth and back: a host-only cookie there, the tool opens', async () => {
  const b = new MiniBrowser(proxy);
  b.cookiesFor('localhost').set(
    'berth_session',
    (await sessionCookie(h.sessions, 'alice', 'localhost')).split('=')[1]!,
  );
  const r = await b.open(`http://${TOOL}:${proxy.port}/lab?x=1`, navigation('none'));
  assert.equal(r.status, 200);
  const seen = JSON.parse(r.text) as { url: string; headers: Record<string, string> };
  assert.equal(seen.url, '/lab?x=1');
  assert.equal(seen.headers.cookie, undefined, "berth's cookies never reach the tool");
  const hosts = b.visited.map((u) => new URL(u).hostname);
  assert.deepEqual(hosts, [TOOL, 'localhost', TOOL, TOOL], b.visited.join('\n'));
  assert.ok(b.cookiesFor(TOOL).has('berth_session'), 'a session cookie on the tool host alone');
  assert.equal(b.jar.get('tools.test'), undefined);
});

test('pages and links use the tool domain: CSP form-action, the UI config', async () => {
  const signIn = await send(proxy, 'localhost', '/_berth/sign-in');
  assert.match(
    String(signIn.headers['content-security-policy']),
    /form-action 'self' http:\/\/\*\.tools\.test:\*/,
  );
  const devPage = await send(proxy, 'localhost', '/auth/sign-in');
  assert.equal(devPage.status, 200);
  assert.match(String(devPage.headers['content-security-policy']), /http:\/\/\*\.tools\.test:\*/);
  const session = JSON.parse((await send(proxy, 'localhost', '/auth/session')).text) as {
    toolUrlTemplate: string;
  };
  assert.match(session.toolUrlTemplate, /^http:\/\/\{tool\}--\{user\}\.tools\.test(:\d+)?\/$/);
});

test('the controllers tell each tool its URL under the tool domain (BERTH_PUBLIC_URL)', () => {
  const key = 'ab'.repeat(32);
  const c = loadReconcilerConfig({ BERTH_TOOL_DOMAIN: 'tools.test', BERTH_TOOL_SECRET_KEY: key });
  assert.equal(
    c.publicUrl({ tool: 'lab', namespace: 'alice', name: 'lab', shared: false }),
    'http://lab--alice.tools.test:8000/',
  );
  assert.equal(
    c.publicUrl({ tool: 'dash', namespace: 'shared', name: 'dash', shared: true }),
    'http://dash.tools.test:8000/',
  );
  // Without it, the base domain as before.
  const local = loadReconcilerConfig({ BERTH_TOOL_SECRET_KEY: key });
  assert.equal(
    local.publicUrl({ tool: 'lab', namespace: 'alice', name: 'lab', shared: false }),
    'http://lab--alice.localhost:8000/',
  );
});
