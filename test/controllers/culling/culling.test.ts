// What the "must show" asks of the culler, with the real parts: the demo
// tool run by ecs-local and launched by the controllers, the culler reading its
// CPU from ECS task stats (CloudWatch GetMetricData through the real SDK, which
// ecs-local answers from /proc, sampled every second), and the proxy recording
// user activity. idleAfter is seconds, the culler passes every second.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { WebSocket } from 'ws';
import type { ToolInstance } from '../../../crds/index.ts';
import { listAudit } from '../../../store/index.ts';
import { bearer, get } from '../../proxy/support.ts';
import { waitFor } from '../../support/wait.ts';
import { eventsFor, getInstance, waitForPhase } from '../reconcile-support.ts';
import {
  CULL_INTERVAL_MS,
  type CullingEnv,
  demoSpec,
  launch,
  startCullingEnv,
} from './culling-env.ts';

const IDLE_AFTER_MS = 5000;
const idle = { idleAfter: '5s', warnBefore: '2s', cpuThreshold: 5 };
/** A loaded 2-core machine: a pass, a sample or a write may come seconds late. */
const SLACK_MS = 8000;

let env: CullingEnv;

before(async () => {
  env = await startCullingEnv(60 + Math.floor(Math.random() * 60));
});

after(async () => {
  await env?.close();
});

const host = (tool: string) => `${tool}--alice.localhost`;

async function ready(tool: string): Promise<ToolInstance> {
  const ti = await waitForPhase(env.store, 'alice', tool, 'Ready', 60_000);
  await waitFor(
    () => (env.proxy.routes.definitions.has(tool) ? true : undefined),
    10_000,
    `the proxy to know ${tool}`,
  );
  return ti;
}

/** The tool's own port in its task (the endpoint is the gate's): reached directly, it is no user traffic. */
function toolUrl(ti: ToolInstance, pathAndQuery: string): string {
  const u = new URL(ti.status!.endpoint!);
  return `http://${u.hostname}:8888${pathAndQuery}`;
}

async function stoppedBy(tool: string, timeoutMs: number) {
  const ti = await waitForPhase(env.store, 'alice', tool, 'Stopped', timeoutMs);
  const audit = await listAudit(env.db.pool, { action: 'instance.stopped' });
  const entry = audit.items.find((a) => a.target?.name === tool && a.how === 'culler');
  return { ti, entry };
}

/** Polls for `ms` that the instance stays Running with no stop scheduled. */
async function staysRunning(tool: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const ti = await getInstance(env.store, 'alice', tool);
    assert.equal(ti.spec.state, 'Running', `${tool} was stopped: ${JSON.stringify(ti.status)}`);
    assert.equal(
      ti.status?.stopWarning,
      undefined,
      `${tool} was warned: ${ti.status?.stopWarning?.message}`,
    );
    await new Promise((r) => setTimeout(r, 200));
  }
}

function firstSeen(events: Awaited<ReturnType<typeof eventsFor>>, reason: string): number {
  const e = events.find((x) => x.reason === reason) as unknown as
    | { firstTimestamp: string }
    | undefined;
  assert.ok(e, `an Event ${reason}`);
  return Date.parse(e.firstTimestamp);
}

test('no traffic and no CPU: warned, then Stopped with reason Idle within idleAfter and a pass', async (t) => {
  await launch(env, 'quiet', demoSpec({ idle }));
  const ti = await ready('quiet');
  const warned = await waitFor(
    async () => (await getInstance(env.store, 'alice', 'quiet')).status?.stopWarning,
    30_000,
    'the stop warning',
  );
  assert.equal(warned.reason, 'Idle');
  assert.match(warned.message, /no user traffic, CPU under 5 % of its 0.25 vCPU/);

  const { ti: stopped, entry } = await stoppedBy('quiet', 30_000);
  assert.equal(stopped.status?.stopReason, 'Idle');
  assert.ok(entry, 'an audit entry by the culler');
  assert.equal(entry.detail.reason, 'Idle');
  const tookMs = Date.parse(entry.at) - Date.parse(ti.status!.readyAt!);
  t.diagnostic(
    `Ready -> the culler's stop: ${tookMs} ms (idleAfter ${IDLE_AFTER_MS} ms, pass every ${CULL_INTERVAL_MS} ms)`,
  );
  assert.ok(tookMs >= IDLE_AFTER_MS, `stopped after ${tookMs} ms, before idleAfter`);
  assert.ok(
    tookMs <= IDLE_AFTER_MS + CULL_INTERVAL_MS + SLACK_MS,
    `stopped ${tookMs} ms after Ready (idleAfter + a pass + ${SLACK_MS} ms of slack)`,
  );
  const events = await eventsFor(env.store, 'alice', 'quiet');
  assert.ok(
    firstSeen(events, 'StopScheduled') < firstSeen(events, 'Idle'),
    'the warning Event comes first',
  );
  assert.match(events.find((e) => e.reason === 'Idle')!.message, /idle \d+s \(no user traffic/);
});

test('busy CPU (the demo spinning) and no traffic: not stopped over 2 x idleAfter; stopped once it stops spinning', async () => {
  await launch(env, 'busy', demoSpec({ idle }));
  const ti = await ready('busy');
  const spinMs = 2 * IDLE_AFTER_MS + 2000;
  const r = await fetch(toolUrl(ti, `/spin?seconds=${spinMs / 1000}`), { method: 'POST' });
  assert.equal(r.status, 200);
  await staysRunning('busy', 2 * IDLE_AFTER_MS);
  const seen = await getInstance(env.store, 'alice', 'busy');
  assert.equal(seen.status?.lastActivityAt, undefined, 'no user traffic reached it');
  // Its CPU was what kept it: once the spin ends it is culled like any idle tool.
  const { ti: stopped } = await stoppedBy('busy', spinMs + IDLE_AFTER_MS + 30_000);
  assert.equal(stopped.status?.stopReason, 'Idle');
});

test('traffic over HTTP and over WebSocket (data frames) and no CPU: not stopped; stopped once it ends', async () => {
  await launch(env, 'http', demoSpec({ idle }));
  await launch(env, 'socket', demoSpec({ idle }));
  // Each gets traffic from the moment it is Ready, every second, for 2 x idleAfter.
  const overHttp = async () => {
    await ready('http');
    const timer = setInterval(
      () =>
        void get(env.proxy, host('http'), '/healthz', {
          ...bearer(env.token),
          'x-berth-no-launch': '1',
        }),
      1000,
    );
    try {
      await staysRunning('http', 2 * IDLE_AFTER_MS);
    } finally {
      clearInterval(timer);
    }
  };
  const overWebSocket = async () => {
    await ready('socket');
    const ws = new WebSocket(`ws://127.0.0.1:${env.proxy.port}/ws`, {
      headers: { host: `${host('socket')}:${env.proxy.port}`, ...bearer(env.token) },
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.send('hello');
    const timer = setInterval(() => ws.send('hello'), 1000);
    try {
      await staysRunning('socket', 2 * IDLE_AFTER_MS);
    } finally {
      clearInterval(timer);
      ws.close();
    }
  };
  await Promise.all([overHttp(), overWebSocket()]);
  for (const tool of ['http', 'socket'])
    assert.ok(
      (await getInstance(env.store, 'alice', tool)).status?.lastActivityAt,
      `${tool}: activity recorded`,
    );
  assert.equal((await stoppedBy('http', 30_000)).ti.status?.stopReason, 'Idle');
  assert.equal((await stoppedBy('socket', 30_000)).ti.status?.stopReason, 'Idle');
});

test("only pings (the browser's and the proxy's) and no CPU: Stopped with reason Idle", async (t) => {
  await launch(env, 'pings', demoSpec({ idle }));
  const ti = await ready('pings');
  const ws = new WebSocket(`ws://127.0.0.1:${env.proxy.port}/ws`, {
    headers: { host: `${host('pings')}:${env.proxy.port}`, ...bearer(env.token) },
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const timer = setInterval(() => ws.ping(), 500);
  try {
    const { ti: stopped, entry } = await stoppedBy('pings', 40_000);
    assert.equal(stopped.status?.stopReason, 'Idle');
    t.diagnostic(
      `Ready -> stop with only pings: ${Date.parse(entry!.at) - Date.parse(ti.status!.readyAt!)} ms`,
    );
  } finally {
    clearInterval(timer);
    ws.terminate();
  }
});

test('maxLifetime: warned, then Stopped with reason MaxLifetime while busy and used', async () => {
  await launch(env, 'mortal', demoSpec({ idle: { ...idle, idleAfter: '1h' }, maxLifetime: '8s' }));
  const ti = await ready('mortal');
  await fetch(toolUrl(ti, '/spin?seconds=30'), { method: 'POST' });
  const timer = setInterval(
    () =>
      void get(env.proxy, host('mortal'), '/healthz', {
        ...bearer(env.token),
        'x-berth-no-launch': '1',
      }),
    1000,
  );
  try {
    const warned = await waitFor(
      async () => (await getInstance(env.store, 'alice', 'mortal')).status?.stopWarning,
      30_000,
      'the maxLifetime warning',
    );
    assert.equal(warned.reason, 'MaxLifetime');
    const { ti: stopped, entry } = await stoppedBy('mortal', 30_000);
    assert.equal(stopped.status?.stopReason, 'MaxLifetime');
    assert.equal(entry?.detail.reason, 'MaxLifetime');
    assert.ok(
      Date.parse(entry!.at) >= Date.parse(ti.status!.startedAt!) + 8000,
      'not before maxLifetime',
    );
    const events = await eventsFor(env.store, 'alice', 'mortal');
    assert.ok(firstSeen(events, 'StopScheduled') <= firstSeen(events, 'MaxLifetime'));
  } finally {
    clearInterval(timer);
  }
});

test('a restart of the controllers keeps a scheduled stop: not lost, not early, not warned twice', async () => {
  await launch(env, 'restart', demoSpec({ idle: { ...idle, idleAfter: '6s', warnBefore: '4s' } }));
  await ready('restart');
  const warning = await waitFor(
    async () => (await getInstance(env.store, 'alice', 'restart')).status?.stopWarning,
    30_000,
    'the stop warning',
  );
  await env.restartControllers();
  const { ti, entry } = await stoppedBy('restart', 30_000);
  assert.equal(ti.status?.stopReason, 'Idle');
  assert.ok(
    Date.parse(entry!.at) >= Date.parse(warning.stopAt),
    `stopped at ${entry!.at}, before the warned ${warning.stopAt}`,
  );
  const scheduled = (await eventsFor(env.store, 'alice', 'restart')).filter(
    (e) => e.reason === 'StopScheduled',
  );
  assert.deepEqual(
    scheduled.map((e) => e.count),
    [1],
    'one warning, not a second after the restart',
  );
});
