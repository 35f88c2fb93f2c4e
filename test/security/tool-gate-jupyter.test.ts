// Wall: only the proxy reaches a tool, seen with a real Jupyter server rather than
// the demo. Debian's jupyter-notebook (6.4, `make jupyter`) stands in for the
// jupyterlab example's image under ecs-local; the ToolDefinition is the example's
// spec with that image, and the controllers put the gate in front of it as for
// every tool. One Jupyter start for the whole file.
//
// - Through the proxy, with its owner's token: `/api` answers Jupyter's version,
//   `/api/contents` lists the notebook folder, and a kernel started with
//   `POST /api/kernels` runs code over its channels WebSocket.
// - Around the proxy, from this process: the task's endpoint (the gate's port)
//   answers 403 to plain HTTP, to a made-up secret and to a WebSocket upgrade.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { WebSocket } from 'ws';
import { parse } from 'yaml';
import type { ToolDefinition, ToolInstance } from '../../crds/index.ts';
import { type RunningProxy, startProxy } from '../../proxy/index.ts';
import { Identity, TOOL_SECRET_HEADER } from '../../store/index.ts';
import { type Env, examples, startEnv, waitForPhase } from '../controllers/reconcile-support.ts';
import { bearer, get } from '../proxy/support.ts';
import { waitFor } from '../support/wait.ts';

const IMAGE = 'berth/jupyter-notebook:test';
const HOST = 'jupyterlab--alice.localhost';
const GATE_PORT = 8000;

// Fails the file with a clear message rather than a spawn error deep in a task.
try {
  execFileSync('jupyter-notebook', ['--version'], { stdio: 'ignore' });
} catch {
  throw new Error('jupyter-notebook is not installed: run `make jupyter` (as root, Debian)');
}

/** Jupyter's home and notebook folder: nothing of the machine's own. */
const home = mkdtempSync(join(tmpdir(), 'berth-jupyter-'));
writeFileSync(
  join(home, 'hello.ipynb'),
  JSON.stringify({ cells: [], metadata: {}, nbformat: 4, nbformat_minor: 5 }),
);

/**
 * The image's entrypoint: Jupyter on the task's address (HOST, set by ecs-local)
 * and the tool's port (PORT), its own token and password off as in the example;
 * its XSRF check stays on. Notebook 6 spells the options NotebookApp, not ServerApp.
 */
const JUPYTER = [
  'exec jupyter-notebook --no-browser --allow-root',
  '--ip="$HOST" --port="$PORT" --port-retries=0',
  `--notebook-dir='${home}'`,
  '--NotebookApp.token= --NotebookApp.password=',
  '--NotebookApp.allow_remote_access=True --NotebookApp.disable_check_xsrf=False',
].join(' ');

let env: Env;
let proxy: RunningProxy;
let token: string;
let alice: ToolInstance;

before(async () => {
  env = await startEnv({
    addressOctet: 68,
    images: { [IMAGE]: { command: ['/bin/sh', '-c', `HOME='${home}' ${JUPYTER}`] } },
  });
  token = (await new Identity(env.db.pool).createToken({ user: 'alice' })).token;
  const manifest = parse(readFileSync(join(examples, 'jupyterlab.yaml'), 'utf8')) as ToolDefinition;
  // The example's args are the Docker Stacks image's (this image's entrypoint has its
  // own), and its default size is more than a test needs. Files are off here (they
  // are tested in test/files), so without its s3sync sidecar and home volume.
  const { args: _args, sidecars: _sidecars, homePath: _homePath, ...spec } = manifest.spec;
  await env.store.create('ToolDefinition', {
    ...manifest,
    spec: { ...spec, image: IMAGE, defaultSize: 'small' },
  });
  proxy = await startProxy({
    pool: env.db.pool,
    store: env.store,
    port: 0,
    config: { baseDomain: 'localhost', activityFlushMs: 0 },
  });
  await waitFor(
    () => proxy.routes.definitions.has('jupyterlab') || undefined,
    10_000,
    'the jupyterlab route',
  );
  // Launched as a user would: opening the tool's page through the proxy.
  await get(proxy, HOST, '/', { ...bearer(token), accept: 'text/html' });
  alice = await waitForPhase(env.store, 'alice', 'jupyterlab', 'Ready', 120_000);
});

after(async () => {
  await proxy?.close();
  await env?.close();
  rmSync(home, { recursive: true, force: true });
});

const viaProxy = (path: string, headers: Record<string, string> = {}, method = 'GET') =>
  get(proxy, HOST, path, { ...bearer(token), 'x-berth-no-launch': '1', ...headers }, method);

test('through the proxy, with its owner token, Jupyter answers /api and /api/contents', async () => {
  const api = await waitFor(
    async () => {
      const r = await viaProxy('/api');
      return r.status === 200 ? r : undefined;
    },
    30_000,
    "Jupyter's /api through the proxy",
  );
  assert.match(String(api.headers['content-type']), /json/);
  assert.match((JSON.parse(api.text) as { version: string }).version, /^\d+\.\d+\.\d+/);

  const contents = await viaProxy('/api/contents');
  assert.equal(contents.status, 200, contents.text);
  const names = (JSON.parse(contents.text) as { content: { name: string }[] }).content.map(
    (c) => c.name,
  );
  assert.ok(names.includes('hello.ipynb'), names.join(', '));

  // Without the token the proxy does not pass the request on.
  const anonymous = await get(proxy, HOST, '/api/contents', { 'x-berth-no-launch': '1' });
  assert.notEqual(anonymous.status, 200);
  assert.doesNotMatch(anonymous.text, /hello\.ipynb/);
});

test('through the proxy a kernel starts and runs code over its channels WebSocket', async () => {
  // Jupyter's XSRF check: its _xsrf cookie (a tool cookie the proxy passes) echoed in a header.
  const tree = await viaProxy('/tree', { accept: 'text/html' });
  assert.equal(tree.status, 200);
  const setCookie = ([] as string[]).concat(tree.headers['set-cookie'] ?? []);
  const xsrf = setCookie.map((c) => /^_xsrf=([^;]+)/.exec(c)?.[1]).find(Boolean);
  assert.ok(xsrf, `Jupyter's _xsrf cookie through the proxy: ${setCookie.join(' | ')}`);
  const xsrfHeaders = {
    cookie: `_xsrf=${xsrf}`,
    'x-xsrftoken': xsrf,
    'content-type': 'application/json',
  };

  const started = await viaProxy('/api/kernels', xsrfHeaders, 'POST');
  assert.equal(started.status, 201, started.text);
  const kernel = (JSON.parse(started.text) as { id: string }).id;
  const ws = new WebSocket(
    `ws://127.0.0.1:${proxy.port}/api/kernels/${kernel}/channels?session_id=${randomUUID()}`,
    { headers: { host: `${HOST}:${proxy.port}`, ...bearer(token) } },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const msgId = randomUUID();
    let printed: string | undefined;
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as {
        parent_header?: { msg_id?: string };
        msg_type?: string;
        content?: { text?: string };
      };
      if (m.parent_header?.msg_id === msgId && m.msg_type === 'stream') printed = m.content?.text;
    });
    ws.send(
      JSON.stringify({
        header: {
          msg_id: msgId,
          msg_type: 'execute_request',
          username: 'alice',
          session: randomUUID(),
          version: '5.3',
          date: new Date().toISOString(),
        },
        parent_header: {},
        metadata: {},
        content: {
          code: 'print(6 * 7)',
          silent: false,
          store_history: false,
          user_expressions: {},
          allow_stdin: false,
          stop_on_error: true,
        },
        channel: 'shell',
        buffers: [],
      }),
    );
    assert.equal(await waitFor(() => printed, 60_000, 'the kernel printing'), '42\n');
  } finally {
    ws.terminate();
    // The kernel is Jupyter's child process: shut it down rather than leave it to the task's end.
    await viaProxy(`/api/kernels/${kernel}`, xsrfHeaders, 'DELETE');
  }
});

test("around the proxy, the task's endpoint answers 403 without the tool secret", async () => {
  const endpoint = alice.status!.endpoint!;
  assert.match(endpoint, new RegExp(`^http://127\\.68\\.\\d+\\.\\d+:${GATE_PORT}$`));
  for (const path of ['/api', '/api/contents', '/tree']) {
    const plain = await fetch(`${endpoint}${path}`);
    assert.equal(plain.status, 403, `${path} without a secret`);
    assert.doesNotMatch(await plain.text(), /version|hello\.ipynb/);
    const forged = await fetch(`${endpoint}${path}`, {
      headers: { [TOOL_SECRET_HEADER]: 'made-up-secret-of-sixteen+' },
    });
    assert.equal(forged.status, 403, `${path} with a made-up secret`);
    await forged.text();
  }
  const ws = new WebSocket(`${endpoint.replace('http', 'ws')}/api/kernels/any/channels`);
  const status = await new Promise<number>((resolve) => {
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('open', () => resolve(101));
    ws.once('error', () => resolve(-1));
  });
  ws.terminate();
  assert.equal(status, 403);
});
