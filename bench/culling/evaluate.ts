// `make bench-culling`: what evaluating 1,000 Ready instances costs the
// controller. Two controller processes in turn on the same database (each a
// child, so /proc counts its CPU alone): the idle controller (the manager and
// reconcilers, nothing to do) and the same with the culler passing every
// second, its CPU read from an in-process double that answers every instance
// with the samples a default (60 s) pass reads. Prints CPU % of a core of
// each over the window, the difference at 1 s, and that difference scaled to
// the default 60 s interval (a pass costs the same; there are 60 × fewer).
// Target: < 1 % of a core at 60 s.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { KINDS } from '../../crds/index.ts';
import { createPool, migrate, ResourceStore } from '../../store/index.ts';
import { startBenchPostgres } from '../postgres.lib.ts';
import { cpuSeconds } from '../proxy/cpu.lib.ts';

const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 1000);
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 60_000);
const WARMUP_MS = 10_000;
const INTERVAL_MS = 1000;

const pg = await startBenchPostgres();
try {
  const url = await pg.createDatabase('culling');
  const pool = createPool(url, { max: 20 });
  await migrate(pool);
  const store = new ResourceStore(pool, { kinds: KINDS });
  await store.create('ToolDefinition', {
    apiVersion: 'berth/v1alpha1',
    kind: 'ToolDefinition',
    metadata: { name: 'bench' },
    spec: {
      displayName: 'Bench',
      image: 'berth/demo:latest',
      port: 8888,
      sizes: { small: { cpu: 256, memory: 512 } },
      defaultSize: 'small',
      idle: { idleAfter: '1h', warnBefore: '10m' },
    },
  });
  const now = new Date().toISOString();
  for (let i = 0; i < INSTANCES; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, INSTANCES - i) }, async (_, j) => {
        const name = `bench-${i + j}`;
        const ns = `user${(i + j) % 100}`;
        await store.create('ToolInstance', {
          apiVersion: 'berth/v1alpha1',
          kind: 'ToolInstance',
          metadata: { namespace: ns, name },
          spec: { toolRef: 'bench', state: 'Running' },
        });
        await store.patchStatus('ToolInstance', ns, name, {
          status: {
            phase: 'Ready',
            taskArn: `arn:aws:ecs:us-east-1:000000000000:task/default/${name}`,
            startedAt: now,
            readyAt: now,
            endpoint: 'http://127.0.0.1:8000',
          },
        });
      }),
    );
  }
  await store.close();
  await pool.end();
  console.log(
    `${INSTANCES} Ready instances; window ${WINDOW_MS / 1000} s after ${WARMUP_MS / 1000} s of warm-up`,
  );

  const idle = await measure(url, false);
  const culling = await measure(url, true);
  const diff = culling.percent - idle.percent;
  console.log(`idle controller:          ${idle.percent.toFixed(2)} % of a core`);
  console.log(
    `with the culler every 1 s: ${culling.percent.toFixed(2)} % of a core (${culling.report})`,
  );
  console.log(`the culler at 1 s:         ${diff.toFixed(2)} % of a core`);
  const at60 = diff / 60;
  console.log(
    `the culler at 60 s:        ${at60.toFixed(3)} % of a core (1 s figure / 60; target < 1 %) ${at60 < 1 ? 'OK' : 'OVER'}`,
  );
} finally {
  await pg.close();
}

async function measure(url: string, culler: boolean): Promise<{ percent: number; report: string }> {
  const child = spawn(
    process.execPath,
    [
      '--disable-warning=ExperimentalWarning',
      join(import.meta.dirname, 'controller-child.lib.ts'),
      ...(culler ? ['--culler'] : []),
    ],
    {
      env: { ...process.env, BENCH_DATABASE_URL: url, BENCH_CULL_INTERVAL_MS: String(INTERVAL_MS) },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  while (!out.includes('ready')) {
    if (child.exitCode !== null) throw new Error(`the controller exited: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  const pid = child.pid!;
  const cpu0 = cpuSeconds([pid]);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, WINDOW_MS));
  const cpu1 = cpuSeconds([pid]);
  const elapsed = (performance.now() - t0) / 1000;
  child.kill('SIGTERM');
  await exited;
  const report = out.split('\n').find((l) => l.startsWith('{')) ?? '';
  return { percent: ((cpu1 - cpu0) / elapsed) * 100, report };
}
