// The culler's passes against a real PostgreSQL and store, with a CPU source
// double and a clock the test moves: what it writes (warning, stop, audit,
// Events, idleSince), one read per source per pass, one replica at a time, a
// racing write winning, a failing source, and what it tidies up.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { Registry } from 'prom-client';
import type { RunnableContext } from '../../../controllers/culling/culler.ts';
import {
  type CpuQuery,
  type CpuSource,
  type Culler,
  createCuller,
} from '../../../controllers/culling/index.ts';
import type { EcsDriver } from '../../../controllers/index.ts';
import type { ToolInstance } from '../../../crds/index.ts';
import { listAudit, ResourceStore } from '../../../store/index.ts';
import { freshDatabase, type TestDatabase } from '../../support/db.ts';
import {
  createInstance,
  createTool,
  eventsFor,
  getInstance,
  tinySpec,
} from '../reconcile-support.ts';

const S = 1000;
let db: TestDatabase;
let store: ResourceStore;
let clock = Date.parse('2026-12-03T10:00:00Z');

/** A CPU source double: every query answered with samples each second at `percent(key)`. */
class FakeSource implements CpuSource {
  readonly name: 'prometheus' | 'ecs-task-stats';
  calls: CpuQuery[][] = [];
  percent = new Map<string, number>();
  fail = false;
  /** Runs inside read() (a write racing the pass, a pass holding the lock). */
  during: (() => Promise<void>) | undefined;
  constructor(name: 'prometheus' | 'ecs-task-stats') {
    this.name = name;
  }
  async read(queries: CpuQuery[], sinceMs: number, nowMs: number, stepMs: number) {
    this.calls.push(queries);
    await this.during?.();
    if (this.fail) throw new Error('source down');
    const out = new Map<string, ReadonlyArray<readonly [number, number]>>();
    for (const q of queries) {
      const samples: Array<[number, number]> = [];
      for (let t = sinceMs; t <= nowMs; t += stepMs)
        samples.push([t, this.percent.get(q.key) ?? 0]);
      out.set(q.key, samples);
    }
    return out;
  }
}

const silent = { info() {}, warn() {}, error() {}, debug() {} };

function context(): RunnableContext {
  return {
    store,
    driver: undefined as unknown as EcsDriver,
    log: silent,
    signal: new AbortController().signal,
    enqueue: async () => {},
    recordEvent: async (input) => {
      await store.recordEvent({
        ...input,
        source: { component: 'berth-controller' },
        now: new Date(clock),
      });
    },
    now: () => new Date(clock),
  };
}

let ecs: FakeSource;
let prom: FakeSource;
let registry: Registry;
let culler: Culler;

before(async () => {
  db = await freshDatabase();
  store = new ResourceStore(db.pool);
  await createTool(
    store,
    'tiny',
    tinySpec({ idle: { idleAfter: '60s', warnBefore: '10s', cpuThreshold: 5 } }),
  );
  await createTool(
    store,
    'sidecar-tool',
    tinySpec({
      idle: { idleAfter: '60s', warnBefore: '10s', cpuThreshold: 5 },
      sidecars: [{ name: 'metrics', image: 'berth/metrics:latest', port: 8889 }],
    }),
  );
  await createTool(
    store,
    'short-lived',
    tinySpec({ idle: { idleAfter: '1h', warnBefore: '10s' }, maxLifetime: '2m' }),
  );
});

after(async () => {
  await store?.close();
  await db?.drop();
});

beforeEach(() => {
  ecs = new FakeSource('ecs-task-stats');
  prom = new FakeSource('prometheus');
  registry = new Registry();
  culler = createCuller({
    intervalMs: 5 * S,
    sources: { ecsTaskStats: ecs, prometheus: prom },
    registry,
  });
});

let serial = 0;
/** A Ready instance whose task started and became ready at the clock's now. */
async function readyInstance(tool: string, ns = 'alice'): Promise<ToolInstance> {
  const name = `${tool}-${++serial}`;
  await createInstance(store, ns, name, tool);
  const at = new Date(clock).toISOString();
  await store.patchStatus('ToolInstance', ns, name, {
    status: {
      phase: 'Ready',
      taskArn: `arn:aws:ecs:us-east-1:000000000000:task/default/${name}task`,
      startedAt: at,
      readyAt: at,
      endpoint: 'http://127.0.0.1:8000',
    },
  });
  return getInstance(store, ns, name);
}

async function passAt(ms: number) {
  clock = ms;
  return culler.runOnce(context());
}

async function metric(name: string, labels = ''): Promise<number> {
  const text = await registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

test('an idle instance is warned, then stopped with reason Idle, an audit entry and Events in order', async () => {
  const t0 = clock;
  const ti = await readyInstance('tiny');
  const key = `alice/${ti.metadata.name}`;

  const quiet = await passAt(t0 + 10 * S);
  assert.equal(quiet.evaluated, 1);
  assert.deepEqual(quiet.warned, []);
  assert.equal(
    (await getInstance(store, 'alice', ti.metadata.name)).status?.idleSince,
    new Date(t0).toISOString(),
  );

  const warn = await passAt(t0 + 50 * S);
  assert.deepEqual(warn.warned, [key]);
  const warned = await getInstance(store, 'alice', ti.metadata.name);
  assert.equal(warned.status?.stopWarning?.reason, 'Idle');
  assert.equal(warned.status?.stopWarning?.stopAt, new Date(t0 + 60 * S).toISOString());
  assert.equal(warned.spec.state, 'Running');

  assert.deepEqual((await passAt(t0 + 59 * S)).stopped, [], 'not before stopAt');
  const stop = await passAt(t0 + 60 * S);
  assert.deepEqual(stop.stopped, [key]);
  const stopped = await getInstance(store, 'alice', ti.metadata.name);
  assert.equal(stopped.spec.state, 'Stopped');
  assert.equal(stopped.metadata.annotations?.['berth/stop-reason'], 'Idle');

  const events = await eventsFor(store, 'alice', ti.metadata.name);
  const firstSeen = (reason: string) =>
    Date.parse(
      (events.find((e) => e.reason === reason) as unknown as { firstTimestamp: string })
        .firstTimestamp,
    );
  assert.ok(
    firstSeen('StopScheduled') < firstSeen('Idle'),
    'the warning Event comes before the stop Event',
  );
  const idle = events.find((e) => e.reason === 'Idle')!;
  assert.match(idle.message, /idle 1m \(no user traffic, CPU under 5 % of its 0.25 vCPU\)/);
  assert.match(events.find((e) => e.reason === 'StopScheduled')!.message, /Keep it running/);

  const audit = await listAudit(db.pool, { action: 'instance.stopped' });
  const entry = audit.items.find((a) => a.target?.name === ti.metadata.name);
  assert.equal(entry?.how, 'culler');
  assert.equal(entry?.actor, 'system:culler');
  assert.deepEqual(
    {
      reason: entry?.detail.reason,
      tool: entry?.detail.tool,
      idleForSeconds: entry?.detail.idleForSeconds,
    },
    { reason: 'Idle', tool: 'tiny', idleForSeconds: 60 },
  );
  assert.equal(await metric('berth_culler_stops_total', 'reason="Idle"'), 1);
  assert.equal(await metric('berth_culler_warnings_total', 'reason="Idle"'), 1);

  // Next pass: no longer evaluated; what the culler left on it is cleared.
  await passAt(t0 + 61 * S);
  const tidied = await getInstance(store, 'alice', ti.metadata.name);
  assert.equal(tidied.status?.stopWarning, undefined);
  assert.equal(tidied.status?.idleSince, undefined);
  // Launched again: the old stop reason goes, so a later user stop is not read as Idle.
  await store.patch('ToolInstance', 'alice', ti.metadata.name, { spec: { state: 'Running' } });
  await passAt(t0 + 62 * S);
  const relaunched = await getInstance(store, 'alice', ti.metadata.name);
  assert.equal(relaunched.metadata.annotations?.['berth/stop-reason'], undefined);
  await store.delete('ToolInstance', 'alice', ti.metadata.name);
});

test('one read per source per pass: sidecar tools from Prometheus, the others from ECS task stats', async () => {
  const t0 = clock;
  const a = await readyInstance('tiny');
  const b = await readyInstance('tiny', 'bob');
  const c = await readyInstance('sidecar-tool');
  ecs.percent.set(`bob/${b.metadata.name}`, 50);
  const r = await passAt(t0 + 55 * S);
  assert.equal(ecs.calls.length, 1);
  assert.equal(prom.calls.length, 1);
  assert.deepEqual(
    ecs.calls[0]!.map((q) => q.key).sort(),
    [`alice/${a.metadata.name}`, `bob/${b.metadata.name}`].sort(),
  );
  assert.deepEqual(
    prom.calls[0]!.map((q) => [q.key, q.cpuUnits, q.tool]),
    [[`alice/${c.metadata.name}`, 256, 'sidecar-tool']],
  );
  assert.equal(ecs.calls[0]![0]!.taskArn.startsWith('arn:aws:ecs:'), true);
  // The busy one (bob) is not warned.
  assert.deepEqual(
    r.warned.sort(),
    [`alice/${a.metadata.name}`, `alice/${c.metadata.name}`].sort(),
  );

  // Without a Prometheus, the sidecar tool's CPU comes from ECS task stats too.
  const noProm = createCuller({ intervalMs: 5 * S, sources: { ecsTaskStats: ecs } });
  ecs.calls = [];
  clock = t0 + 56 * S;
  await noProm.runOnce(context());
  assert.equal(ecs.calls.length, 1);
  assert.equal(ecs.calls[0]!.length, 3);
  for (const ti of [a, b, c])
    await store.delete('ToolInstance', ti.metadata.namespace!, ti.metadata.name);
});

test('a source that fails: no Idle stop that pass, a metric; maxLifetime still stops', async () => {
  const t0 = clock;
  const old = await readyInstance('short-lived');
  clock = t0 + 60 * S;
  const idle = await readyInstance('tiny');
  await passAt(t0 + 115 * S); // maxLifetime (2m) due in 5s, idle (60s) due in 5s: both warned
  assert.equal(
    (await getInstance(store, 'alice', old.metadata.name)).status?.stopWarning?.reason,
    'MaxLifetime',
  );
  assert.equal(
    (await getInstance(store, 'alice', idle.metadata.name)).status?.stopWarning?.reason,
    'Idle',
  );
  ecs.fail = true;
  const r = await passAt(t0 + 125 * S);
  assert.deepEqual(r.sourceErrors, ['ecs-task-stats']);
  assert.deepEqual(r.stopped, [`alice/${old.metadata.name}`]);
  assert.equal((await getInstance(store, 'alice', idle.metadata.name)).spec.state, 'Running');
  assert.equal(await metric('berth_culler_source_errors_total', 'source="ecs-task-stats"'), 1);
  const audit = await listAudit(db.pool, { action: 'instance.stopped' });
  const entry = audit.items.find((e) => e.target?.name === old.metadata.name);
  assert.equal(entry?.detail.reason, 'MaxLifetime');
  assert.equal(entry?.detail.lifetimeSeconds, 125);
  // The source is back: the idle one is stopped.
  ecs.fail = false;
  assert.deepEqual((await passAt(t0 + 126 * S)).stopped, [`alice/${idle.metadata.name}`]);
  for (const ti of [idle, old]) await store.delete('ToolInstance', 'alice', ti.metadata.name);
});

test('a write racing the stop wins (the proxy records activity): not stopped, the warning cancelled next pass', async () => {
  const t0 = clock;
  const ti = await readyInstance('tiny');
  await passAt(t0 + 55 * S);
  assert.equal(
    (await getInstance(store, 'alice', ti.metadata.name)).status?.stopWarning?.reason,
    'Idle',
  );
  ecs.during = async () => {
    ecs.during = undefined;
    await store.patchStatus('ToolInstance', 'alice', ti.metadata.name, {
      status: { lastActivityAt: new Date(t0 + 64 * S).toISOString() },
    });
  };
  const r = await passAt(t0 + 65 * S);
  assert.deepEqual(r.stopped, []);
  assert.equal((await getInstance(store, 'alice', ti.metadata.name)).spec.state, 'Running');
  const next = await passAt(t0 + 66 * S);
  assert.deepEqual(next.cancelled, [`alice/${ti.metadata.name}`]);
  const after = await getInstance(store, 'alice', ti.metadata.name);
  assert.equal(after.status?.stopWarning, undefined);
  assert.ok(
    (await eventsFor(store, 'alice', ti.metadata.name)).some((e) => e.reason === 'StopCancelled'),
  );
  await store.delete('ToolInstance', 'alice', ti.metadata.name);
});

test('one replica at a time: a pass while another holds the lock is skipped', async () => {
  const t0 = clock;
  const ti = await readyInstance('tiny');
  let release!: () => void;
  const held = new Promise<void>((r) => {
    release = r;
  });
  let entered!: () => void;
  const inside = new Promise<void>((r) => {
    entered = r;
  });
  ecs.during = async () => {
    entered();
    await held;
  };
  clock = t0 + 10 * S;
  const first = culler.runOnce(context());
  await inside;
  const other = createCuller({
    intervalMs: 5 * S,
    sources: { ecsTaskStats: new FakeSource('ecs-task-stats') },
  });
  const second = await other.runOnce(context());
  assert.equal(second.skipped, true);
  assert.equal(second.evaluated, 0);
  release();
  const r = await first;
  assert.equal(r.skipped, false);
  assert.equal(r.evaluated, 1);
  // Released: the next pass runs.
  assert.equal((await other.runOnce(context())).skipped, false);
  await store.delete('ToolInstance', 'alice', ti.metadata.name);
});
