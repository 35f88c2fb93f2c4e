// Prometheus HTTP service discovery (GET /apis/berth/v1alpha1/prometheus-targets):
// which instances are targets, what each group carries, the headers Prometheus
// needs, one list of each kind however many instances, and off without a token.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { buildApiServer, ConfigError, loadApiConfig, storePort } from '../../api/index.ts';
import { KINDS } from '../../crds/index.ts';
import { Identity, ResourceStore } from '../../store/index.ts';
import { freshDatabase } from '../support/db.ts';
import { toolDefinition, toolInstance } from '../support/fixtures.ts';
import { BASE, type Harness, send, startHarness } from './support.ts';

const PATH = `${BASE}/prometheus-targets`;
const SD_TOKEN = 'sd-token-0123456789abcdef0123456789abcdef';
const METRICS = { name: 'metrics', image: 'berth/metrics:latest', port: 8889 };
let h: Harness;

/** Writes an instance with the status the controllers would have written. */
async function instance(
  ns: string,
  name: string,
  toolRef: string,
  status: Record<string, unknown>,
): Promise<void> {
  const store = h.api.store;
  await store.create('ToolInstance', toolInstance(ns, name, toolRef) as never);
  const got = await store.get('ToolInstance', ns, name);
  await store.updateStatus('ToolInstance', { ...got, status } as never);
}

before(async () => {
  h = await startHarness({ prometheusSdToken: SD_TOKEN });
  const store = h.api.store;
  await store.create('ToolDefinition', toolDefinition('demo', { sidecars: [METRICS] }) as never);
  await store.create(
    'ToolDefinition',
    toolDefinition('plain', { sidecars: [{ name: 'other', image: 'x:1', port: 8889 }] }) as never,
  );
  // A metrics sidecar without a port has nothing to scrape.
  await store.create(
    'ToolDefinition',
    toolDefinition('portless', { sidecars: [{ name: 'metrics', image: 'x:1' }] }) as never,
  );
  const arn = (id: string) => `arn:aws:ecs:eu-west-2:000000000000:task/berth/${id}`;
  await instance('alice', 'demo', 'demo', {
    phase: 'Ready',
    endpoint: 'http://10.0.3.7:8888',
    taskArn: arn('aaa'),
  });
  await instance('bob', 'demo', 'demo', {
    phase: 'Starting',
    endpoint: 'http://10.0.3.8:8888',
    taskArn: arn('bbb'),
  });
  await instance('carol', 'demo', 'demo', { phase: 'Starting', taskArn: arn('ccc') });
  // Stopped, Stopping and Failed keep their last endpoint: another task may have the address now.
  for (const [ns, phase] of [
    ['dave', 'Stopped'],
    ['erin', 'Stopping'],
    ['frank', 'Failed'],
  ] as const) {
    await instance(ns, 'demo', 'demo', {
      phase,
      endpoint: 'http://10.0.3.9:8888',
      taskArn: arn(ns),
    });
  }
  await instance('alice', 'plain', 'plain', { phase: 'Ready', endpoint: 'http://10.0.4.1:8888' });
  await instance('alice', 'portless', 'portless', {
    phase: 'Ready',
    endpoint: 'http://10.0.4.2:8888',
  });
  // A definition that is gone: nothing to say where its sidecar listens.
  await instance('alice', 'gone', 'gone', { phase: 'Ready', endpoint: 'http://10.0.4.3:8888' });
});

after(async () => {
  await h?.close();
});

test('lists each Starting or Ready task of a tool with a metrics sidecar: its host and the sidecar port, with its names', async () => {
  const r = await send(h, 'GET', PATH, { headers: { authorization: `Bearer ${SD_TOKEN}` } });
  assert.equal(r.status, 200, r.text);
  // The media types Prometheus 2.x's HTTP SD accepts (discovery/http: matchContentType).
  assert.match(
    r.headers.get('content-type') ?? '',
    /^(?i:application\/json(;\s*charset=("utf-8"|utf-8))?)$/,
  );
  assert.equal(r.headers.get('cache-control'), 'no-store');
  const byTarget = [...r.body].sort((a, b) => a.targets[0].localeCompare(b.targets[0]));
  assert.deepEqual(byTarget, [
    {
      targets: ['10.0.3.7:8889'],
      labels: {
        __meta_berth_namespace: 'alice',
        __meta_berth_instance: 'demo',
        __meta_berth_tool: 'demo',
        __meta_berth_task_arn: 'arn:aws:ecs:eu-west-2:000000000000:task/berth/aaa',
        __meta_berth_phase: 'Ready',
      },
    },
    {
      targets: ['10.0.3.8:8889'],
      labels: {
        __meta_berth_namespace: 'bob',
        __meta_berth_instance: 'demo',
        __meta_berth_tool: 'demo',
        __meta_berth_task_arn: 'arn:aws:ecs:eu-west-2:000000000000:task/berth/bbb',
        __meta_berth_phase: 'Starting',
      },
    },
  ]);
});

test('an instance that stops leaves the list at once', async () => {
  const auth = { authorization: `Bearer ${SD_TOKEN}` };
  const got = await h.api.store.get('ToolInstance', 'bob', 'demo');
  await h.api.store.updateStatus('ToolInstance', {
    ...got,
    status: { ...(got.status as object), phase: 'Stopping' },
  } as never);
  const r = await send(h, 'GET', PATH, { headers: auth });
  assert.deepEqual(
    r.body.map((g: { targets: string[] }) => g.targets[0]),
    ['10.0.3.7:8889'],
  );
});

test('only GET (and HEAD); no query parameters', async () => {
  const auth = { authorization: `Bearer ${SD_TOKEN}` };
  const post = await send(h, 'POST', PATH, { headers: auth, body: {} });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET, HEAD');
  const q = await send(h, 'GET', `${PATH}?x=1`, { headers: auth });
  assert.equal(q.status, 400);
  assert.equal(q.body.kind, 'Status');
});

test('without BERTH_PROMETHEUS_SD_TOKEN the path does not exist (404), whatever is sent', async () => {
  const off = await startHarness();
  try {
    for (const authorization of [undefined, `Bearer ${SD_TOKEN}`, `Bearer ${off.admin}`]) {
      const r = await send(off, 'GET', PATH, authorization ? { headers: { authorization } } : {});
      assert.equal(r.status, 404, String(authorization));
      assert.equal(r.body.kind, 'Status');
    }
  } finally {
    await off.close();
  }
});

test('a token shorter than 32 characters is a settings error naming the variable, not the value', () => {
  const short = 'too-short-a-secret-value';
  assert.throws(
    () => loadApiConfig({}, { BERTH_PROMETHEUS_SD_TOKEN: short }),
    (err: unknown) =>
      err instanceof ConfigError &&
      /BERTH_PROMETHEUS_SD_TOKEN: expected at least 32 characters/.test(err.message) &&
      !err.message.includes(short),
  );
  assert.throws(
    () => loadApiConfig({}, { BERTH_PROMETHEUS_SD_TOKEN: `${'a'.repeat(32)} b` }),
    /BERTH_PROMETHEUS_SD_TOKEN: expected printable ASCII without spaces/,
  );
  assert.equal(
    loadApiConfig({}, { BERTH_PROMETHEUS_SD_TOKEN: SD_TOKEN }).prometheusSdToken,
    SD_TOKEN,
  );
});

test('one list of ToolInstances and one of ToolDefinitions per request, for 200 instances', async () => {
  const db = await freshDatabase();
  const store = new ResourceStore(db.pool, { kinds: [...KINDS] });
  try {
    await store.create('ToolDefinition', toolDefinition('demo', { sidecars: [METRICS] }) as never);
    for (let i = 0; i < 200; i++) {
      const ns = `user${i}`;
      await store.create('ToolInstance', toolInstance(ns, 'demo') as never);
      const got = await store.get('ToolInstance', ns, 'demo');
      await store.updateStatus('ToolInstance', {
        ...got,
        status: { phase: 'Ready', endpoint: `http://10.1.${i >> 8}.${i & 255}:8888` },
      } as never);
    }
    const calls: string[] = [];
    const port = storePort(store);
    const counting = new Proxy(port, {
      get: (target, prop: keyof typeof port) => {
        const f = target[prop];
        return (...args: unknown[]) => {
          calls.push(`${String(prop)} ${String(args[0])}`);
          return (f as (...a: unknown[]) => unknown)(...args);
        };
      },
    });
    const server = buildApiServer({
      pool: db.pool,
      store: counting,
      identity: new Identity(db.pool),
      config: loadApiConfig({ logLevel: 'silent', prometheusSdToken: SD_TOKEN }, {}),
      logStream: pino.destination('/dev/null'),
    });
    const r = await server.app.inject({
      method: 'GET',
      url: PATH,
      headers: { authorization: `Bearer ${SD_TOKEN}` },
    });
    assert.equal(r.statusCode, 200);
    assert.equal((r.json() as unknown[]).length, 200);
    assert.deepEqual(calls.sort(), ['list ToolDefinition', 'list ToolInstance']);
    await server.app.close();
  } finally {
    await store.close();
    await db.drop();
  }
});
