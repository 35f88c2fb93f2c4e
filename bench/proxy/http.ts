// HTTP throughput and latency under wrk, one upstream measured in one run:
// direct, through configurable-http-proxy 5.x (JupyterHub's proxy), through the
// bare node:http + undici forwarder (bare-forwarder.lib.ts: the floor of berth's
// stack) and through berth's proxy, all with an authenticated request (bearer
// token; the others just forward it). berth's proxy runs as `berth proxy` does in
// production, with one process (BERTH_PROXY_WORKERS=1, the default) and with one
// per CPU (auto).
//
// Two layouts, each in interleaved rounds (median of each):
// - shared: wrk, the upstream and the proxy all on every CPU, competing for them;
//   the proxy's CPU is taken from the upstream and wrk, so the ratio to direct also
//   depends on how cheap those two are.
// - pinned (Linux, >= 2 CPUs): wrk and the upstream on CPU 0, the proxy alone on
//   CPU 1, the usual way to benchmark a proxy (load generator, proxy and backend
//   apart) and the shape of production, where the proxy never shares a host with
//   the tools or the browsers. wrk and the upstream get the same CPU in every row.
// Each row also shows the CPU time per request of the proxy's processes and of the
// upstream (from /proc). Single rounds on a shared VM swing by ±30 % (req/s and
// CPU per request alike), so every ratio is printed round by round too, and the
// default is 7 rounds.
// wrk's latencies are at saturation (queueing); each layout then measures latency
// at a fixed offered load below every target's knee, open loop (open-loop.lib.ts):
// half of configurable-http-proxy's maximum, or BENCH_RATE req/s.
// Targets: berth >= 0.40 x direct and >= 2 x configurable-http-proxy, judged in the
// pinned layout (proxy/README.md, Performance); sharing the cores, the ratio to direct
// is bounded by the bare forwarder's, printed beside it.
// Env: BENCH_DURATION (s, default 5), BENCH_CONNECTIONS (default 50), BENCH_ROUNDS
// (default 7), BENCH_LAYOUTS (default "shared,pinned").
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../store/index.ts';
import { canPin, cpuSeconds, onCpu, pinTree, processTree } from './cpu.lib.ts';
import {
  benchDatabase,
  CHP_ENV,
  chpArgs,
  ensureWrk,
  spawnNode,
  startBerthProxyCommand,
  TOOL_HOST,
  waitForPort,
} from './setup.lib.ts';

const duration = Number(process.env.BENCH_DURATION ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
const layouts = (process.env.BENCH_LAYOUTS ?? 'shared,pinned').split(',');
const cpus = availableParallelism();

interface WrkResult {
  rps: number;
  requests: number;
  p50: string;
  p99: string;
  errors: string;
}

/** wrk against url; on `cpu` ("0") when given. */
function wrk(
  url: string,
  headers: Record<string, string>,
  seconds: number,
  cpu?: string,
): WrkResult {
  const args = ['-t2', `-c${connections}`, `-d${seconds}s`, '--latency'];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  const command = onCpu(['wrk', ...args, url], cpu);
  const r = spawnSync(command[0]!, command.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`wrk failed: ${r.stderr}`);
  const out = r.stdout;
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1];
  const sockErr = /Socket errors: (.*)/.exec(out)?.[1];
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]),
    requests: Number(/(\d+) requests in/.exec(out)?.[1]),
    p50: /\s50%\s+(\S+)/.exec(out)?.[1] ?? '?',
    p99: /\s99%\s+(\S+)/.exec(out)?.[1] ?? '?',
    errors: [non2xx ? `non-2xx ${non2xx}` : '', sockErr ?? ''].filter(Boolean).join('; ') || 'none',
  };
}

interface Target {
  name: string;
  url: string;
  headers: Record<string, string>;
  /** The proxy's main process (undefined: direct). */
  pid?: number;
}

interface Row extends WrkResult {
  /** CPU µs per request of the proxy's processes, and of the upstream. */
  proxyUs: number;
  upstreamUs: number;
}

function median<T>(items: T[], by: (t: T) => number): T {
  return [...items].sort((a, b) => by(a) - by(b))[Math.floor(items.length / 2)]!;
}

if (!ensureWrk()) process.exit(2);
const upstream = await spawnNode(join(import.meta.dirname, 'upstream.lib.ts'));
const upstreamPid = upstream.proc.pid!;
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
const chp: ChildProcess = spawn(process.execPath, chpArgs(chpPort, await freePort(), upstreamUrl), {
  stdio: 'ignore',
  env: { ...process.env, ...CHP_ENV },
});

interface Measured {
  /** The median row of each target. */
  rows: Row[];
  /** Every round's row of each target: runs[target][round]. */
  runs: Row[][];
}

/** Warm-up, then interleaved rounds, each in a rotated order. */
function measure(targets: Target[], wrkCpu?: string): Measured {
  // Full concurrency first for each (JIT tiering, keep-alive pools, the proxy's
  // credential cache): a fresh berth proxy runs its first seconds measurably slower.
  for (const t of targets) wrk(t.url, t.headers, 3, wrkCpu);
  const trees = targets.map((t) => (t.pid === undefined ? [] : processTree(t.pid)));
  const runs: Row[][] = targets.map(() => []);
  for (let i = 0; i < rounds; i++) {
    // Each round starts one target further on and every other one runs backwards, so
    // no target always goes first or always follows the same one: whatever a round's
    // position costs (the previous target's connections closing, say) falls on all.
    const order = targets.map((_, k) => (i + k) % targets.length);
    if (i % 2 === 1) order.reverse();
    for (const j of order) {
      const t = targets[j]!;
      const proxy0 = cpuSeconds(trees[j]!);
      const upstream0 = cpuSeconds([upstreamPid]);
      const r = wrk(t.url, t.headers, duration, wrkCpu);
      const per = (s: number) => (s * 1e6) / r.requests;
      runs[j]!.push({
        ...r,
        proxyUs: per(cpuSeconds(trees[j]!) - proxy0),
        upstreamUs: per(cpuSeconds([upstreamPid]) - upstream0),
      });
    }
  }
  const rows = runs.map((rs) => ({
    ...median(rs, (r) => r.rps),
    proxyUs: median(rs, (r) => r.proxyUs).proxyUs,
    upstreamUs: median(rs, (r) => r.upstreamUs).upstreamUs,
  }));
  return { rows, runs };
}

/**
 * Targets (and their rows) always start with direct, configurable-http-proxy, bare.
 * The ratios are of the medians (the verdicts use them), each followed by the same
 * ratio round by round: both targets measured seconds apart, so the spread of those
 * shows how far this machine's noise reaches into a single figure.
 */
function report(layout: string, targets: Target[], { rows, runs }: Measured): void {
  console.log(`\n${layout}: median of ${rounds} interleaved rounds`);
  console.log(
    `${'target'.padEnd(28)} ${'req/s'.padStart(9)} ${'p50'.padStart(9)} ${'p99'.padStart(9)}  ${'proxy CPU/req'.padStart(13)}  ${'upstream CPU/req'.padStart(16)}  errors`,
  );
  for (const [j, t] of targets.entries()) {
    const r = rows[j]!;
    const proxyCpu = t.pid === undefined ? '-' : `${r.proxyUs.toFixed(1)} µs`;
    console.log(
      `${t.name.padEnd(28)} ${r.rps.toFixed(0).padStart(9)} ${r.p50.padStart(9)} ${r.p99.padStart(9)}  ${proxyCpu.padStart(13)}  ${`${r.upstreamUs.toFixed(1)} µs`.padStart(16)}  ${r.errors}`,
    );
  }
  /** "a / b = median ratio (round by round: ...)" of targets `of` and `to`, by `by`. */
  const ratio = (of: number, to: number, by: (r: Row) => number) => {
    const each = runs[of]!.map((r, i) => (by(r) / by(runs[to]![i]!)).toFixed(2)).join(' ');
    const value = by(rows[of]!) / by(rows[to]!);
    return { value, text: `${value.toFixed(2)} (by round: ${each})` };
  };
  const rps = (r: Row) => r.rps;
  const floor = ratio(2, 0, rps);
  console.log(`bare node:http + undici (the stack's floor) / direct = ${floor.text}`);
  for (const [j, t] of targets.entries()) {
    if (!t.name.startsWith('berth')) continue;
    const verdict = (ok: boolean) => (ok ? 'OK' : 'BELOW TARGET');
    const vsDirect = ratio(j, 0, rps);
    const vsChp = ratio(j, 1, rps);
    const vsBare = ratio(j, 2, rps);
    // CPU per request the other way round: configurable-http-proxy's over berth's.
    const cpu = ratio(1, j, (r) => r.proxyUs);
    console.log(`${t.name}:`);
    console.log(
      `  / direct                  = ${vsDirect.text}  target >= 0.40 ${verdict(vsDirect.value >= 0.4)}`,
    );
    console.log(
      `  / configurable-http-proxy = ${vsChp.text}  target >= 2.00 ${verdict(vsChp.value >= 2)}`,
    );
    console.log(`  / bare                    = ${vsBare.text}`);
    console.log(`  CPU per request, configurable-http-proxy / berth = ${cpu.text}`);
  }
}

interface OpenLoopResult {
  sent: number;
  ok: number;
  errors: number;
  p50: number;
  p99: number;
  p999: number;
}

/** Latency of each target at `rate` req/s, open loop; the load generator on `cpu` when given. */
function latencies(targets: Target[], rate: number, cpu?: string): void {
  const script = join(import.meta.dirname, 'open-loop.lib.ts');
  console.log(
    `latency at ${rate} req/s offered, open loop, ${duration} s each (${process.env.BENCH_RATE ? 'BENCH_RATE' : "half of configurable-http-proxy's maximum above"}):`,
  );
  const results: OpenLoopResult[] = [];
  for (const t of targets) {
    const node = [process.execPath, '--disable-warning=ExperimentalWarning', script];
    const args = [...node, t.url, String(rate), String(duration), JSON.stringify(t.headers)];
    const command = onCpu(args, cpu);
    const r = spawnSync(command[0]!, command.slice(1), { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`open-loop load failed: ${r.stderr}`);
    const result = JSON.parse(r.stdout) as OpenLoopResult;
    results.push(result);
    const ms = (v: number) => `${v.toFixed(2)} ms`.padStart(9);
    console.log(
      `${t.name.padEnd(28)} p50 ${ms(result.p50)}   p99 ${ms(result.p99)}   p99.9 ${ms(result.p999)}   ${result.ok}/${result.sent} ok, errors ${result.errors}`,
    );
  }
  const direct = results[0]!;
  for (const [j, t] of targets.entries()) {
    if (!t.name.startsWith('berth')) continue;
    const r = results[j]!;
    console.log(
      `${t.name}: adds ${(r.p50 - direct.p50).toFixed(2)} ms at p50 and ${(r.p99 - direct.p99).toFixed(2)} ms at p99 to direct`,
    );
  }
}

/** Half of configurable-http-proxy's req/s (rows as in report()), or BENCH_RATE. */
function offeredRate(rows: Row[]): number {
  const fixed = Number(process.env.BENCH_RATE);
  if (fixed > 0) return fixed;
  const [, viaChp] = rows as [Row, Row];
  return Math.max(100, Math.round(viaChp.rps / 2 / 100) * 100);
}

try {
  await waitForPort(chpPort);
  const auth = { Authorization: `Bearer ${db.token}` };
  const toolAuth = { ...auth, Host: TOOL_HOST };
  const direct: Target = { name: 'direct', url: `${upstreamUrl}/`, headers: auth };
  const proxies: Target[] = [
    {
      name: 'configurable-http-proxy 5',
      url: `http://127.0.0.1:${chpPort}/`,
      headers: auth,
      pid: chp.pid!,
    },
    {
      name: 'bare node:http + undici',
      url: `http://127.0.0.1:${bare.port}/`,
      headers: auth,
      pid: bare.proc.pid!,
    },
    {
      name: 'berth proxy, 1 worker',
      url: `http://127.0.0.1:${berth.port}/`,
      headers: toolAuth,
      pid: berth.proc.pid!,
    },
  ];
  const auto: Target = {
    name: `berth proxy, ${cpus} workers`,
    url: `http://127.0.0.1:${berthAuto.port}/`,
    headers: toolAuth,
    pid: berthAuto.proc.pid!,
  };
  console.log(
    `wrk -t2 -c${connections} -d${duration}s, small response, bearer token on every request; ${cpus} CPUs`,
  );
  if (layouts.includes('shared')) {
    const targets = [direct, ...proxies, auto];
    const measured = measure(targets);
    report('shared (every process on every CPU)', targets, measured);
    latencies(targets, offeredRate(measured.rows));
  }
  if (layouts.includes('pinned')) {
    if (!canPin(cpus)) {
      console.log('\npinned: skipped (needs Linux, taskset and at least 2 CPUs)');
    } else {
      // One proxy process at a time owns CPU 1; the workers of `auto` would only
      // share it, so that row is left out here.
      pinTree(upstreamPid, '0');
      for (const p of proxies) pinTree(p.pid!, '1');
      const targets = [direct, ...proxies];
      const measured = measure(targets, '0');
      report('pinned (wrk and the upstream on CPU 0, the proxy alone on CPU 1)', targets, measured);
      latencies(targets, offeredRate(measured.rows), '0');
    }
  }
} finally {
  chp.kill('SIGTERM');
  await bare.stop();
  await berth.stop();
  await berthAuto.stop();
  await upstream.stop();
  await db.stop();
}
