// Launch on visit: a GET to a tool that is not running sets it Running (creating
// the instance when needed) and answers 202 with the starting page; the page's
// status endpoint reports progress; a failed launch offers "Try again".
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import type { ToolInstance } from '../../crds/index.ts';
import { waitFor } from '../support/wait.ts';
import {
  addDefinition,
  bearer,
  echoHandler,
  get,
  type Harness,
  makeReady,
  startHarness,
  startUpstream,
  type Upstream,
  waitForRoute,
} from './support.ts';

let h: Harness;
let echo: Upstream;

before(async () => {
  h = await startHarness();
  echo = await startUpstream(echoHandler);
  await addDefinition(h, 'demo');
  await addDefinition(h, 'secret', { access: { users: ['bob'], groups: [] } });
});

after(async () => {
  await h.close();
  await echo.close();
});

async function instance(ns: string, name: string): Promise<ToolInstance> {
  return (await h.store.get('ToolInstance', ns, name)) as unknown as ToolInstance;
}

test('a GET to a missing instance creates it Running and serves the starting page (202, strict CSP)', async () => {
  const r = await get(h.proxy, 'demo--alice.localhost', '/lab', {
    ...bearer(h.tokens.alice),
    accept: 'text/html',
  });
  assert.equal(r.status, 202);
  assert.match(r.text, /Starting demo/);
  assert.match(r.text, /<script src="\/_berth\/assets\/starting\.js"/);
  assert.doesNotMatch(r.text, /<script>/, 'no inline script');
  assert.match(String(r.headers['content-security-policy']), /script-src 'self'/);
  const ti = await instance('alice', 'demo');
  assert.equal(ti.spec.state, 'Running');
  assert.equal(ti.spec.toolRef, 'demo');
  assert.equal(ti.spec.size, undefined, 'default size');
  const js = await get(h.proxy, 'demo--alice.localhost', '/_berth/assets/starting.js');
  assert.equal(js.status, 200);
  assert.match(String(js.headers['content-type']), /javascript/);
});

test('x-berth-no-launch and non-GET requests do not launch', async () => {
  const r = await get(h.proxy, 'demo--bob.localhost', '/', {
    ...bearer(h.tokens.bob),
    'x-berth-no-launch': '1',
  });
  assert.equal(r.status, 503);
  const p = await get(h.proxy, 'demo--bob.localhost', '/', bearer(h.tokens.bob), 'POST');
  assert.equal(p.status, 503);
  await assert.rejects(instance('bob', 'demo'), /not found/);
});

test('a stopped instance is set Running; the status endpoint follows it to Ready, then traffic flows', async () => {
  await makeReady(h.store, 'bob', 'demo', echo.url);
  await h.store.patch('ToolInstance', 'bob', 'demo', { spec: { state: 'Stopped' } });
  await h.store.patchStatus('ToolInstance', 'bob', 'demo', {
    status: {
      phase: 'Stopped',
      conditions: [{ type: 'Ready', status: 'False', reason: 'Stopped' }],
    },
  });
  await waitFor(
    () => (h.proxy.routes.get('demo--bob.localhost')?.upstream ? undefined : true),
    10_000,
    'route dropped',
  );
  const r = await get(h.proxy, 'demo--bob.localhost', '/', {
    ...bearer(h.tokens.bob),
    accept: 'text/html',
  });
  assert.equal(r.status, 202);
  assert.equal((await instance('bob', 'demo')).spec.state, 'Running');
  await h.store.recordEvent({
    involvedObject: { kind: 'ToolInstance', name: 'demo', namespace: 'bob' },
    type: 'Normal',
    reason: 'TaskLaunched',
    message: 'task started',
    source: { component: 'test' },
  });
  const s1 = JSON.parse(
    (await get(h.proxy, 'demo--bob.localhost', '/_berth/status', bearer(h.tokens.bob))).text,
  );
  assert.equal(s1.ready, false);
  assert.equal(s1.events[0].reason, 'TaskLaunched');
  await makeReady(h.store, 'bob', 'demo', echo.url);
  await waitForRoute(h.proxy, 'demo--bob.localhost');
  const s2 = JSON.parse(
    (await get(h.proxy, 'demo--bob.localhost', '/_berth/status', bearer(h.tokens.bob))).text,
  );
  assert.equal(s2.ready, true);
  assert.equal((await get(h.proxy, 'demo--bob.localhost', '/', bearer(h.tokens.bob))).status, 200);
});

test('a failed launch shows its reason and "Try again" (same-origin POST) starts a new generation', async () => {
  await h.store.patchStatus('ToolInstance', 'alice', 'demo', {
    status: {
      phase: 'Failed',
      observedGeneration: 1,
      message: 'image pull failed',
      conditions: [{ type: 'Ready', status: 'False', reason: 'LaunchFailed' }],
    },
  });
  const s = JSON.parse(
    (await get(h.proxy, 'demo--alice.localhost', '/_berth/status', bearer(h.tokens.alice))).text,
  );
  assert.equal(s.failed, true);
  assert.equal(s.reason, 'image pull failed');
  const gen = (await instance('alice', 'demo')).metadata.generation!;
  const cross = await request(`${h.proxy.url}/_berth/launch`, {
    method: 'POST',
    headers: {
      host: 'demo--alice.localhost',
      origin: 'http://evil.example',
      ...bearer(h.tokens.alice),
    },
  });
  await cross.body.dump();
  assert.equal(cross.statusCode, 403);
  assert.equal((await instance('alice', 'demo')).metadata.generation, gen);
  const retry = await request(`${h.proxy.url}/_berth/launch`, {
    method: 'POST',
    headers: {
      host: `demo--alice.localhost:${h.proxy.port}`,
      origin: `http://demo--alice.localhost:${h.proxy.port}`,
      ...bearer(h.tokens.alice),
    },
  });
  await retry.body.dump();
  assert.equal(retry.statusCode, 303);
  const ti = await instance('alice', 'demo');
  assert.ok(ti.metadata.generation! > gen);
  assert.equal(ti.spec.state, 'Running');
});

test("no launch for tools one may not use, nor for other users' hosts, nor unknown tools", async () => {
  assert.equal(
    (await get(h.proxy, 'secret--alice.localhost', '/', bearer(h.tokens.alice))).status,
    403,
  );
  await assert.rejects(instance('alice', 'secret'), /not found/);
  assert.equal(
    (await get(h.proxy, 'demo--carol.localhost', '/', bearer(h.tokens.alice))).status,
    403,
  );
  await assert.rejects(instance('carol', 'demo'), /not found/);
  assert.equal(
    (await get(h.proxy, 'nosuch--alice.localhost', '/', bearer(h.tokens.alice))).status,
    404,
  );
});
