// Wall: only the proxy reaches a tool. Every task has the gate (sidecars/gate) on
// its one published port; it admits only requests carrying the launch's tool
// secret (HMAC of instance uid and attempt under BERTH_TOOL_SECRET_KEY), which
// only the controllers and the proxy can derive. The real stack in this process:
// a fresh database, ecs-local running the demo tool and the real gate, the
// controllers, and the proxy.
//
// - From a process running as bob's tool, alice's task address and gate port
//   answer 403 (with no secret and with a made-up one); through the proxy alice's
//   tool works (HTTP and the WebSocket echo).
// - At the gate: no secret, a wrong one, the secret of another launch (the
//   previous attempt), a repeated header, a WebSocket without it: 403; the right
//   one reaches the tool on its own port. A client's own x-berth-tool-secret
//   sent to the proxy never reaches the gate.
// - Every example tool's registered task definition has the gate in front with
//   the right ports, and the tool bound to the task's loopback.
// - The secret is in no Event, ToolInstance, ToolDefinition or log line.
// - The gate is essential: killed, its task stops and the instance leaves Ready.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DescribeTaskDefinitionCommand, ECSClient } from '@aws-sdk/client-ecs';
import { WebSocket } from 'ws';
import { parse } from 'yaml';
import type { ToolDefinition } from '../../crds/index.ts';
import { type RunningProxy, startProxy } from '../../proxy/index.ts';
import { deriveToolSecret, Identity, TOOL_SECRET_HEADER } from '../../store/index.ts';
import {
  createInstance,
  createTool,
  type Env,
  examples,
  getInstance,
  startEnv,
  waitForPhase,
  waitForReadyAttempt,
} from '../controllers/reconcile-support.ts';
import { bearer, get } from '../proxy/support.ts';
import { admin } from '../support/ecs-local.ts';
import { waitFor } from '../support/wait.ts';

const ALICE_HOST = 'demo--alice.localhost';
const GATE_PORT = 8000;

/**
 * bob's "tool": asks TARGET (alice's endpoint) with no secret and with a made-up
 * one, prints both answers, then serves its own port so it becomes Ready.
 */
const PROBER = `
const http = require('node:http');
const target = process.env.TARGET;
const ask = (headers) => new Promise((resolve) => {
  http.get(target + '/', { headers }, (res) => { res.resume(); resolve(res.statusCode); })
    .on('error', (e) => resolve(e.code));
});
(async () => {
  console.log('plain ' + await ask({}));
  console.log('forged ' + await ask({ 'x-berth-tool-secret': 'made-up-secret-of-sixteen+' }));
  http.createServer((q, r) => r.end('prober')).listen(Number(process.env.PORT), process.env.HOST);
})();
`;

let env: Env;
let proxy: RunningProxy;
let aliceToken: string;
const logLines: string[] = [];
const capture = (level: string) => (obj: object, msg: string) => {
  logLines.push(JSON.stringify({ level, msg, ...obj }));
};
const captureLog = {
  info: capture('info'),
  warn: capture('warn'),
  error: capture('error'),
  debug: capture('debug'),
};

before(async () => {
  env = await startEnv({
    addressOctet: 64,
    images: { 'berth/prober:latest': { command: process.execPath, args: ['-e', PROBER] } },
    manager: { log: captureLog },
  });
  aliceToken = (await new Identity(env.db.pool).createToken({ user: 'alice' })).token;
  await env.store.create(
    'ToolDefinition',
    parse(readFileSync(join(examples, 'demo.yaml'), 'utf8')),
  );
  proxy = await startProxy({
    pool: env.db.pool,
    store: env.store,
    port: 0,
    config: { baseDomain: 'localhost', activityFlushMs: 0 },
    log: captureLog,
  });
  await waitFor(() => proxy.routes.definitions.has('demo') || undefined, 10_000, 'demo route');
});

after(async () => {
  await proxy?.close();
  await env?.close();
});

function secretOf(uid: string, attempt: number): string {
  return deriveToolSecret(env.tools.config.toolSecretKey, uid, attempt);
}

/** alice's demo, launched through the proxy and answering there. */
async function aliceReady() {
  await get(proxy, ALICE_HOST, '/', { ...bearer(aliceToken), accept: 'text/html' });
  const ti = await waitForPhase(env.store, 'alice', 'demo', 'Ready', 60_000);
  await waitFor(
    async () =>
      (await get(proxy, ALICE_HOST, '/', { ...bearer(aliceToken), 'x-berth-no-launch': '1' }))
        .status === 200 || undefined,
    30_000,
    "alice's demo through the proxy",
  );
  return ti;
}

async function containerLogs(taskArn: string, container: string): Promise<string> {
  const id = taskArn.split('/').at(-1)!;
  const res = await admin(env.ecsLocal, `/_ecs-local/tasks/${id}/containers/${container}/logs`);
  return res.text();
}

test("from bob's tool, alice's task address and gate port answer 403; through the proxy alice's tool works, HTTP and WebSocket", async () => {
  const alice = await aliceReady();
  const endpoint = alice.status!.endpoint!;
  assert.match(endpoint, new RegExp(`^http://127\\.64\\.\\d+\\.\\d+:${GATE_PORT}$`));

  await createTool(env.store, 'prober', {
    displayName: 'Prober',
    image: 'berth/prober:latest',
    port: 8080,
    env: [{ name: 'TARGET', value: endpoint }],
    sizes: { small: { cpu: 256, memory: 512 } },
    defaultSize: 'small',
    readiness: { path: '/', timeoutSeconds: 2, periodSeconds: 1 },
    spawnTimeout: '60s',
  });
  await createInstance(env.store, 'bob', 'prober', 'prober');
  const bob = await waitForPhase(env.store, 'bob', 'prober', 'Ready', 60_000);
  const out = await containerLogs(bob.status!.taskArn!, 'tool');
  assert.match(out, /^plain 403$/m, `bob's tool asked alice's gate without a secret: ${out}`);
  assert.match(out, /^forged 403$/m, `bob's tool asked alice's gate with a made-up secret: ${out}`);

  const page = await get(proxy, ALICE_HOST, '/', { ...bearer(aliceToken), accept: 'text/html' });
  assert.equal(page.status, 200);
  assert.match(page.text, /Hello, <span id="who">alice<\/span>/);

  const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/ws`, {
    headers: { host: `${ALICE_HOST}:${proxy.port}`, ...bearer(aliceToken) },
  });
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const echoed = new Promise<string>((resolve) =>
      ws.once('message', (data) => resolve(String(data))),
    );
    ws.send('hello through the gate');
    assert.equal(await echoed, 'hello through the gate');
  } finally {
    ws.terminate();
  }
});

test("the gate refuses no secret, a wrong one, a repeated one and another launch's; the right one reaches the tool on its own port", async () => {
  const alice = await aliceReady();
  const endpoint = alice.status!.endpoint!;
  const uid = alice.metadata.uid!;
  const attempt = alice.status!.attempt!;
  const right = secretOf(uid, attempt);
  const ask = (headers: Record<string, string> | [string, string][]) =>
    fetch(`${endpoint}/`, { headers }).then(async (r) => ({
      status: r.status,
      text: await r.text(),
    }));

  const none = await ask({});
  assert.equal(none.status, 403);
  assert.doesNotMatch(none.text, new RegExp(right.replace(/[-+]/g, '\\$&')));
  assert.equal((await ask({ [TOOL_SECRET_HEADER]: 'x'.repeat(43) })).status, 403);
  assert.equal((await ask({ [TOOL_SECRET_HEADER]: secretOf(uid, attempt + 1) })).status, 403);
  assert.equal((await ask({ [TOOL_SECRET_HEADER]: secretOf('another-uid', attempt) })).status, 403);
  assert.equal(
    (
      await ask([
        [TOOL_SECRET_HEADER, right],
        [TOOL_SECRET_HEADER, right],
      ])
    ).status,
    403,
    'the header twice',
  );
  const ok = await ask({ [TOOL_SECRET_HEADER]: right });
  assert.equal(ok.status, 200);
  // The demo prints where it listens: the task's address on the tool's own port, not the gate's.
  const host = new URL(endpoint).hostname.replaceAll('.', '\\.');
  assert.match(ok.text, new RegExp(`listening on ${host}:8888`));

  // A WebSocket upgrade without the secret is refused before it reaches the tool.
  const ws = new WebSocket(`${endpoint.replace('http', 'ws')}/ws`);
  const status = await new Promise<number>((resolve) => {
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('open', () => resolve(101));
    ws.once('error', () => resolve(-1));
  });
  ws.terminate();
  assert.equal(status, 403);
});

test("a client's own x-berth-tool-secret sent to the proxy never reaches the gate", async () => {
  await aliceReady();
  // Had the proxy passed the client's header on beside its own, the gate would see
  // two and refuse (403); had it passed the client's alone, a wrong secret: 403.
  const r = await get(proxy, ALICE_HOST, '/', {
    ...bearer(aliceToken),
    'x-berth-no-launch': '1',
    [TOOL_SECRET_HEADER]: 'a-client-made-this-up-0000000000000000000',
  });
  assert.equal(r.status, 200);
  assert.match(r.text, /Hello, <span id="who">alice<\/span>/);
});

test("a new attempt has a new secret: the previous launch's is refused, and the proxy follows", async () => {
  const first = await aliceReady();
  const attempt = first.status!.attempt!;
  await env.store.patch('ToolInstance', 'alice', 'demo', { spec: { state: 'Stopped' } });
  await waitForPhase(env.store, 'alice', 'demo', 'Stopped', 30_000);
  await env.store.patch('ToolInstance', 'alice', 'demo', {
    spec: { state: 'Running', launchRequestedAt: new Date().toISOString() },
  });
  const second = await waitForReadyAttempt(env.store, 'alice', 'demo', attempt + 1, 60_000);
  const endpoint = second.status!.endpoint!;
  const old = await fetch(`${endpoint}/`, {
    headers: { [TOOL_SECRET_HEADER]: secretOf(second.metadata.uid!, attempt) },
  });
  assert.equal(old.status, 403);
  await waitFor(
    async () =>
      (await get(proxy, ALICE_HOST, '/', { ...bearer(aliceToken), 'x-berth-no-launch': '1' }))
        .status === 200 || undefined,
    30_000,
    'the proxy reaching attempt 2',
  );
});

test('a ToolDefinition whose port is the gate port is refused with a clear condition', async () => {
  await createTool(env.store, 'clash', {
    displayName: 'Clash',
    image: 'berth/demo:latest',
    port: GATE_PORT,
    sizes: { small: { cpu: 256, memory: 512 } },
    defaultSize: 'small',
  });
  const td = await waitFor(
    async () => {
      const o = (await env.store.get('ToolDefinition', undefined, 'clash')) as ToolDefinition;
      return o.status?.conditions.find((c) => c.type === 'Registered') ? o : undefined;
    },
    10_000,
    'the clash definition reconciled',
  );
  const registered = td.status!.conditions.find((c) => c.type === 'Registered')!;
  assert.equal(registered.status, 'False');
  assert.equal(registered.reason, 'PortConflict');
  assert.match(registered.message ?? '', /spec\.port 8000 is the gate's port/);
});

test("every example tool's task definition has the gate in front, with the right ports, and the tool bound to loopback", async () => {
  const files = readdirSync(examples).filter((f) => f.endsWith('.yaml'));
  assert.ok(files.length >= 5, files.join(', '));
  const ecs = new ECSClient({
    endpoint: env.ecsLocal.url,
    region: 'eu-west-2',
    credentials: env.ecsLocal.credentials,
  });
  try {
    for (const file of files) {
      const manifest = parse(readFileSync(join(examples, file), 'utf8')) as ToolDefinition;
      if (manifest.kind !== 'ToolDefinition') continue; // the example Quotas
      const name = manifest.metadata.name;
      if (name !== 'demo') await env.store.create('ToolDefinition', manifest);
      const td = await waitFor(
        async () => {
          const o = (await env.store.get('ToolDefinition', undefined, name)) as ToolDefinition;
          return o.status?.taskDefinitionArn ? o : undefined;
        },
        15_000,
        `${name}'s task definition registered`,
      );
      const { taskDefinition } = await ecs.send(
        new DescribeTaskDefinitionCommand({ taskDefinition: td.status!.taskDefinitionArn! }),
      );
      const containers = taskDefinition?.containerDefinitions ?? [];
      const gate = containers.find((c) => c.name === 'berth-gate');
      const tool = containers.find((c) => c.name === 'tool');
      assert.ok(gate && tool, `${file}: gate and tool containers`);
      assert.equal(gate.image, 'berth/gate:latest', file);
      assert.equal(gate.essential, true, `${file}: the gate is essential`);
      assert.deepEqual(
        gate.portMappings?.map((p) => p.containerPort),
        [GATE_PORT],
        `${file}: the gate publishes the gate port`,
      );
      // Besides the gate, only the metrics sidecar publishes a port (8889): it serves
      // the task's usage figures for Prometheus, never a request to the tool.
      const published = containers.flatMap((c) =>
        (c.portMappings ?? []).map((p) => `${c.name}:${c.image}:${p.containerPort}`),
      );
      assert.deepEqual(
        published.filter((p) => p !== 'metrics:berth/metrics:latest:8889'),
        [`berth-gate:berth/gate:latest:${GATE_PORT}`],
        `${file}: only the gate (and the metrics sidecar) publish a port`,
      );
      assert.notEqual(td.spec.port, GATE_PORT, file);
      // Loopback: each tool says so in its own words; the demo binds HOST, which is
      // the task's address under ecs-local (and is unset on Fargate).
      const words = [
        ...(tool.entryPoint ?? []),
        ...(tool.command ?? []),
        ...(tool.environment ?? []).map((e) => `${e.name}=${e.value}`),
      ].join(' ');
      const loopback: Record<string, RegExp> = {
        jupyterlab: /--ServerApp\.ip=127\.0\.0\.1/,
        vscode: /--bind-addr 127\.0\.0\.1:8080/,
        pgadmin: /PGADMIN_LISTEN_ADDRESS=127\.0\.0\.1/,
        rstudio: /www-address=127\.0\.0\.1/,
        demo: new RegExp(`PORT=${td.spec.port}`),
        'demo-files': new RegExp(`PORT=${td.spec.port}`),
      };
      assert.ok(loopback[name], `${file}: an example tool this test knows (${name})`);
      assert.match(words, loopback[name]!, `${file}: the tool binds the task's loopback`);
    }
  } finally {
    ecs.destroy();
  }
});

test('the tool secret is in no Event, ToolInstance, ToolDefinition or log line', async () => {
  const alice = await getInstance(env.store, 'alice', 'demo');
  const uid = alice.metadata.uid!;
  const secrets = [1, 2, 3].map((a) => secretOf(uid, a));
  const key = env.tools.config.toolSecretKey;
  const texts = [
    JSON.stringify((await env.store.list('Event')).items),
    JSON.stringify((await env.store.list('ToolInstance')).items),
    JSON.stringify((await env.store.list('ToolDefinition')).items),
    logLines.join('\n'),
  ];
  assert.ok(logLines.length > 0, 'some log lines were captured');
  for (const text of texts) {
    for (const s of secrets) assert.ok(!text.includes(s), 'a tool secret was written out');
    assert.ok(!text.includes(key.toString('hex')), 'the key was written out');
    assert.ok(!text.includes(key.toString('base64')), 'the key was written out');
  }
});

test('the gate is essential: when it exits, ECS stops the task and the instance is no longer routed', async () => {
  const alice = await aliceReady();
  const ip = new URL(alice.status!.endpoint!).hostname;
  const res = await admin(env.ecsLocal, '/_ecs-local/processes');
  const { processes } = (await res.json()) as { processes: { pid: number; running: boolean }[] };
  // The gate of alice's task: the process on her task's address that was given a tool secret.
  const gate = processes.find((p) => {
    if (!p.running) return false;
    try {
      const environ = readFileSync(`/proc/${p.pid}/environ`, 'utf8').split('\0');
      return (
        environ.includes(`HOST=${ip}`) && environ.some((e) => e.startsWith('BERTH_TOOL_SECRET='))
      );
    } catch {
      return false;
    }
  });
  assert.ok(gate, "alice's gate process");
  process.kill(gate.pid, 'SIGKILL');
  const ended = await waitFor(
    async () => {
      const ti = await getInstance(env.store, 'alice', 'demo');
      return ti.status?.taskArn === alice.status?.taskArn && ti.status?.phase !== 'Ready'
        ? ti
        : undefined;
    },
    30_000,
    "alice's instance to leave Ready after her gate died",
  );
  assert.ok(['Stopped', 'Failed'].includes(ended.status!.phase!), JSON.stringify(ended.status));
});
