// Every container of a tool's task (the tool, the gate, each sidecar) is told
// whose task it is: BERTH_TOOL, BERTH_USER, BERTH_NAMESPACE, BERTH_INSTANCE. The
// metrics sidecar labels its series with them, so Prometheus knows the task's
// user and instance without asking berth.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { waitFor } from '../support/wait.ts';
import {
  createInstance,
  createTool,
  type Env,
  startEnv,
  tinySpec,
  waitForPhase,
} from './reconcile-support.ts';

let env: Env;
before(async () => {
  env = await startEnv({ addressOctet: 86 });
  await createTool(
    env.store,
    'tiny-metrics',
    tinySpec({
      sidecars: [
        { name: 'metrics', image: 'berth/metrics:latest', port: 8889 },
        { name: 'idle', image: 'berth/silent:latest' },
      ],
    }),
  );
});
after(() => env?.close());

/** The environment each running container process started with, by container name. */
async function containerEnvironments(): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>();
  for (const p of env.ecsLocal.processes()) {
    if (!p.running) continue;
    let environ: Record<string, string>;
    try {
      environ = Object.fromEntries(
        readFileSync(`/proc/${p.pid}/environ`, 'utf8')
          .split('\0')
          .filter(Boolean)
          .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
      );
    } catch {
      continue; // exited since
    }
    const uri = environ.ECS_CONTAINER_METADATA_URI_V4;
    if (!uri) continue;
    const meta = (await (await fetch(uri)).json()) as { Name: string };
    out.set(meta.Name, environ);
  }
  return out;
}

test('the tool, the gate and every sidecar get BERTH_TOOL, BERTH_USER, BERTH_NAMESPACE and BERTH_INSTANCE', async () => {
  await createInstance(env.store, 'analyst7', 'mine', 'tiny-metrics');
  const ti = await waitForPhase(env.store, 'analyst7', 'mine', 'Ready', 30_000);
  const envs = await containerEnvironments();
  assert.deepEqual([...envs.keys()].sort(), ['berth-gate', 'idle', 'metrics', 'tool']);
  for (const [name, e] of envs) {
    assert.equal(e.BERTH_TOOL, 'tiny-metrics', name);
    assert.equal(e.BERTH_USER, 'analyst7', name);
    assert.equal(e.BERTH_NAMESPACE, 'analyst7', name);
    assert.equal(e.BERTH_INSTANCE, 'mine', name);
  }

  // The metrics sidecar's series carry them (and the task id).
  const host = new URL(ti.status!.endpoint!).hostname;
  const text = await waitFor(
    async () => {
      const r = await fetch(`http://${host}:8889/metrics`).catch(() => undefined);
      return r?.status === 200 ? r.text() : undefined;
    },
    20_000,
    'the metrics sidecar answering',
  );
  const taskId = ti.status!.taskArn!.split('/').pop();
  const toolCpu = text
    .split('\n')
    .find(
      (l) => l.startsWith('berth_container_cpu_seconds_total{') && l.includes('container="tool"'),
    );
  assert.ok(toolCpu, text);
  for (const label of [
    'tool="tiny-metrics"',
    'user="analyst7"',
    'tool_instance="mine"',
    `task="${taskId}"`,
  ])
    assert.ok(toolCpu.includes(label), `${label} in ${toolCpu}`);
});
