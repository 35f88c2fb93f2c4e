// The sidecar as a process against a task metadata endpoint this test controls:
// it reads the endpoint only when scraped, answers 503 while the endpoint is down
// and carries on, keeps its counters monotonic when a container's figures fall,
// and refuses bad settings with one line naming them and exit 2. Its health check
// exits 0 only while /healthz answers.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { waitFor } from '../../support/wait.ts';
import { one, parseMetrics } from './scrape.ts';

const MAIN = join(import.meta.dirname, '..', '..', '..', 'sidecars', 'metrics', 'main.ts');
const ARN = 'arn:aws:ecs:eu-west-2:000000000000:task/default/feedface';
const IDENTITY = { BERTH_TOOL: 'jupyterlab', BERTH_USER: 'analyst2', BERTH_INSTANCE: 'jl' };

let cpuNs = 5e9;
let up = true;
let reads = 0;
let endpoint: Server;
let sidecar: ChildProcess;
let port: number;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

before(async () => {
  endpoint = createServer((req, res) => {
    reads += 1;
    if (!up) {
      res.writeHead(500).end('agent unavailable');
      return;
    }
    const body =
      req.url === '/v4/x/task'
        ? {
            TaskARN: ARN,
            Limits: { CPU: 1, Memory: 2048 },
            Containers: [{ DockerId: 'x', Name: 'tool' }],
          }
        : {
            x: { cpu_stats: { cpu_usage: { total_usage: cpuNs } }, memory_stats: { usage: 1000 } },
          };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((r) => endpoint.listen(0, '127.0.0.1', r));
  port = await freePort();
  sidecar = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH,
      ...IDENTITY,
      METRICS_PORT: String(port),
      BERTH_BIND_HOST: '127.0.0.1',
      ECS_CONTAINER_METADATA_URI_V4: `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/v4/x`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await waitFor(
    async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok,
    20_000,
    'the sidecar listening',
  );
});

after(async () => {
  if (sidecar?.exitCode === null) {
    sidecar.kill('SIGTERM');
    await once(sidecar, 'exit');
  }
  endpoint?.close();
});

const scrape = () => fetch(`http://127.0.0.1:${port}/metrics`);
const cpu = async () =>
  one(parseMetrics(await (await scrape()).text()), 'berth_container_cpu_seconds_total', {
    container: 'tool',
  }).value;

test('reads the endpoint only when scraped; 503 while it is down, and back when it is', async () => {
  // Up and answering /healthz since before() ended, and nobody has scraped yet.
  assert.equal(reads, 0, 'no reads before a scrape');
  assert.equal(await cpu(), 5);
  assert.equal(reads, 2, '/task and /task/stats, once each');

  up = false;
  const down = await scrape();
  assert.equal(down.status, 503);
  assert.match(await down.text(), /task metadata endpoint could not be read: .*answered 500/);
  assert.equal(sidecar.exitCode, null, 'still running');
  up = true;
  assert.equal(await cpu(), 5);
});

test('a container whose CPU falls (restarted in place) keeps a monotonic counter', async () => {
  cpuNs = 7e9;
  assert.equal(await cpu(), 7);
  cpuNs = 1e9; // restarted
  assert.equal(await cpu(), 7);
  cpuNs = 3e9;
  assert.equal(await cpu(), 9);
});

test('its health check exits 0 while /healthz answers, 1 when nothing listens', async () => {
  const check = async (p: number) => {
    const c = spawn(process.execPath, [MAIN, 'healthcheck'], {
      env: { PATH: process.env.PATH, METRICS_PORT: String(p), BERTH_BIND_HOST: '127.0.0.1' },
      stdio: 'ignore',
    });
    const [code] = await once(c, 'exit');
    return code;
  };
  assert.equal(await check(port), 0);
  assert.equal(await check(await freePort()), 1);
  const bad = spawn(process.execPath, [MAIN, 'healthcheck'], {
    env: { PATH: process.env.PATH, METRICS_PORT: '88890' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  bad.stderr!.on('data', (d: Buffer) => {
    stderr += d;
  });
  const [code] = await once(bad, 'exit');
  assert.equal(code, 2, 'a bad port is a bad setting, not unhealthy');
  assert.match(stderr, /METRICS_PORT: must be an integer from 1 to 65535/);
});

test('bad or missing settings: one line naming each variable, no stack trace, exit 2', async () => {
  const c = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH,
      METRICS_PORT: 'eighty',
      ECS_CONTAINER_METADATA_URI_V4: 'not a url',
      BERTH_USER: 'analyst2',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  c.stderr!.on('data', (d: Buffer) => {
    stderr += d;
  });
  const [code] = await once(c, 'exit');
  assert.equal(code, 2);
  for (const name of [
    'METRICS_PORT',
    'ECS_CONTAINER_METADATA_URI_V4',
    'BERTH_TOOL',
    'BERTH_INSTANCE',
  ])
    assert.match(stderr, new RegExp(name), `${name} named in: ${stderr}`);
  assert.doesNotMatch(stderr, /BERTH_USER/, 'a good one is not named');
  assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
});
