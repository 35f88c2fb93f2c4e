// HTTP throughput and latency under wrk, one upstream measured in one run:
// direct, through configurable-http-proxy 5.x (JupyterHub's proxy), through the
// bare node:http + undici forwarder (bare-forwarder.lib.ts: the floor of berth's
// stack) and through berth's proxy, all with an authenticated request (bearer
// token; the others just forward it). berth's proxy runs as `berth proxy` does in
// production, once with one process (BERTH_PROXY_WORKERS=1, the default) and once
// with one per CPU (auto). Prints req/s, p50/p99 and the ratios.
// Targets: berth >= 0.40 x direct and >= 2 x configurable-http-proxy.
// Env: BENCH_DURATION (s, default 5), BENCH_CONNECTIONS (default 50), BENCH_ROUNDS (default 3).
import { spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../store/index.ts';
import {
  benchDatabase,
  ensureWrk,
  spawnNode,
  startBerthProxyCommand,
  TOOL_HOST,
} from './setup.lib.ts';

const duration = Number(process.env.BENCH_DURATION ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const root = join(import.meta.dirname, '..', '..');

interface WrkResult {
  rps: number;
  p50: string;
  p99: string;
  errors: string;
}

function wrk(url: string, headers: Record<string, string>, seconds = duration): WrkResult {
  const args = ['-t2', `-c${connections}`, `-d${seconds}s`, '--latency'];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  const r = spawnSync('wrk', [...args, url], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`wrk failed: ${r.stderr}`);
  const out = r.stdout;
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const p50 = /\s50%\s+(\S+)/.exec(out)?.[1] ?? '?';
  const p99 = /\s99%\s+(\S+)/.exec(out)?.[1] ?? '?';
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1];
  const sockErr = /Socket errors: (.*)/.exec(out)?.[1];
  return {
    rps,
    p50,
    p99,
    errors: [non2xx ? `non-2xx ${non2xx}` : '', sockErr ?? ''].filter(Boolean).join('; ') || 'none',
  };
}

async function waitForPort(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`port ${port} never opened`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

if (!ensureWrk()) process.exit(2);
const upstream = await spawnNode(join(import.meta.dirname, 'upstream.lib.ts'));
const upstreamUrl = `http://127.0.0.1:${upstream.port}`;
const db = await benchDatabase(upstreamUrl);
const bare = await spawnNode(
  join(import.meta.dirname, 'bare-forwarder.lib.ts'),
  {},
  [],
  [upstreamUrl],
);
const berth = await startBerthProxyCommand(db.url, '1');
const berthAuto = await startBerthProxyCommand(db.url, 'auto');
const chpPort = await freePort();
const chp = spawn(
  process.execPath,
  [
    join(root, 'node_modules/configurable-http-proxy/bin/configurable-http-proxy'),
    '--ip',
    '127.0.0.1',
    '--port',
    String(chpPort),
    '--api-ip',
    '127.0.0.1',
    '--api-port',
    String(await freePort()),
    '--default-target',
    upstreamUrl,
    '--log-level',
    'error',
  ],
  { stdio: 'ignore', env: { ...process.env, CONFIGPROXY_AUTH_TOKEN: 'bench' } },
);
try {
  await waitForPort(chpPort);
  const auth = { Authorization: `Bearer ${db.token}` };
  const toolAuth = { ...auth, Host: TOOL_HOST };
  const targets = [
    { name: 'direct', url: `${upstreamUrl}/`, headers: auth },
    { name: 'configurable-http-proxy 5', url: `http://127.0.0.1:${chpPort}/`, headers: auth },
    { name: 'bare node:http + undici', url: `http://127.0.0.1:${bare.port}/`, headers: auth },
    { name: 'berth proxy, 1 worker', url: `http://127.0.0.1:${berth.port}/`, headers: toolAuth },
    {
      name: `berth proxy, ${availableParallelism()} workers`,
      url: `http://127.0.0.1:${berthAuto.port}/`,
      headers: toolAuth,
    },
  ];
  // Warm-up for each at full concurrency (JIT tiering, keep-alive pools, the proxy's
  // credential cache): a fresh berth proxy runs its first seconds measurably slower.
  for (const t of targets) wrk(t.url, t.headers, 3);

  // Interleaved rounds, median of each: all see the same background load.
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const runs: WrkResult[][] = targets.map(() => []);
  for (let i = 0; i < rounds; i++)
    for (const [j, t] of targets.entries()) runs[j]!.push(wrk(t.url, t.headers));
  const median = (rs: WrkResult[]) =>
    [...rs].sort((a, b) => a.rps - b.rps)[Math.floor(rs.length / 2)]!;
  const medians = runs.map(median);
  const [direct, viaChp, viaBare, viaBerth, viaAuto] = medians as [
    WrkResult,
    WrkResult,
    WrkResult,
    WrkResult,
    WrkResult,
  ];
  console.log(`median of ${rounds} interleaved rounds`);
  const row = (name: string, r: WrkResult) =>
    `${name.padEnd(26)} ${r.rps.toFixed(0).padStart(9)} req/s   p50 ${r.p50.padStart(8)}   p99 ${r.p99.padStart(8)}   errors: ${r.errors}`;
  console.log(
    `wrk -t2 -c${connections} -d${duration}s, small response, bearer token on every request`,
  );
  for (const [j, t] of targets.entries()) console.log(row(t.name, medians[j]!));
  console.log(
    `bare node:http + undici (the stack's floor): / direct = ${(viaBare.rps / direct.rps).toFixed(2)}`,
  );
  for (const [name, r] of [
    ['1 worker', viaBerth],
    [`${availableParallelism()} workers (auto)`, viaAuto],
  ] as const) {
    const vsDirect = r.rps / direct.rps;
    const vsChp = r.rps / viaChp.rps;
    console.log(
      `berth ${name}: / direct = ${vsDirect.toFixed(3)} (target >= 0.40) ${vsDirect >= 0.4 ? 'OK' : 'BELOW TARGET'};  / configurable-http-proxy = ${vsChp.toFixed(3)} (target >= 2.00) ${vsChp >= 2 ? 'OK' : 'BELOW TARGET'};  / bare = ${(r.rps / viaBare.rps).toFixed(2)}`,
    );
  }
} finally {
  chp.kill('SIGTERM');
  await bare.stop();
  await berth.stop();
  await berthAuto.stop();
  await upstream.stop();
  await db.stop();
}
