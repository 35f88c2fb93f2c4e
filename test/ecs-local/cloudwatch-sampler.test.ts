// The sampler behind ecs-local's Container Insights metrics keeps no timer while
// no task runs, keeps at most its bound of samples per task, and forgets a task
// a while after it stopped. Its "tasks" here are this test process itself.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TaskMetricsSampler } from '../../ecs-local/cloudwatch-sampler.ts';
import type { TaskRecord } from '../../ecs-local/task-record.ts';
import { waitFor } from './helpers.ts';

function fakeTask(id: string) {
  const container = {
    runtimeId: `${id}-1`,
    startedAt: Date.now(),
    process: { pid: process.pid, running: true },
  };
  const task = {
    id,
    lastStatus: 'RUNNING',
    cluster: { name: 'default' },
    definition: { family: 'fam' },
    cpu: '512',
    memory: '1024',
    containers: [container],
  };
  return {
    task: task as unknown as TaskRecord,
    stop: () => {
      container.process.running = false;
      task.lastStatus = 'STOPPED';
    },
  };
}

test('no timer without a running task; at most maxSamples a task; a stopped task is forgotten after stoppedKeepMs', async () => {
  const a = fakeTask('a');
  const tasks: TaskRecord[] = [];
  const sampler = new TaskMetricsSampler({
    tasks: { all: () => tasks },
    periodMs: 100,
    maxSamples: 3,
    stoppedKeepMs: 500,
  });
  try {
    assert.equal(sampler.sampling, false, 'nothing runs: no timer');
    // A wake with nothing running lets the timer lapse at its first tick.
    sampler.wake();
    assert.equal(sampler.sampling, true);
    await waitFor('the timer to lapse', async () => !sampler.sampling);
    tasks.push(a.task);
    sampler.wake();
    const series = await waitFor('three periods sampled', async () => {
      const s = sampler.find('default', 'fam', 'a');
      return s && s.samples.length === 3 ? { ...s, samples: [...s.samples] } : undefined;
    });
    assert.equal(series.cpuReserved, 512);
    assert.equal(series.memoryReserved, 1024);
    await waitFor('the bound to hold while sampling goes on', async () => {
      const s = sampler.find('default', 'fam', 'a')!;
      return s.samples.length === 3 && s.samples.at(-1)!.t >= series.samples.at(-1)!.t + 200;
    });
    const times = sampler.find('default', 'fam', 'a')!.samples.map((x) => x.t);
    assert.deepEqual(
      times,
      [times[0]!, times[0]! + 100, times[0]! + 200],
      'one a period, on its boundaries',
    );
    a.stop();
    await waitFor('the timer to stop once no task runs', async () => !sampler.sampling);
    assert.ok(sampler.find('default', 'fam', 'a'), 'still answered just after it stopped');
    await waitFor(
      'the stopped task to be forgotten',
      async () => !sampler.find('default', 'fam', 'a'),
    );
  } finally {
    sampler.close();
  }
});
