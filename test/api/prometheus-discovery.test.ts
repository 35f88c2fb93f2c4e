// The real Prometheus discovers the tools' metrics sidecars through the API and
// scrapes them: the demo tool with the `metrics` sidecar, launched by the
// controllers under ecs-local, is a target that is up, its CPU series carry the
// instance's labels, and stopping the instance drops the target.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ToolInstance } from '../../crds/index.ts';
import {
  createInstance,
  createTool,
  getInstance,
  waitForPhase,
} from '../controllers/reconcile-support.ts';
import { admin } from '../support/ecs-local.ts';
import { demoWithMetrics, type MetricsEnv, startMetricsEnv } from '../support/metrics-env.ts';
import { waitFor } from '../support/wait.ts';

let m: MetricsEnv;

before(async () => {
  m = await startMetricsEnv({ addressOctet: 181 });
  await createTool(m.env.store, 'demo', demoWithMetrics());
  await createInstance(m.env.store, 'alice', 'demo', 'demo');
});

after(async () => {
  await m?.close();
});

const taskIdOf = (ti: ToolInstance) => ti.status!.taskArn!.split('/').at(-1)!;

/** The metrics container's output, for a failure message. */
async function sidecarLog(ti: ToolInstance): Promise<string> {
  const path = `/_ecs-local/tasks/${taskIdOf(ti)}/containers/metrics/logs`;
  return (await (await admin(m.env.ecsLocal, path)).text()).slice(-2000);
}

test("Prometheus finds the demo's metrics sidecar through the API, scrapes it, and its CPU series carry the instance's labels", async () => {
  const ti = await waitForPhase(m.env.store, 'alice', 'demo', 'Ready', 60_000);
  const host = new URL(ti.status!.endpoint!).hostname;
  const started = Date.now();
  const target = await waitFor(
    async () => (await m.prometheus.targets()).find((t) => t.health === 'up'),
    30_000,
    'the sidecar target to be up',
    200,
  ).catch(async (err) => {
    throw new Error(
      `${err.message}; targets: ${JSON.stringify(await m.prometheus.targets())}; the sidecar's output: ${await sidecarLog(ti)}`,
    );
  });
  console.log(`Ready -> target up in Prometheus: ${((Date.now() - started) / 1000).toFixed(2)} s`);
  assert.equal(target.scrapeUrl, `http://${host}:8889/metrics`);
  assert.equal(target.labels.user, 'alice');
  assert.equal(target.labels.tool_instance, 'demo');
  assert.equal(target.labels.tool, 'demo');
  assert.equal(target.labels.task, taskIdOf(ti));
  assert.equal(target.discoveredLabels.__meta_berth_task_arn, ti.status!.taskArn);

  const series = await waitFor(
    async () => {
      const r = await m.prometheus.query('berth_container_cpu_seconds_total{tool="demo"}');
      return r.length > 0 ? r : undefined;
    },
    30_000,
    'berth_container_cpu_seconds_total{tool="demo"}',
    200,
  );
  const containers = series.map((s) => s.metric.container).sort();
  assert.ok(containers.includes('tool'), `the tool's own container: ${containers}`);
  assert.ok(containers.includes('metrics'), `the sidecar's: ${containers}`);
  for (const s of series) {
    assert.equal(s.metric.user, 'alice');
    assert.equal(s.metric.tool_instance, 'demo');
    assert.equal(s.metric.tool, 'demo');
    assert.equal(s.metric.task, taskIdOf(ti));
    assert.equal(s.metric.job, 'berth-tools');
    // The scraped copies of the discovered labels are dropped, not kept beside them.
    assert.deepEqual(
      Object.keys(s.metric).filter((k) => k.startsWith('exported_')),
      [],
    );
    assert.ok(Number(s.value[1]) > 0, `${s.metric.container} used some CPU`);
  }
  const memory = await waitFor(
    async () => {
      const r = await m.prometheus.query(
        'berth_container_memory_usage_bytes{tool="demo",container="tool"}',
      );
      return r.length > 0 ? r : undefined;
    },
    30_000,
    'the tool container memory series',
    200,
  );
  assert.ok(Number(memory[0]!.value[1]) > 1_000_000, 'a Node process uses over 1 MB');
});

test('stopping the instance drops its target', async () => {
  await getInstance(m.env.store, 'alice', 'demo');
  await m.env.store.patch('ToolInstance', 'alice', 'demo', { spec: { state: 'Stopped' } });
  const started = Date.now();
  await waitFor(
    async () => (await m.prometheus.targets()).length === 0,
    30_000,
    'the target to leave Prometheus',
    200,
  );
  console.log(`stop -> target gone: ${((Date.now() - started) / 1000).toFixed(2)} s`);
  const r = await fetch(m.api.url + '/apis/berth/v1alpha1/prometheus-targets', {
    headers: { authorization: `Bearer ${m.sdToken}` },
  });
  assert.deepEqual(await r.json(), []);
});
