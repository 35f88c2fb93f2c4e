// `make bench-metrics`: what the metrics sidecar costs beside a tool. Over one
// window (BENCH_WINDOW_MS, 60 s) three processes run side by side against a
// task metadata endpoint served here (a task of three containers): the sidecar
// unscraped (at rest), the sidecar scraped every second (a cost per scrape that
// stands out of the noise, scaled to Prometheus's 15 s), and, as the baseline,
// a bare Node.js HTTP server doing nothing. Prints CPU % of a core and RSS of
// each, the ratios to the baseline, and the CPU of one health check run
// (`main.ts healthcheck`, which ECS runs every 30 s) measured with /usr/bin/time.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { cpuSeconds } from '../proxy/cpu.lib.ts';

const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 60_000);
const WARMUP_MS = 5_000;
const HEALTH_RUNS = 10;
const MAIN = join(import.meta.dirname, '..', '..', 'sidecars', 'metrics', 'main.ts');
const ARN = 'arn:aws:ecs:eu-west-2:000000000000:task/default/bench';
const CONTAINERS = ['tool', 'gate', 'metrics'];

// A task document and stats shaped as the ECS agent's (the fields the sidecar reads).
let cpuNs = 1e9;
const endpoint = createServer((req, res) => {
  cpuNs += 1e7;
  const body = req.url?.endsWith('/task')
    ? {
        TaskARN: ARN,
        Limits: { CPU: 0.25, Memory: 512 },
        Containers: CONTAINERS.map((name) => ({ DockerId: name, Name: name })),
      }
    : Object.fromEntries(
        CONTAINERS.map((id) => [
          id,
          {
            cpu_stats: { cpu_usage: { total_usage: cpuNs } },
            memory_stats: { usage: 50e6, limit: 512 * 2 ** 20 },
            networks: { eth0: { rx_bytes: 1000, tx_bytes: 2000 } },
            blkio_stats: { io_service_bytes_recursive: [] },
          },
        ]),
      );
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
});
endpoint.listen(0, '127.0.0.1');
await once(endpoint, 'listening');
const metadataUri = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/v4/bench`;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

async function startSidecar(): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', MAIN], {
    env: {
      PATH: process.env.PATH,
      BERTH_TOOL: 'bench',
      BERTH_USER: 'bench',
      BERTH_INSTANCE: 'bench',
      METRICS_PORT: String(port),
      BERTH_BIND_HOST: '127.0.0.1',
      ECS_CONTAINER_METADATA_URI_V4: metadataUri,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; ; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { child, port };
    if (i > 200 || child.exitCode !== null) throw new Error('the metrics sidecar did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
}

function startBaseline(): ChildProcess {
  const code = "require('node:http').createServer().listen(0, '127.0.0.1')";
  return spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
}

function rssMiB(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}

const atRest = await startSidecar();
const scraped = await startSidecar();
const baseline = startBaseline();
const children = [atRest.child, scraped.child, baseline];
let scrapes = 0;
const scraper = setInterval(() => {
  void fetch(`http://127.0.0.1:${scraped.port}/metrics`)
    .then((r) => r.text())
    .then(() => scrapes++);
}, 1000);
try {
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  const pids = children.map((c) => c.pid!);
  const cpu0 = pids.map((p) => cpuSeconds([p]));
  const scrapes0 = scrapes;
  await new Promise((r) => setTimeout(r, WINDOW_MS));
  const seconds = WINDOW_MS / 1000;
  const pct = pids.map((p, i) => ((cpuSeconds([p]) - cpu0[i]!) / seconds) * 100);
  const rss = pids.map(rssMiB);
  const n = scrapes - scrapes0;
  const perScrapeMs = ((pct[1]! - pct[0]!) / 100) * (seconds / Math.max(1, n)) * 1000;

  const health: number[] = [];
  for (let i = 0; i < HEALTH_RUNS; i++) {
    const r = spawnSync('/usr/bin/time', ['-f', '%U %S', process.execPath, MAIN, 'healthcheck'], {
      env: {
        PATH: process.env.PATH,
        METRICS_PORT: String(atRest.port),
        BERTH_BIND_HOST: '127.0.0.1',
      },
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`the health check failed: ${r.stderr.trim()}`);
    const [user, sys] = r.stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
    health.push(user! + sys!);
  }
  const healthS = health.sort((a, b) => a - b)[Math.floor(HEALTH_RUNS / 2)]!;

  console.log(`window ${seconds} s; a task of ${CONTAINERS.length} containers`);
  console.log(
    `  baseline (bare node HTTP server): CPU ${pct[2]!.toFixed(3)} % of a core, RSS ${rss[2]!.toFixed(1)} MiB`,
  );
  console.log(
    `  sidecar at rest:                  CPU ${pct[0]!.toFixed(3)} % of a core, RSS ${rss[0]!.toFixed(1)} MiB (${(rss[0]! / rss[2]!).toFixed(2)}x baseline)`,
  );
  console.log(
    `  sidecar scraped every 1 s:        CPU ${pct[1]!.toFixed(3)} % of a core, RSS ${rss[1]!.toFixed(1)} MiB; ${n} scrapes, ${perScrapeMs.toFixed(2)} ms CPU each`,
  );
  console.log(
    `  at Prometheus's 15 s interval:    ${((perScrapeMs / 15_000) * 100 + pct[0]!).toFixed(3)} % of a core`,
  );
  console.log(
    `  health check (median of ${HEALTH_RUNS}):      ${(healthS * 1000).toFixed(0)} ms CPU a run; every 30 s: ${((healthS / 30) * 100).toFixed(2)} % of a core`,
  );
} finally {
  clearInterval(scraper);
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode === null ? once(c, 'exit') : undefined)));
  endpoint.close();
}
