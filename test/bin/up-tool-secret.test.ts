// `berth up` keeps its BERTH_TOOL_SECRET_KEY in its data folder (mode 0600), so a
// restarted `make run` still reaches the tools it launched before: their gates
// hold secrets derived from that key. The tasks must outlive berth up for that
// to show, so ecs-local runs here, in the test, and berth up is pointed at it
// (BERTH_ECS_ENDPOINT); the demo's task is the same one before and after.
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { type EcsLocal, startEcsLocal } from '../../ecs-local/index.ts';
import { type BerthUp, startBerthUp } from '../support/berth-up.ts';
import { ecsLocalEnv } from '../support/ecs-local.ts';
import { waitFor } from '../support/wait.ts';

const root = join(import.meta.dirname, '..', '..');
const BASE = '/apis/berth/v1alpha1';

let ecsLocal: EcsLocal;
let berth: BerthUp;

before(async () => {
  ecsLocal = await startEcsLocal({
    port: 0,
    imageMapPath: join(root, 'examples', 'demo', 'images.yaml'),
    addressOctet: 100 + Math.floor(Math.random() * 150),
    throttling: false,
  });
  berth = await startBerthUp({
    env: {
      ...ecsLocalEnv(ecsLocal),
      BERTH_ECS_SUBNETS: 'subnet-0a1b2c3d4e5f60001',
      BERTH_ECS_SECURITY_GROUPS: 'sg-0a1b2c3d4e5f60001',
    },
  });
  const applied = await berth.cli('apply', '-f', 'examples/demo.yaml');
  assert.equal(applied.code, 0, applied.stderr);
});

after(async () => {
  await berth?.dispose();
  await ecsLocal?.close(500);
});

/** GET the admin's demo through berth's proxy (`x-berth-no-launch` after the first). */
async function throughProxy(launch = false): Promise<{ status: number; text: string }> {
  // undici's request, not fetch: fetch does not send a Host header of our choosing.
  const res = await request(`${berth.proxyUrl}/`, {
    headers: {
      host: `demo--admin.localhost:${berth.ports.proxy}`,
      authorization: `Bearer ${berth.token}`,
      accept: 'text/html',
      ...(launch ? {} : { 'x-berth-no-launch': '1' }),
    },
  });
  return { status: res.statusCode, text: await res.body.text() };
}

async function taskArn(): Promise<string | undefined> {
  const res = await berth.api('GET', `${BASE}/namespaces/admin/toolinstances/demo`);
  if (!res.ok) return undefined;
  const ti = (await res.json()) as { status?: { phase?: string; taskArn?: string } };
  return ti.status?.phase === 'Ready' ? ti.status.taskArn : undefined;
}

test('a restarted berth up keeps its tool secret key: the tool launched before still answers through the proxy', async () => {
  // The proxy learns of the applied definition through its watch: 404 until then.
  await waitFor(
    async () => ((await throughProxy(true)).status === 202 ? true : undefined),
    15_000,
    'the visit launching the demo',
  );
  await waitFor(
    async () => ((await throughProxy()).status === 200 ? true : undefined),
    60_000,
    'the demo through the proxy',
  );
  const before = await taskArn();
  assert.ok(before);

  const keyFile = join(berth.dataDir, 'tool-secret.key');
  const key = readFileSync(keyFile, 'utf8');
  assert.equal(statSync(keyFile).mode & 0o777, 0o600, 'the key file is private');
  assert.doesNotMatch(berth.output(), new RegExp(key.trim()), 'the key is not printed');

  await berth.stop('SIGINT');
  await berth.restart();

  assert.equal(readFileSync(keyFile, 'utf8'), key, 'the same key after the restart');
  const page = await waitFor(
    async () => {
      const r = await throughProxy();
      return r.status === 200 ? r : undefined;
    },
    30_000,
    'the demo through the restarted proxy',
  );
  assert.match(page.text, /Hello, <span id="who">admin<\/span>/);
  assert.equal(await taskArn(), before, 'the same task: not relaunched');
});
